"""Real libvirt accepts what vnuma emits: `virsh -c test:///default define --validate`.

The test driver runs libvirt's own parser, post-parse and validation code (all define-time
checks) without a hypervisor. Skipped when virsh is missing; CI installs libvirt-clients.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from vnuma.runner import CompileOptions, compile_intent

from tests.conftest import INTENTS, SAMPLES

VIRSH = shutil.which("virsh")
pytestmark = [
    pytest.mark.libvirt,
    pytest.mark.skipif(
        VIRSH is None and not os.environ.get("VNUMA_REQUIRE_LIBVIRT"),
        reason="virsh not installed (apt-get install libvirt-clients)",
    ),
]


def test_virsh_present_when_required() -> None:
    assert VIRSH is not None, "VNUMA_REQUIRE_LIBVIRT is set but virsh is missing"


@pytest.mark.parametrize("intent", sorted(INTENTS.iterdir()), ids=lambda p: p.name)
def test_libvirt_defines_every_sample(intent: Path, tmp_path: Path) -> None:
    outcome = compile_intent(
        CompileOptions(intent, domain_path=SAMPLES / "domains" / "base-vm.xml")
    )
    assert outcome.xml is not None, outcome.diagnostics
    domain = tmp_path / "domain.xml"
    domain.write_text(outcome.xml, encoding="utf-8")
    done = subprocess.run(
        [VIRSH, "-c", "test:///default", "define", "--validate", str(domain)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "defined from" in done.stdout
