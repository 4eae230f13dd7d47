"""`vnuma show`: guests placed in order on a host, drawn as text (SVG/HTML: test_render_svg)."""

from __future__ import annotations

from pathlib import Path

from vnuma.commands.show import load_view
from vnuma.view.text import render_text

from tests.conftest import HOSTS, INTENTS, SAMPLES

XEON = HOSTS / "2s-xeon.xml"
AUTO = INTENTS / "auto-dedicated.yaml"


def test_two_guests_placed_one_after_the_other(snapshot, tmp_path: Path) -> None:
    # a second guest like the first (two files with one name would be one guest, VN505)
    second_intent = tmp_path / "db-auto-2.yaml"
    text = AUTO.read_text(encoding="utf-8").replace("name: db-auto", "name: db-auto-2")
    second_intent.write_text(text.replace("../hosts/", f"{HOSTS}/"), encoding="utf-8")
    view, diagnostics = load_view(XEON, [AUTO, second_intent])
    assert [d for d in diagnostics if d.severity.label == "error"] == []
    text = render_text(view)
    assert text == snapshot
    first = {p.vcpu: cpu.id for n in view.nodes for cpu in n.cpus for p in cpu.pins if p.guest == 0}
    second = {
        p.vcpu: cpu.id for n in view.nodes for cpu in n.cpus for p in cpu.pins if p.guest == 1
    }
    assert len(first) == len(second) == 16
    assert not set(first.values()) & set(second.values())


def test_seats_do_not_depend_on_file_order_or_where_the_files_live(tmp_path: Path) -> None:
    # auto intents are seated by guest name: CI's clean clone lives elsewhere than a
    # developer's checkout, and `lint b a` must place like `lint a b`
    texts = {}
    for folder, name in ((tmp_path / "a", "zz-first-on-disk"), (tmp_path / "z", "aa-last-on-disk")):
        folder.mkdir()
        text = AUTO.read_text(encoding="utf-8").replace("name: db-auto", f"name: {name}")
        (folder / f"{name}.yaml").write_text(text.replace("../hosts/", f"{HOSTS}/"), "utf-8")
        texts[name] = folder / f"{name}.yaml"
    pairs = [texts["zz-first-on-disk"], texts["aa-last-on-disk"]]
    forward, _ = load_view(XEON, pairs)
    backward, _ = load_view(XEON, pairs[::-1])

    def seats(view) -> dict[str, list[int]]:
        names = {i: g.name for i, g in enumerate(view.guests)}
        found: dict[str, list[int]] = {}
        for node in view.nodes:
            for cpu in node.cpus:
                for pin in cpu.pins:
                    found.setdefault(names[pin.guest], []).append(cpu.id)
        return {name: sorted(cpus) for name, cpus in found.items()}

    assert seats(forward) == seats(backward)
    assert min(seats(forward)["aa-last-on-disk"]) < min(seats(forward)["zz-first-on-disk"])


def test_every_line_fits_100_columns_and_no_colour_unless_asked() -> None:
    view, _ = load_view(HOSTS / "epyc-nps4.xml", [INTENTS / "auto-epyc-isolate.yaml"])
    text = render_text(view)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "\033[" not in text
    assert "\033[" in render_text(view, colour=True)


def test_conflicts_and_overcommit_are_marked(snapshot) -> None:
    guests = [SAMPLES / "negative" / "hv01" / name for name in ("db01.xml", "db02.xml")]
    view, diagnostics = load_view(XEON, guests)
    text = render_text(view)
    assert "!" in text.splitlines()[2]  # host CPUs 4-5 are pinned by both guests
    assert {d.code for d in diagnostics} >= {"VN501", "VN503"}
    assert "! VN501 samples/negative/hv01/db01.xml: host CPU(s) 4-5 pinned exclusively" in text
    # at 80 columns (pytest's, no terminal) node 0's line wraps onto a second line
    assert "OVER" in text.splitlines()[2] and "OVER" in text.splitlines()[5]
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text == snapshot


def test_cli_text_and_exit_status(run_cli) -> None:
    clean = run_cli("show", "--host", XEON, AUTO)
    assert clean.code == 0
    assert clean.out.startswith("host samples/hosts/2s-xeon.xml (x86_64): 2 nodes, 80 CPUs\n")
    conflict = run_cli(
        "show",
        "--host",
        XEON,
        *(SAMPLES / "negative" / "hv01" / n for n in ("db01.xml", "db02.xml")),
    )
    assert conflict.code == 1


def test_cli_guest_that_does_not_fit(run_cli) -> None:
    result = run_cli("show", "--host", HOSTS / "laptop-1n.xml", AUTO)
    assert result.code == 1
    assert "VN602" in result.err and "cannot be shown" in result.err


def test_cli_needs_a_known_output_type(run_cli, tmp_path: Path) -> None:
    assert run_cli("show", "--host", XEON, "-o", tmp_path / "view.png").code == 2


def test_a_preferred_guests_huge_pages_are_drawn_in_its_nodes_pool(tmp_path: Path) -> None:
    """Huge pages of a guest that prefers node 1 come from node 1's pool while it lasts
    (the capacity model's layout, which placement subtracts too), not from node 0's."""
    intent = tmp_path / "pref.yaml"
    intent.write_text(
        "version: 1\nvcpus: 2\nmemory: 8GiB\n"
        'numatune: {mode: preferred, nodeset: "1"}\nhugepages: {size: 1GiB}\n',
        encoding="utf-8",
    )
    view, _ = load_view(XEON, [intent])
    used = {node.id: {p.size_kib: p.used_by_guests for p in node.pools} for node in view.nodes}
    assert used[1][1048576] == 8 and used[0][1048576] == 0, used
