"""The host-state addition to a `virsh capabilities` snapshot (format version 1).

`virsh capabilities` has no free memory. `vnuma capture` records it in XML processing
instructions, which every XML parser skips and libvirt's capability.rng ignores, so the
file stays a valid capabilities document for libvirt, `virt-xml-validate` and Nova:

    <capabilities>
      <?vnuma-host-state version="1" captured="2026-11-26T08:00:00Z" source="qemu:///system"?>
      <host>
        ...
        <cell id='0'>
          <memory unit='KiB'>65536000</memory>
          <?vnuma-free-memory unit="KiB" value="40123456"?>
          <?vnuma-free-pages size="2048" unit="KiB" count="512"?>

`vnuma-host-state` (first child of the root) says which format the file uses; a reader
refuses a major version it does not know. Inside a `<cell>`, `vnuma-free-memory` is the
node's free memory (libvirt's `virNodeGetCellsFreeMemory`, i.e. the kernel's per-node
MemFree) and each `vnuma-free-pages` the free pages of one pool (`virNodeGetFreePages`).
Any piece may be absent; absent means unknown, not zero.
"""

from __future__ import annotations

STATE_PI = "vnuma-host-state"
FREE_MEMORY_PI = "vnuma-free-memory"
FREE_PAGES_PI = "vnuma-free-pages"
FORMAT_VERSION = 1

# A pseudo-attribute value is quoted with " inside the instruction; these four characters
# are escaped so that no value (a hostile URI, say) can end the quote or the instruction.
_ESCAPES = (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;"))


def escape_value(value: object) -> str:
    text = str(value)
    for plain, escaped in _ESCAPES:  # & first
        text = text.replace(plain, escaped)
    return text


def unescape_value(text: str) -> str:
    for plain, escaped in reversed(_ESCAPES):  # &amp; last
        text = text.replace(escaped, plain)
    return text
