"""Command line: `vnuma compile | lint | fit | show | capture | host | schema | explain | rules`.

Exit status: 0 no errors (warnings allowed), 1 errors found (a malformed input is a
finding too), 2 usage error, unreadable file or internal error. Heavy modules are
imported inside the commands so that startup stays fast for pre-commit hooks.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from vnuma import __version__
from vnuma.diagnostics import Severity

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STDIN = "-"
"""`vnuma compile -` reads the intent from stdin."""


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line. Given the arguments, only the subcommand they name is built (a
    pre-commit run pays for one subparser, not nine); `vnuma -h`, an unknown command or
    none at all gets them all, so help and argparse's errors list every command."""
    parser = argparse.ArgumentParser(
        prog="vnuma",
        description="Compile and lint guest NUMA placement for libvirt/KVM.",
        formatter_class=_Formatter,
        epilog="example:\n  vnuma compile samples/intents/db-strict.yaml "
        "--host samples/hosts/2s-xeon.xml\n\n`vnuma COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"vnuma {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    _add_colour_option(parser, default="auto")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = _named_command(argv)
    for names, add in _SUBPARSERS:
        if named is None or named in names:
            add(commands)
    return parser


_GLOBAL_VALUED = frozenset({"--color"})
"""Global options that take a value (the next argument)."""


def _named_command(argv: Sequence[str] | None) -> str | None:
    """The subcommand the arguments name: the first argument that is not a global option
    (or a global option's value), when it is a command's name."""
    known = {name for names, _ in _SUBPARSERS for name in names}
    tokens = iter(argv if argv is not None else sys.argv[1:])
    for token in tokens:
        if token in _GLOBAL_VALUED:
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in known else None  # unknown: argparse lists them all
    return None


def _command(
    commands: Any, name: str, summary: str, example: str, details: str = ""
) -> argparse.ArgumentParser:
    """A subcommand whose --help starts with a one-line description (``summary``, also its
    line in `vnuma -h`) and ends with an example; ``details`` is a paragraph between them."""
    description = summary[0].upper() + summary[1:] + "."
    if details:
        description += "\n\n" + details
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=_ParagraphFormatter,
    )
    return parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's raw-description formatter, sized to the terminal as argparse sizes it
    (its columns less 2) without the shutil import argparse makes for every argument."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        from vnuma.view.terminal import terminal_columns

        if width is None:
            width = terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _ParagraphFormatter(_Formatter):
    """Wraps each one-line paragraph of a description to the help's width, and keeps a
    paragraph laid out by hand (the example) as written. Wrapping happens only when help
    is shown, so a run that shows none never imports textwrap."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        return "\n\n".join(
            paragraph
            if "\n" in paragraph
            else textwrap.fill(paragraph, width, initial_indent=indent, subsequent_indent=indent)
            for paragraph in text.split("\n\n")
        )


def _add_compile_parser(commands: Any) -> None:
    compile_cmd = _command(
        commands,
        "compile",
        "compile an intent into libvirt domain XML",
        "vnuma compile samples/intents/db-strict.yaml --host samples/hosts/2s-xeon.xml -o db.xml",
        "Checks an intent (YAML/TOML) against a host snapshot and prints libvirt domain XML "
        "on stdout (or -o FILE); diagnostics go to stderr. The host is --host, else the "
        "intent's `host:`, else the configuration's [[hosts]] mapping; without one, host "
        "checks are skipped (--local-host checks the machine vnuma runs on).",
    )
    compile_cmd.add_argument(
        "intent",
        type=Path,
        help="intent file (.yaml, .yml or .toml), or - to read the intent from stdin "
        "(shown as <stdin>; a relative `host:` is relative to the working directory)",
    )
    compile_cmd.add_argument(
        "--stdin-format",
        choices=("yaml", "toml"),
        help="the language of an intent read from stdin (`compile -`; default yaml)",
    )
    compile_cmd.add_argument(
        "--host",
        type=Path,
        metavar="CAPS.xml",
        help="host snapshot (`virsh capabilities` or `vnuma capture`); overrides the intent's "
        "`host:` and the configuration's [[hosts]] mapping",
    )
    local = compile_cmd.add_mutually_exclusive_group()
    local.add_argument(
        "--local-host",
        action="store_true",
        help="without --host, `host:` or a [[hosts]] mapping, check against the machine "
        "vnuma runs on (read from sysfs, or VNUMA_SYSFS_ROOT)",
    )
    local.add_argument(
        "--sysfs-root",
        type=Path,
        metavar="DIR",
        help="like --local-host, reading this sysfs tree (default /sys/devices/system)",
    )
    local.add_argument(
        "--no-host",
        action="store_true",
        help="do not check against this machine (the default now; kept for existing scripts)",
    )
    compile_cmd.add_argument(
        "--domain",
        type=Path,
        metavar="BASE.xml",
        help="a full domain definition whose NUMA elements are replaced",
    )
    compile_cmd.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the XML here, not stdout"
    )
    compile_cmd.add_argument(
        "--in-place",
        action="store_true",
        help="rewrite the --domain file itself (atomically, only when there are no errors; "
        "everything outside the NUMA elements is kept)",
    )
    compile_cmd.add_argument(
        "--occupied",
        type=Path,
        action="append",
        default=[],
        metavar="VM",
        help="a guest already on the host (domain XML or intent; repeatable): placement "
        "avoids its dedicated CPUs and bound memory",
    )
    compile_cmd.add_argument(
        "--explain",
        action="store_true",
        help="print each placement decision (why this node, why that CPU) on stderr",
    )
    compile_cmd.add_argument(
        "--libvirt-schemas",
        type=Path,
        metavar="DIR",
        help="libvirt RelaxNG schemas (default /usr/share/libvirt/schemas)",
    )
    compile_cmd.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how diagnostics are written to stderr (default text; json: the list `vnuma "
        "lint --format json` prints, and nothing else on stderr)",
    )
    _add_cache_option(compile_cmd)


def _add_fit_parser(commands: Any) -> None:
    fit_cmd = _command(
        commands,
        "fit",
        "say which hosts can take an intent, and with what placement",
        "vnuma fit samples/intents/auto-dedicated.yaml --host samples/hosts",
        "Places the intent on each host snapshot (files or directories of `virsh "
        "capabilities` XML) and says which can take it.",
    )
    fit_cmd.add_argument("intent", type=Path, help="intent file (.yaml, .yml or .toml)")
    fit_cmd.add_argument(
        "--host",
        type=Path,
        action="append",
        default=[],
        metavar="CAPS",
        help="host snapshot or directory of snapshots (repeatable; default: the intent's host:)",
    )
    fit_cmd.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="a table for people (default) or JSON, one entry per host",
    )
    _add_cache_option(fit_cmd)


def _add_show_parser(commands: Any) -> None:
    show_cmd = _command(
        commands,
        "show",
        "draw a host's NUMA topology and where guests land (text, SVG or HTML)",
        "vnuma show --host samples/hosts/2s-xeon.xml samples/intents/auto-dedicated.yaml "
        "-o view.html",
        "Places the given intents (each beside the previous ones) or reads the given domain "
        "XMLs on the host, and draws the result: text on the terminal, or an SVG or HTML "
        "file with -o. The host is --host, else the guests' `host:`, else the "
        "configuration's [[hosts]] mapping.",
    )
    show_cmd.add_argument(
        "guests", nargs="*", type=Path, metavar="GUEST", help="intents or domain XMLs"
    )
    show_cmd.add_argument(
        "--host",
        type=Path,
        metavar="CAPS.xml",
        help="host snapshot to draw (default: the host the guests' `host:` or the "
        "configuration's [[hosts]] mapping names)",
    )
    show_cmd.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write view.svg or view.html (atomically)"
    )
    _add_colour_option(show_cmd, default=argparse.SUPPRESS)
    _add_cache_option(show_cmd)


def _add_host_parser(commands: Any) -> None:
    host_cmd = _command(
        commands,
        "host",
        "show a host snapshot's NUMA topology (or this machine's)",
        "vnuma host samples/hosts/epyc-nps4.xml",
        "Nodes, CPUs by core, memory, huge page pools, free memory and distances: of a "
        "snapshot, or of the machine vnuma runs on (read from sysfs) when none is given.",
    )
    host_cmd.add_argument(
        "snapshot",
        type=Path,
        nargs="?",
        help="XML from `virsh capabilities` or `vnuma capture` (default: this machine, from sysfs)",
    )
    host_cmd.add_argument(
        "--sysfs-root", type=Path, metavar="DIR", help="read this sysfs tree instead of a snapshot"
    )
    host_cmd.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="a summary for people (default) or the topology as JSON",
    )
    _add_cache_option(host_cmd)


def _add_capture_parser(commands: Any) -> None:
    capture_cmd = _command(
        commands,
        "capture",
        "save this host's topology and free memory as a snapshot (libvirt or sysfs)",
        "vnuma capture -o host.xml",
        "Writes the host's `virsh capabilities` document plus the free memory and free huge "
        "pages per node (as processing instructions, so the file stays a valid capabilities "
        "document). Uses libvirt-python (from a checkout: pip install '.[libvirt]'), or Linux "
        "sysfs with --sysfs.",
    )
    source = capture_cmd.add_mutually_exclusive_group()
    source.add_argument(
        "-c", "--connect", metavar="URI", help="libvirt URI (default: libvirt's default)"
    )
    source.add_argument(
        "--sysfs", action="store_true", help="read Linux sysfs instead of libvirt (no libvirt)"
    )
    capture_cmd.add_argument(
        "--sysfs-root",
        type=Path,
        metavar="DIR",
        help="the sysfs tree to read (implies --sysfs; default /sys/devices/system)",
    )
    capture_cmd.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (atomically), not stdout"
    )


def _add_reference_parsers(commands: Any) -> None:
    """schema, explain, rules: what vnuma knows, for editors and people."""
    _command(
        commands,
        "schema",
        "print the intent JSON Schema (for editors)",
        "vnuma schema > intent-v1.schema.json",
        "The JSON Schema 2020-12 document that defines the intent language; point an "
        "editor's YAML language server at it for completion and checks while typing.",
    )
    explain_cmd = _command(
        commands,
        "explain",
        "show a rule's documentation",
        "vnuma explain VN104",
        "What the rule checks, why, an example and the fix.",
    )
    explain_cmd.add_argument("code", help="rule code, e.g. VN104, or its name")
    rules_cmd = _command(
        commands,
        "rules",
        "list every rule with its code, name and default severity",
        "vnuma rules --format markdown > docs/rules.md",
    )
    rules_cmd.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text: one rule a line, wrapped to the terminal (default); markdown: the full "
        "reference, as in docs/rules.md",
    )


def _add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="parse host snapshots afresh, without the cache in $XDG_CACHE_HOME/vnuma "
        "(also VNUMA_NO_CACHE=1)",
    )


def _add_colour_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=default,
        help="colour diagnostics (default: auto, only on a terminal)",
    )


def _add_lint_parser(commands: Any) -> None:
    lint_cmd = _command(
        commands,
        "lint",
        "check intents and libvirt domain XMLs (files or directories)",
        "vnuma lint vms/ --host hosts/hv01.xml --format sarif > vnuma.sarif",
        "Checks vnuma intents (.yaml/.yml/.toml) and libvirt domain XML (.xml) against their "
        "host snapshots, one by one and all guests of a host together. The host is --host, "
        "else an intent's `host:`, else the configuration's [[hosts]] mapping; without one, "
        "host checks are skipped and a note says so.",
    )
    lint_cmd.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="files or directories (default: .)"
    )
    lint_cmd.add_argument(
        "--host", type=Path, metavar="CAPS.xml", help="check every file against this host snapshot"
    )
    lint_cmd.add_argument(
        "--format",
        choices=("auto", "text", "json", "sarif", "github"),
        default="auto",
        help="output format (default: auto = github under GitHub Actions, else text)",
    )
    lint_cmd.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings too, not only errors"
    )
    lint_cmd.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when findings are reported"
    )
    lint_cmd.add_argument(
        "--config", type=Path, metavar="FILE", help="use this vnuma.toml / pyproject.toml"
    )
    lint_cmd.add_argument(
        "--isolated", action="store_true", help="ignore configuration files, use the defaults"
    )
    lint_cmd.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply the configured `exclude` to paths given on the command line too",
    )
    _add_colour_option(lint_cmd, default=argparse.SUPPRESS)
    lint_cmd.add_argument(
        "-q", "--quiet", action="store_true", help="no notes on stderr about skipped files"
    )
    lint_cmd.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="lint files in N processes (default 1; 0: one per CPU); the output is the same",
    )
    _add_cache_option(lint_cmd)


def _jobs(value: str) -> int:
    """-j N: a count of processes, 0 meaning one per available CPU."""
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, not {value!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (one per CPU) or more, not {jobs}")
    if jobs == 0:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    return jobs


_SUBPARSERS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("compile",), _add_compile_parser),
    (("lint",), _add_lint_parser),
    (("fit",), _add_fit_parser),
    (("show",), _add_show_parser),
    (("host",), _add_host_parser),
    (("capture",), _add_capture_parser),
    (("schema", "explain", "rules"), _add_reference_parsers),
)
"""Each subcommand's parser, in `vnuma -h` order (the reference commands are built together)."""


def run() -> None:
    """The `vnuma` command and `python -m vnuma`: `main`, then the process ends without
    the interpreter's teardown (freeing every module and every result of the run, ~15 ms
    of a pre-commit run and more for a large fleet). Nothing of vnuma's needs it: every
    file it writes is closed when `main` returns, it registers no exit handler, and its
    -j workers have been joined. argparse's own exits (--help, usage errors) end the
    process as usual."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # the reader went away (`| head`): as when it happens inside main
    except OSError as exc:  # e.g. the output redirected to a full disk
        code = _cannot_write(exc)
    os._exit(code)


# What writing the output can fail with and reading never does (vnuma's own files are
# written atomically, each with its own message, and a cache that cannot be written is
# skipped): the output went to a full disk, a quota or a file size limit.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _cannot_write(exc: OSError) -> int:
    with suppress(OSError):
        os.write(2, f"vnuma: cannot write the output: {exc}\n".encode(errors="replace"))
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser(argv)
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.errno in _OUTPUT_ERRNOS:
            return _cannot_write(exc)
        return _internal_error(exc, args)
    except ImportError as exc:
        missing = _missing_dependency(exc)
        if missing is None:
            return _internal_error(exc, args)
        if args.debug:
            import traceback

            traceback.print_exc()
        return _usage(missing)
    except Exception as exc:
        return _internal_error(exc, args)


def _internal_error(exc: Exception, args: argparse.Namespace) -> int:
    subject = getattr(args, "intent", None) or getattr(args, "snapshot", None)
    subject = subject or getattr(args, "current_file", None)
    where = f" while processing {subject}" if subject else ""
    print(
        f"vnuma: internal error{where}, please report: {type(exc).__name__}: {exc}",
        file=sys.stderr,
    )
    if args.debug:
        import traceback

        traceback.print_exc()
    else:
        print("vnuma: run with --debug for the traceback", file=sys.stderr)
    return EXIT_USAGE


# The import name of each runtime dependency, and what to install (pyproject.toml's
# [project] dependencies; tests/test_first_contact_cli.py keeps the two in step).
DEPENDENCIES = {
    "jinja2": "jinja2>=3.1",
    "markupsafe": "jinja2>=3.1",
    "lxml": "lxml>=4.9",
    "yaml": "pyyaml>=6.0",
}


def _missing_dependency(exc: ImportError) -> str | None:
    """The one-line message for a runtime dependency that cannot be imported; None when
    the failing import is not one (vnuma's own modules: a bug or a broken install)."""
    import re

    name = exc.name
    if name is None:  # raised by hand, or by a package's own __init__
        found = re.search(r"No module named '?([\w.]+)", str(exc))
        name = found.group(1) if found else None
    top = (name or "").partition(".")[0]
    if not top or top == "vnuma":
        return None
    requirement = DEPENDENCIES.get(top.lower(), top)
    return (
        f"the Python module {top!r} cannot be imported ({exc}); vnuma needs it: "
        f"{sys.executable} -m pip install '{requirement}'"
    )


def _use_colour(args: argparse.Namespace, stream: Any = None) -> bool:
    colour: str = args.color
    if colour != "auto":
        return colour == "always"
    interactive: bool = (stream or sys.stderr).isatty()
    return interactive and "NO_COLOR" not in os.environ


def _print_diagnostics(diagnostics: Sequence[Any], args: argparse.Namespace) -> None:
    from vnuma.report.formats import render_text

    text = render_text(diagnostics, colour=_use_colour(args))
    if text:
        sys.stderr.write(text)


def _cmd_compile(args: argparse.Namespace) -> int:
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError

    problem = _compile_usage_problem(args)
    if problem:
        return _usage(problem)
    if args.in_place:
        args.output = args.domain
    try:
        if str(args.intent) == STDIN:
            return _compile_stdin(args)
        return _compile(args, args.intent)
    except (UnreadableInput, ConfigError) as exc:
        return _usage(str(exc))


def _compile_usage_problem(args: argparse.Namespace) -> str | None:
    intent: Path = args.intent
    if str(intent) != STDIN and intent.is_dir():
        return (
            f"{intent}: is a directory; compile takes one intent file; "
            f"use `vnuma lint {intent}` for a tree"
        )
    if str(intent) != STDIN and intent.suffix.lower() not in (".yaml", ".yml", ".toml"):
        return f"{intent}: the intent must be a .yaml, .yml or .toml file"
    if args.stdin_format is not None and str(intent) != STDIN:
        return f"--stdin-format is for an intent read from stdin (`compile -`), not {intent}"
    if args.in_place and (args.domain is None or args.output is not None):
        return "--in-place rewrites the --domain file: give --domain, and no -o"
    if args.explain and args.format == "json":
        return "--explain prints text on stderr: use it with --format text"
    return None


def _compile_stdin(args: argparse.Namespace) -> int:
    """`compile -`: the intent is read from stdin into a temporary file that the runner
    shows as <stdin>, as if it lay in the working directory."""
    import tempfile

    from vnuma.load.text import MAX_BYTES_VARIABLE, max_input_bytes

    limit = max_input_bytes()
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        return _usage(
            f"<stdin>: larger than the {limit} byte limit (set {MAX_BYTES_VARIABLE} to change it)"
        )
    with tempfile.TemporaryDirectory(prefix="vnuma-stdin-") as folder:
        copy = Path(folder) / f"stdin.{args.stdin_format or 'yaml'}"
        copy.write_bytes(data)
        return _compile(args, copy, shown="<stdin>")


def _compile(args: argparse.Namespace, intent: Path, shown: str | None = None) -> int:
    """Raises UnreadableInput and ConfigError (usage errors)."""
    from vnuma.runner import CompileOptions, compile_intent

    options = CompileOptions(
        intent_path=intent,
        intent_shown=shown,
        host_path=args.host,
        local_host=args.local_host,
        sysfs_root=args.sysfs_root,
        domain_path=args.domain,
        schema_dir=args.libvirt_schemas,
        output_name=str(args.output) if args.output else "<stdout>",
        occupied=tuple(args.occupied),
        use_cache=not args.no_cache,
    )
    outcome = compile_intent(options)
    _report_compile(outcome, args)
    if outcome.xml is None:
        return EXIT_FINDINGS
    if args.output:
        try:
            _write_atomically(args.output, outcome.xml, outcome.encoding)
        except OSError as exc:
            return _usage(f"{args.output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(outcome.xml)
        sys.stdout.flush()
    return EXIT_OK


def _report_compile(outcome: Any, args: argparse.Namespace) -> None:
    """Diagnostics on stderr: text with the placement trace, notes and a summary, or the
    JSON list alone (so that stderr parses)."""
    from vnuma.report.formats import count_summary, render_json

    if args.format == "json":
        sys.stderr.write(render_json(outcome.diagnostics))
        return
    if args.explain:
        for step in outcome.trace or ["nothing to place: the intent decides every node and CPU"]:
            print(f"explain: {step}", file=sys.stderr)
    _print_diagnostics(outcome.diagnostics, args)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if outcome.diagnostics:
        print(count_summary(outcome.diagnostics), file=sys.stderr)


def _write_atomically(path: Path, text: str, encoding: str = "utf-8") -> None:
    from vnuma.report.output import write_atomically

    write_atomically(path, text.encode(encoding, errors="xmlcharrefreplace"))


def _cmd_lint(args: argparse.Namespace) -> int:
    from vnuma.commands.lint import LintOptions, host_rules_note, lint, skipped_notes, summary_line
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError
    from vnuma.report.formats import render, resolve_format

    try:
        options = LintOptions(
            paths=tuple(args.paths) or (Path("."),),
            config=_lint_config(args),
            host_path=args.host,
            force_exclude=args.force_exclude,
            jobs=args.jobs,
            use_cache=not args.no_cache,
        )
        report = lint(options)
    except (ConfigError, UnreadableInput) as exc:
        return _usage(str(exc))
    fmt = resolve_format(args.format, os.environ)
    if not args.quiet:
        for note in skipped_notes(report):
            print(f"note: {note}", file=sys.stderr)
    without_host = host_rules_note(report)
    if without_host:
        print(f"note: {without_host}", file=sys.stderr)
    summary = summary_line(report) if fmt == "text" else ""
    output = render(fmt, report.diagnostics, colour=_use_colour(args, sys.stdout), summary=summary)
    sys.stdout.write(output)
    sys.stdout.flush()
    threshold = Severity.WARNING if args.strict else Severity.ERROR
    failed = any(d.severity >= threshold for d in report.diagnostics)
    return EXIT_FINDINGS if failed and not args.exit_zero else EXIT_OK


def _lint_config(args: argparse.Namespace) -> Any:
    """An explicit configuration, or None to use the closest one to each file."""
    from vnuma import codes
    from vnuma.report.config import default_config, load_config

    cwd = Path.cwd()
    if args.isolated:
        return default_config(cwd)
    if args.config is None:
        return None
    return load_config(args.config, cwd=cwd, known_codes=[c.code for c in codes.ALL])


def _cmd_fit(args: argparse.Namespace) -> int:
    from vnuma.commands.fit import fit_hosts, render_json, render_table, snapshot_paths
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError
    from vnuma.runner import load_guest_file, report_file

    try:
        loaded = load_guest_file(args.intent)
        if loaded.written is None:
            _print_diagnostics(report_file(loaded), args)
            return EXIT_FINDINGS
        given = list(args.host) or ([loaded.host_ref] if loaded.host_ref else [])
        if not given:
            return _usage("give host snapshots with --host (files or directories)")
        fits = fit_hosts(loaded, snapshot_paths(given), use_cache=not args.no_cache)
    except (UnreadableInput, ConfigError) as exc:
        return _usage(str(exc))
    sys.stdout.write(render_json(fits) if args.format == "json" else render_table(fits))
    return EXIT_OK if any(f.fits for f in fits) else EXIT_FINDINGS


def _cmd_show(args: argparse.Namespace) -> int:
    from vnuma.commands.show import NoHost, ShowError, load_view
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError

    try:
        view, diagnostics = load_view(args.host, args.guests, use_cache=not args.no_cache)
    except (UnreadableInput, NoHost, ConfigError) as exc:
        return _usage(str(exc))
    except ShowError as exc:
        _print_diagnostics(exc.diagnostics, args)
        print(f"vnuma: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    failed = any(d.severity >= Severity.ERROR for d in diagnostics)
    if args.output is None:
        from vnuma.view.text import render_text

        sys.stdout.write(render_text(view, colour=_use_colour(args, sys.stdout)))
        return EXIT_FINDINGS if failed else EXIT_OK
    suffix = args.output.suffix.lower()
    if suffix == ".svg":
        from vnuma.view.svg import render_svg

        document = render_svg(view)
    elif suffix in (".html", ".htm"):
        from vnuma.view.html import render_html

        document = render_html(view)
    else:
        return _usage(f"{args.output}: write a .svg or .html file")
    try:
        _write_atomically(args.output, document)
    except OSError as exc:
        return _usage(f"{args.output}: cannot write: {exc.strerror or exc}")
    return EXIT_FINDINGS if failed else EXIT_OK


def _cmd_host(args: argparse.Namespace) -> int:
    from vnuma.load.hostcache import load_snapshot
    from vnuma.load.text import UnreadableInput
    from vnuma.runner import display_path, local_sysfs_root
    from vnuma.view.host import render_json, render_text

    if args.snapshot is not None and args.sysfs_root is not None:
        return _usage("give a snapshot file or --sysfs-root, not both")
    try:
        if args.snapshot is not None:
            shown = display_path(args.snapshot)
            host, diagnostics = load_snapshot(args.snapshot, shown, not args.no_cache)
        else:
            from vnuma.load.sysfs import load_sysfs, resolve_sysfs_root

            root = resolve_sysfs_root(args.sysfs_root or local_sysfs_root())
            host, diagnostics = load_sysfs(root, f"sysfs {root}")
    except UnreadableInput as exc:
        return _usage(str(exc))
    _print_diagnostics(diagnostics, args)
    if host is None:
        return EXIT_FINDINGS
    sys.stdout.write(render_json(host) if args.format == "json" else render_text(host))
    return EXIT_OK


def _cmd_capture(args: argparse.Namespace) -> int:
    from vnuma.commands.capture import CaptureError, capture_libvirt, capture_sysfs
    from vnuma.libvirt.capabilities import load_host_bytes
    from vnuma.runner import local_sysfs_root

    if args.sysfs_root is not None and args.connect is not None:
        return _usage("--sysfs-root reads sysfs; it cannot be combined with --connect")
    try:
        if args.sysfs or args.sysfs_root is not None:
            data, _ = capture_sysfs(args.sysfs_root or local_sysfs_root())
        else:
            data = capture_libvirt(args.connect)
    except CaptureError as exc:
        return _usage(str(exc))
    shown = str(args.output) if args.output else "<stdout>"
    host, diagnostics = load_host_bytes(data, shown)
    _print_diagnostics(diagnostics, args)
    if host is None:
        return EXIT_FINDINGS
    if args.output:
        try:
            _write_atomically(args.output, data.decode("utf-8"))
        except OSError as exc:
            return _usage(f"{args.output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
    free = "with free memory" if any(c.free_memory_kib is not None for c in host.cells) else ""
    print(
        f"captured {len(host.cells)} NUMA node(s), {host.cpu_count} CPUs "
        f"from {host.captured_from} {free}".rstrip()
        + (f" -> {args.output}" if args.output else ""),
        file=sys.stderr,
    )
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from vnuma.resources import intent_schema_path

    sys.stdout.write(intent_schema_path().read_text(encoding="utf-8"))
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from vnuma.rules import all_rules

    wanted = args.code.strip()
    for found in all_rules():
        if wanted.upper() == found.code or wanted.lower() == found.name:
            scope = "needs a host snapshot" if found.needs_host else "checked without a host"
            print(
                f"{found.code} {found.name} (default severity: {found.severity.label}; {scope})\n"
            )
            print(found.doc)
            return EXIT_OK
    return _usage(f"unknown rule {wanted!r}; `vnuma rules` lists them")


def _cmd_rules(args: argparse.Namespace) -> int:
    from vnuma import codes

    if args.format == "markdown":
        from vnuma.report.ruledocs import render_markdown

        sys.stdout.write(render_markdown())
        return EXIT_OK
    from vnuma.view.terminal import terminal_width

    width = terminal_width()
    name_width = max(len(c.name) for c in codes.ALL)
    for found in codes.ALL:
        head = f"{found.code}  {found.name.ljust(name_width)}  {found.severity.label.ljust(7)}  "
        sys.stdout.write(_wrapped_row(head, found.summary, width))
    return EXIT_OK


# Narrower than this beside the code, name and severity, a summary goes below them.
_MIN_SUMMARY_WIDTH = 30


def _wrapped_row(head: str, summary: str, width: int) -> str:
    """``head`` then ``summary`` wrapped (never cut) to ``width`` columns: in a column of
    its own when there is room, else on indented lines below ``head``."""
    from vnuma.view.terminal import wrap

    if width - len(head) >= _MIN_SUMMARY_WIDTH:
        lines = wrap(summary, width, indent=len(head), lead=head)
    else:
        lines = [head.rstrip(), *wrap(summary, width, indent=4, lead="    ")]
    return "".join(f"{line}\n" for line in lines)


def _usage(message: str) -> int:
    print(f"vnuma: error: {message}", file=sys.stderr)
    return EXIT_USAGE


_COMMANDS = {
    "compile": _cmd_compile,
    "lint": _cmd_lint,
    "fit": _cmd_fit,
    "show": _cmd_show,
    "host": _cmd_host,
    "capture": _cmd_capture,
    "schema": _cmd_schema,
    "explain": _cmd_explain,
    "rules": _cmd_rules,
}
