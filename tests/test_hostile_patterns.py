"""Regular expressions that read untrusted text do it in one pass.

Each input below made an earlier pattern backtrack polynomially or exponentially (seconds
for a few thousand characters; a hostile file would hang `vnuma lint`). They run in one
child with a deadline, since a regular expression holds the interpreter until it is done.
"""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

CHILD = """
from vnuma.load.document import first_element
from vnuma.report.suppress import find_suppressions
from vnuma.schema.hints import _yaml_plain

for prolog in (
    b" " * 4000 + b"x",
    b" \\t\\n" * 1300 + b"<",
    b"<!--" + b"-" * 3000,
    b"<?" + b"?" * 3000,
    b"<!-- a -->" * 400 + b"x",
):
    assert first_element(prolog) is None
for n in (2000, 200000):
    assert not find_suppressions("<!-- vnuma: disable=" + " " * n, "xml")
    assert not find_suppressions("<!-- vnuma: disable=" + "a " * n, "xml")
    assert not find_suppressions("# vnuma: disable=" + " ," * n, "hash")
    assert not _yaml_plain("0a" * n + "!")
print("ok")
"""


def test_hostile_inputs_are_read_in_one_pass() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# The hint's plain-scalar test before the rewrite: the reference on short inputs.
OLD_PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*|[0-9][0-9A-Za-z_.-]*[A-Za-z-][0-9A-Za-z_.-]*")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0a9Z_.- !", max_size=10))
def test_plain_scalar_pattern_agrees_with_the_old_one(text: str) -> None:
    from vnuma.schema.hints import _PLAIN_YAML

    assert (_PLAIN_YAML.fullmatch(text) is None) == (OLD_PLAIN_YAML.fullmatch(text) is None)
