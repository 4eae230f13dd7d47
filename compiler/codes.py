"""The catalogue of diagnostic codes: code, name, default severity and documentation.

A leaf module: every stage may import it (and `make_diagnostic`) without importing the
rules. Each code is stated here once; a check in `vnuma.rules` refers to its record
(`@check(codes.VN104)`), a stage reports one with `make_diagnostic(codes.VN001, ...)`.
The documentation (what, why, example, fix) is what `vnuma explain CODE` prints and
docs/rules.md is generated from.
"""

from __future__ import annotations

from vnuma.diagnostics import Diagnostic, JsonPath, Severity, Span, format_json_path
from vnuma.records import Record


class Code(Record):
    """One diagnostic code. ``doc`` is Markdown: a one-line summary, then the
    ``## What it checks``, ``## Why``, ``## Example`` and ``## Fix`` sections."""

    __slots__ = ("code", "doc", "name", "severity")

    def __init__(self, code: str, name: str, severity: Severity, doc: str) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.doc = doc

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0]


# --- Input, configuration and merge -------------------------------------------------------------

VN001 = Code(
    "VN001",
    "syntax-error",
    Severity.ERROR,
    """\
The file is not valid YAML, TOML or XML.

## What it checks
The intent (YAML or TOML), host snapshot or base domain must parse. The
diagnostic points at the line and column where the parser stopped.

## Why
Nothing else can be checked in a file that does not parse.

## Example
```yaml
cells:
  - cpus: "0-7"
   memory: 32GiB      # indentation breaks the mapping
```

## Fix
Correct the syntax at the reported position.""",
)

VN002 = Code(
    "VN002",
    "schema-violation",
    Severity.ERROR,
    """\
The intent does not match the intent JSON Schema (wrong type, missing key, bad value).

## What it checks
Every intent is validated against `schemas/intent-v1.schema.json` (JSON Schema
Draft 2020-12). `vnuma schema` prints it for editors.

## Why
The schema is the single definition of the intent language; anything outside it
would be guessed at.

## Example
```yaml
vcpus: sixteen
```

## Fix
Follow the message: it names the key, the expected type or values, and the JSON path.""",
)

VN003 = Code(
    "VN003",
    "unknown-key",
    Severity.ERROR,
    """\
The intent has a key the language does not know.

## What it checks
Every mapping in the intent is closed: unknown keys are errors, with a
did-you-mean suggestion for typos.

## Why
A misspelt key (`host_node:` for `host_nodes:`) would otherwise be ignored
silently, and the guest would run unbound.

## Example
```yaml
numatune:
  mdoe: strict
```

## Fix
Use the suggested key, or remove it.""",
)

VN004 = Code(
    "VN004",
    "size-without-unit",
    Severity.ERROR,
    """\
A memory size is a bare number.

## What it checks
`memory`, cell `memory` and `hugepages.size` need a unit.

## Why
libvirt reads bare numbers as KiB, Nova's `hw:numa_mem` as MiB and
`hw:mem_page_size` as KiB: a bare number is a guess waiting to go wrong by 1024x.

## Example
```yaml
memory: 4096
```

## Fix
Add the unit you meant: `memory: 4096MiB`.""",
)

VN005 = Code(
    "VN005",
    "invalid-size",
    Severity.ERROR,
    """\
A memory size cannot be read.

## What it checks
Sizes are a number and one of the units KiB MiB GiB TiB (powers of 1024) or
KB MB GB TB (powers of 1000), and must be a whole number of KiB.

## Why
libvirt sizes are whole KiB; `64G` or `64gib` are ambiguous.

## Example
```yaml
memory: 64G
```

## Fix
Write `64GiB` (binary) or `64GB` (decimal).""",
)

VN006 = Code(
    "VN006",
    "invalid-cpuset",
    Severity.ERROR,
    """\
A CPU or node set is not valid libvirt set syntax, or is empty.

## What it checks
`cpus`, `host_nodes` and `nodeset` use libvirt's syntax: ids, ranges `a-b`
with a <= b, and exclusions `^n`, separated by commas. The set must not end
up empty (`0,^0`).

## Why
libvirt refuses these at define time with "Failed to parse bitmap" or
"Invalid value of 'nodeset'".

## Example
```yaml
cpus: "7-0"
```

## Fix
Write ranges low to high: `cpus: "0-7"`.""",
)

VN007 = Code(
    "VN007",
    "duplicate-key",
    Severity.ERROR,
    """\
A mapping has the same key twice.

## What it checks
YAML mappings must not repeat a key.

## Why
YAML loaders silently keep the last value, so the first one is ignored
without a word: a linter must not.

## Example
```yaml
memory: 32GiB
memory: 64GiB
```

## Fix
Keep one of them.""",
)

VN008 = Code(
    "VN008",
    "host-snapshot-invalid",
    Severity.ERROR,
    """\
The host snapshot is not a usable `virsh capabilities` document.

## What it checks
The host snapshot must be well-formed XML with a `<capabilities><host>` root
and parseable NUMA cells (ids, memory, CPUs, pages, distances). DOCTYPEs and
entities are refused.

## Why
Every host check depends on the snapshot.

## Example
A file saved from `virsh dumpxml` (a domain) passed as `--host`.

## Fix
Save the host's topology with `virsh capabilities > host.xml`.""",
)

VN009 = Code(
    "VN009",
    "host-without-numa",
    Severity.WARNING,
    """\
The host snapshot has no NUMA cells, so host checks are skipped.

## What it checks
A capabilities document without `<host><topology><cells>` gives vnuma nothing
to check host nodes, memory or huge pages against.

## Why
Some drivers (and `caps-test2`-style mocks) print no topology; a check that
silently passes would mislead.

## Example
`<capabilities><host><cpu>...</cpu></host></capabilities>`

## Fix
Capture the snapshot on the hypervisor itself: `virsh capabilities`.""",
)

VN010 = Code(
    "VN010",
    "base-domain-invalid",
    Severity.ERROR,
    """\
The `--domain` file is not a libvirt domain definition.

## What it checks
The base domain must be well-formed XML with a `<domain>` root.

## Why
vnuma replaces the NUMA elements of that domain and keeps the rest; it must
be able to read it.

## Example
`--domain host.xml` where host.xml is a capabilities file.

## Fix
Pass a domain definition, e.g. from `virsh dumpxml NAME`.""",
)

VN011 = Code(
    "VN011",
    "max-memory-below-memory",
    Severity.ERROR,
    """\
The base domain's `<maxMemory>` is smaller than the compiled `<memory>`.

## What it checks
With `--domain`, a `<maxMemory>` kept from the base domain must be at least
the intent's memory.

## Why
libvirt refuses the definition: "maximum memory size must be equal or greater
than the actual memory size".

## Example
Base domain `<maxMemory slots='16' unit='GiB'>32</maxMemory>`, intent `memory: 64GiB`.

## Fix
Raise `<maxMemory>` in the base domain, or lower the intent's memory.""",
)

VN012 = Code(
    "VN012",
    "host-snapshot-missing",
    Severity.ERROR,
    """\
The intent's `host:` names a snapshot file that cannot be read.

## What it checks
`host:` is resolved relative to the intent file and must be readable
(unless `--host` overrides it).

## Why
Without the snapshot, every host check would be skipped silently.

## Example
```yaml
host: ../hosts/hv01.xml     # no such file
```

## Fix
Fix the path (relative to the intent), or pass `--host`.""",
)

VN013 = Code(
    "VN013",
    "base-domain-schema-invalid",
    Severity.WARNING,
    """\
The `--domain` base domain does not validate against the installed libvirt's domain.rng.

## What it checks
Before merging, the base domain is validated against `domain.rng` (when the
schemas are installed). vnuma then cannot vouch for the merged output, so the
output's own schema check is skipped.

## Why
`virsh define --validate` would refuse the result for reasons outside the NUMA
elements. The base may also use elements newer than the installed schemas.

## Example
A base domain with a misspelt element, `<vcpus>` where `<vcpu>` was meant.

## Fix
Correct the base domain at the reported line, or point `--libvirt-schemas` at
the schemas of the libvirt version you deploy to.""",
)

VN014 = Code(
    "VN014",
    "base-topology-mismatch",
    Severity.ERROR,
    """\
The base domain's `<cpu><topology>` does not multiply out to the compiled vCPU count.

## What it checks
With `--domain`, sockets x dies x clusters x cores x threads of a kept
`<topology>` equals the intent's `vcpus`.

## Why
libvirt refuses the definition: "CPU topology doesn't match maximum vcpu count".

## Example
Base domain `<topology sockets='1' cores='4' threads='1'/>`, intent `vcpus: 16`.

## Fix
Change the base domain's topology to match (e.g. sockets='2' cores='8' threads='1'),
or the intent's vcpus.""",
)

VN015 = Code(
    "VN015",
    "unused-suppression",
    Severity.WARNING,
    """\
A `vnuma: disable=` comment suppresses nothing, or names an unknown rule.

## What it checks
Every code in a suppression comment matched a finding on the line it covers
(the comment's own line in YAML and TOML; in XML also the line after the comment).

## Why
Stale suppressions hide the next real problem on that line, and a misspelt code
suppresses nothing while looking as if it did (ruff's RUF100 does the same).

## Example
```yaml
vcpus: 8   # vnuma: disable=VN104
```

## Fix
Delete the comment, or correct the code it names.""",
)

VN016 = Code(
    "VN016",
    "domain-value-invalid",
    Severity.ERROR,
    """\
A libvirt domain XML has a value libvirt's parser refuses.

## What it checks
While a domain is read into the model: integers are integers within libvirt's
limits, enumerations (`mode`, `placement`, `memAccess`) have known values,
required attributes (`<cell memory>`, `<vcpupin cpuset>`, `<memnode cellid>`)
are present, and the domain has a memory size and at least one vCPU. The limits
are libvirt 9.0's, read as it reads them (C's `strtoull`: white space before the
digits and a `+` are skipped, anything after the digits, white space too, is
refused):

- Unsigned ints, at most 4294967295 (UINT_MAX). `<vcpu>` ("maximum vcpus count
  must be an integer"; `-N` wraps round to 4294967296 - N, as libvirt's
  `virStrToLong_ui` does). `<vcpu current>`, `<cell id>`, `<vcpupin vcpu>`,
  `<memnode cellid>`, `<vcpus><vcpu id>` and the other integer attributes
  refuse any `-` ("Invalid value for attribute 'id' in element 'cell': '…'.
  Expected non-negative integer value"). A `<vcpus><vcpu id>` must also be
  below the `<vcpu>` count ("vcpu id 'N' is out of range of maximum vcpu count").
- Sizes (`<memory>`, `<currentMemory>`, `<maxMemory>`, `<cell memory>`,
  `<page size>`, a memory device's `<size>`): an unsigned long long ("Invalid
  value '…' for element or attribute './memory[1]'"), at most 2^63 - 1 bytes
  once scaled by the unit ("value too large: N" followed by the unit as
  written), and below 2^53 KiB once rounded up to KiB ("size value too large").
  A required size that is absent or empty: "missing element or attribute './@memory'".
- A device's NUMA node (`<target><node>`): a C int, 0 to 2147483647.

Id sets (cpusets, nodesets) with an id past 16383 are VN006 ("Failed to parse
bitmap '…'"). vnuma never builds a number, a range or a set from such values,
however many digits they have.

## Why
`virsh define` fails with the message quoted in the finding, e.g.
"Invalid value for attribute 'memAccess' in element 'cell': 'invalid'." or
"maximum vcpus count must be an integer" for `<vcpu>4294967296</vcpu>`.

## Example
```xml
<vcpu placement='static'>4294967296</vcpu>
<cell id='0' cpus='0-1' memory='1048576' memAccess='invalid'/>
```

## Fix
Use a value libvirt accepts, as the finding's hint lists; write a count on the
same line as its tags (`<vcpu>8</vcpu>`, not the 8 followed by a newline).""",
)

# --- Guest consistency --------------------------------------------------------------------------

VN101 = Code(
    "VN101",
    "cell-ids-not-contiguous",
    Severity.ERROR,
    """\
Guest cell ids must be exactly 0..n-1.

## What it checks
With n cells, every explicit `id` must be below n (ids default to the cell's position).

## Why
libvirt refuses the domain at define time: "Exactly one 'cell' element per guest
NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not
allowed". QEMU likewise fails with "numa: Node ID missing".

## Example
```yaml
cells:
  - {id: 1, cpus: "0-3", memory: 8GiB}
  - {id: 2, cpus: "4-7", memory: 8GiB}
```

## Fix
Number the cells 0..n-1, or drop `id` and let the position decide.""",
)

VN102 = Code(
    "VN102",
    "cell-id-duplicate",
    Severity.ERROR,
    """\
Two guest cells have the same id.

## What it checks
Each cell id (explicit or defaulted to the position) appears once.

## Why
libvirt: "Duplicate NUMA cell info for cell id 'N'" at define time.

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 8GiB}          # id 0 by position
  - {id: 0, cpus: "4-7", memory: 8GiB}
```

## Fix
Give each cell its own id, or drop the ids.""",
)

VN103 = Code(
    "VN103",
    "cell-vcpu-out-of-range",
    Severity.ERROR,
    """\
A cell names a vCPU id that the guest does not have.

## What it checks
Every id in a cell's `cpus` is below `vcpus`.

## Why
libvirt: "CPU IDs in <numa> exceed the <vcpu> count" at define time.

## Example
```yaml
vcpus: 8
cells:
  - {cpus: "0-7", memory: 8GiB}
  - {cpus: "8-15", memory: 8GiB}
```

## Fix
Raise `vcpus`, or keep cell CPUs within 0..vcpus-1.""",
)

VN104 = Code(
    "VN104",
    "cell-vcpu-overlap",
    Severity.ERROR,
    """\
A vCPU is in two guest cells.

## What it checks
The cells' `cpus` sets are disjoint.

## Why
libvirt: "NUMA cells 0 and 1 have overlapping vCPU ids" at define time.

## Example
```yaml
cells:
  - {cpus: "0-4", memory: 8GiB}
  - {cpus: "4-7", memory: 8GiB}
```

## Fix
Put each vCPU in exactly one cell.""",
)

VN105 = Code(
    "VN105",
    "vcpu-not-in-any-cell",
    Severity.ERROR,
    """\
Some vCPUs are in no guest cell.

## What it checks
With cells, every vCPU id 0..vcpus-1 is in some cell.

## Why
libvirt silently moves the missing vCPUs to cell 0, and QEMU warns "CPU(s) not
present in any NUMA nodes" and says partial NUMA mappings are obsolete and will
be removed: the guest topology ends up different from what was written.

## Example
```yaml
vcpus: 16
cells:
  - {cpus: "0-7", memory: 8GiB}
```

In a domain XML this is a warning: libvirt accepts it and rewrites the cells.

## Fix
Assign the missing vCPUs to cells, or lower `vcpus`.""",
)

VN106 = Code(
    "VN106",
    "cell-memory-sum-mismatch",
    Severity.ERROR,
    """\
The cells' memory does not add up to the guest's memory.

## What it checks
The sum of the cells' `memory` equals `memory` exactly.

## Why
libvirt recomputes `<memory>` from the cells on define, silently changing the
guest's size; QEMU requires "total memory for NUMA nodes ... should equal RAM size".
oVirt accepts less, which is how guests end up smaller than planned.

## Example
```yaml
memory: 64GiB
cells:
  - {cpus: "0-7", memory: 32GiB}
  - {cpus: "8-15", memory: 16GiB}
```

In a domain XML, `<memory>` is compared with the cells plus the memory devices
(libvirt's formula), and a mismatch is a warning: libvirt overwrites `<memory>`.

## Fix
Make the cells add up to `memory`, or change `memory` to their sum.""",
)

VN107 = Code(
    "VN107",
    "cell-memory-zero",
    Severity.ERROR,
    """\
A guest cell has no memory.

## What it checks
Every cell's memory is above zero.

## Why
QEMU refuses a zero-sized memory backend: "can't create backend with size 0".

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 0GiB}
```

## Fix
Give the cell memory, or merge its vCPUs into another cell.""",
)

VN108 = Code(
    "VN108",
    "more-cells-than-vcpus",
    Severity.WARNING,
    """\
More guest cells are given vCPUs than the guest has vCPUs.

## What it checks
The number of cells written with `cpus` does not exceed `vcpus`. Memory-only cells
(no `cpus`) do not count: they are legal (libvirt >= 6.6.0, e.g. to model CXL
memory), and a guest with more cells than vCPUs is fine as long as the extra cells
are memory-only.

## Why
Every cell with vCPUs needs at least one vCPU of its own, so when more cells have
`cpus` than there are vCPUs, some cell names a vCPU the guest lacks (VN103) or
shares one with another cell (VN104). Those rules name the bad ids; this one adds
what they cannot: no renumbering fixes it, because there are not enough vCPUs to
go round. It fires only together with VN103 or VN104, never on a valid guest.

## Example
```yaml
vcpus: 2
cells:
  - {cpus: "0", memory: 4GiB}
  - {cpus: "1", memory: 4GiB}
  - {cpus: "2", memory: 4GiB}    # VN103 too: vCPU 2 does not exist
```

## Fix
Raise `vcpus` to the number of cells with vCPUs, or drop `cpus` from the cells
meant to be memory-only.""",
)

VN109 = Code(
    "VN109",
    "distance-invalid",
    Severity.ERROR,
    """\
A guest distance value is out of range, local distance is not 10, or a remote one is 10.

## What it checks
Distances are 10..255; a cell's distance to itself is 10; to another cell it is above 10.

## Why
libvirt: "'value N' is invalid for 'sibling id M' under NUMA 'cell id K'" at define time.

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 8GiB, distances: {0: 10, 1: 10}}
```

## Fix
Use 10 for the cell itself and 11..255 for others (21 is typical for another socket).""",
)

VN110 = Code(
    "VN110",
    "distance-asymmetric",
    Severity.WARNING,
    """\
Two cells give different distances to each other.

## What it checks
If cell A says its distance to B is x and B says its distance to A is y, x == y.

## Why
Real SLIT tables are symmetric; guest kernels and schedulers assume it. QEMU accepts
asymmetric pairs only when every pair is given in both directions.

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 8GiB, distances: {1: 21}}
  - {cpus: "4-7", memory: 8GiB, distances: {0: 31}}
```

## Fix
Give the same value in both directions (or only one; vnuma mirrors it).""",
)

VN111 = Code(
    "VN111",
    "distance-incomplete",
    Severity.WARNING,
    """\
Distances are given for some pairs of cells but not all.

## What it checks
Once any distance is given, every pair of cells has one (in either direction).

## Why
libvirt fills a missing pair with 20 without saying so; the guest then sees a
topology nobody wrote down.

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 8GiB, distances: {1: 12}}
  - {cpus: "4-7", memory: 8GiB}
  - {cpus: "8-11", memory: 8GiB}
```

## Fix
Give a distance for every pair (here 0-2 and 1-2).""",
)

VN112 = Code(
    "VN112",
    "distance-unknown-cell",
    Severity.ERROR,
    """\
A distance names a guest cell that does not exist.

## What it checks
Every key of a cell's `distances` is an existing cell id.

## Why
libvirt: "'sibling_id N' does not refer to a valid cell within NUMA 'cell id M'".

## Example
```yaml
cells:
  - {cpus: "0-3", memory: 8GiB, distances: {2: 21}}
  - {cpus: "4-7", memory: 8GiB}
```

## Fix
Use ids of existing cells (0..n-1).""",
)

VN113 = Code(
    "VN113",
    "restrictive-mode-mismatch",
    Severity.ERROR,
    """\
`restrictive` is used in the guest-wide mode or in a cell's mode, but not in both.

## What it checks
If `numatune.mode` is restrictive, every bound cell's mode is restrictive, and
a cell can be restrictive only when `numatune.mode` is.

## Why
libvirt: "'restrictive' mode is required in memnode element when mode is
'restrictive' in memory element" (and the reverse since 9.4.0). Restrictive binds
through cgroups only, which cannot be mixed with mbind-based policies per cell.

## Example
```yaml
numatune: {mode: restrictive, nodeset: "0-1"}
cells:
  - {cpus: "0-7", memory: 8GiB, host_nodes: "0", mode: strict}
```

## Fix
Use restrictive everywhere, or nowhere.""",
)

VN114 = Code(
    "VN114",
    "binding-with-auto-placement",
    Severity.ERROR,
    """\
Cells are bound to host nodes while numatune placement is auto.

## What it checks
No cell has `host_nodes` (a `<memnode>`) when `numatune.placement` is auto.

## Why
libvirt: "Per-node binding is not compatible with automatic NUMA placement."
numad chooses the nodes at start, so fixed per-cell nodes cannot be honoured.

## Example
```yaml
numatune: {placement: auto}
cells:
  - {cpus: "0-7", memory: 8GiB, host_nodes: "0"}
```

## Fix
Drop the cells' host_nodes, or use a static nodeset instead of placement: auto.""",
)

VN115 = Code(
    "VN115",
    "preferred-multiple-nodes",
    Severity.WARNING,
    """\
`preferred` names several host nodes.

## What it checks
A preferred binding (guest-wide or per cell) has exactly one host node.

## Why
Several preferred nodes need MPOL_PREFERRED_MANY: Linux >= 5.15, a libnuma with
numa_set_preferred_many, QEMU >= 8.0 and libvirt >= 9.0. Elsewhere only the first
node is used (or libvirt fails: "NUMA memory tuning in 'preferred' mode only
supports single node"). oVirt refuses it for the same reason.

## Example
```yaml
numatune: {mode: preferred, nodeset: "0-1"}
```

## Fix
Prefer one node, or use interleave to spread memory over several.""",
)

VN116 = Code(
    "VN116",
    "nodeset-with-auto-placement",
    Severity.ERROR,
    """\
`numatune` has both a nodeset and `placement: auto`.

## What it checks
`nodeset` and `placement: auto` are not given together.

## Why
libvirt's schema forbids it and its parser silently drops the nodeset: the guest
would not be bound where the file says.

## Example
```yaml
numatune: {placement: auto, nodeset: "0"}
```

In a domain XML this is a warning: libvirt's parser accepts it (only the schema
refuses it) and drops the nodeset.

## Fix
Keep one: a static nodeset, or placement: auto.""",
)

VN117 = Code(
    "VN117",
    "cell-binding-outside-nodeset",
    Severity.WARNING,
    """\
A cell binds host nodes outside the explicit numatune nodeset.

## What it checks
Each cell's `host_nodes` is within `numatune.nodeset` when a nodeset is given.

## Why
libvirt does not refuse it: it widens the cgroup memory nodes of the emulator and
vCPU threads to the union, so the guest uses nodes the nodeset was meant to exclude.

## Example
```yaml
numatune: {mode: strict, nodeset: "0"}
cells:
  - {cpus: "0-7", memory: 8GiB, host_nodes: "1"}
```

## Fix
Add the cell's nodes to the nodeset, or omit the nodeset (vnuma then uses the union).""",
)

VN118 = Code(
    "VN118",
    "numatune-without-nodeset",
    Severity.ERROR,
    """\
`numatune` has static placement but no host nodes to bind to.

## What it checks
A `numatune` block gives a nodeset, `placement: auto`, or cells with `host_nodes`.

## Why
libvirt: "nodeset for NUMA memory tuning must be set if 'placement' is 'static'".

## Example
```yaml
numatune: {mode: strict}
```

## Fix
Add `nodeset`, bind the cells with `host_nodes`, or use `placement: auto`.""",
)

VN119 = Code(
    "VN119",
    "cell-mode-without-host-nodes",
    Severity.ERROR,
    """\
A cell sets a memory `mode` but no `host_nodes`.

## What it checks
A cell's `mode` comes with `host_nodes`.

## Why
A per-cell mode becomes `<memnode mode=... nodeset=...>`, which needs a nodeset:
libvirt: "Missing required nodeset attribute in memnode element".

## Example
```yaml
cells:
  - {cpus: "0-7", memory: 8GiB, mode: interleave}
```

## Fix
Add `host_nodes` to the cell, or drop its `mode`.""",
)

VN120 = Code(
    "VN120",
    "memory-not-hugepage-multiple",
    Severity.ERROR,
    """\
Guest memory (each cell's, or the total without cells) is not a multiple of the huge page size.

## What it checks
With `hugepages`, every cell's memory (or `memory` when there are no cells) is a
whole number of pages.

## Why
Each cell becomes a hugetlbfs-backed memory backend. QEMU refuses a backend
smaller than one page at start ("memory size 0x30000000 must be equal to or larger
than page size 0x40000000"), recent QEMU refuses any size that is not a multiple of
the page ("memory size must be multiple of 1 GiB"), and older QEMU rounds it up,
taking more huge pages than planned. libvirt does not check it.

## Example
```yaml
hugepages: {size: 1GiB}
cells:
  - {cpus: "0-3", memory: 1536MiB}
```

## Fix
Round the cell's memory to a multiple of the page size (here 1GiB or 2GiB).""",
)

VN121 = Code(
    "VN121",
    "cell-memory-overflow",
    Severity.ERROR,
    """\
A guest cell is so large that libvirt's 1 MiB alignment overflows its size limit.

## What it checks
Each cell's memory, rounded up to a whole MiB, is at most 8 EiB - 1 KiB
(libvirt's limit for any memory size, LLONG_MAX bytes).

## Why
libvirt aligns every cell to 1 MiB when the guest starts and fails with
"memory size of NUMA node 'N' overflowed after alignment"; a size that large is
a typo or a unit mistake.

## Example
```xml
<cell id='0' cpus='0-1' memory='9007199254740991' unit='KiB'/>
```

## Fix
Check the size and unit of the cell.""",
)

VN122 = Code(
    "VN122",
    "auto-placement-needs-numad",
    Severity.INFO,
    """\
Automatic NUMA placement asks numad for the host nodes when the guest starts.

## What it checks
`numatune.placement: auto` (`<numatune><memory placement='auto'>`, or
`<vcpu placement='auto'>`, from which libvirt infers it).

## Why
libvirt defines the guest, but at `virsh start` it runs numad for an advisory
nodeset; without numad installed and running the start fails with "Failed to query
numad for the advisory nodeset" (or "numad is not available on this host"). vnuma
cannot see the host's numad, and the nodes numad picks are known only then.

## Example
```yaml
numatune: {mode: strict, placement: auto}
```

## Fix
Install and enable numad on the hypervisor, or bind a static nodeset (which vnuma
can check against the host).""",
)

# --- Fit on the host ----------------------------------------------------------------------------

VN201 = Code(
    "VN201",
    "host-node-missing",
    Severity.ERROR,
    """\
A nodeset, a cell's host_nodes or a memory device's nodemask names a NUMA node the host does not have.

## What it checks
Every host node in `numatune.nodeset`, in cells' `host_nodes` (`<memnode nodeset>`)
and in memory devices' `<source><nodemask>` exists in the host snapshot.

## Why
libvirt accepts the definition and fails only at `virsh start` with
"NUMA node N is unavailable" (or "Invalid value '1-2' for 'cpuset.mems'" on
some hosts): it checks the nodes of `<numatune>` and of every memory backend,
a DIMM's nodemask included, when it builds QEMU's command line.

## Example
```yaml
numatune: {mode: strict, nodeset: "0-3"}   # on a 2-node host
```

## Fix
Use nodes the host has (`vnuma host HOST.xml` lists them).""",
)

VN202 = Code(
    "VN202",
    "cell-on-cpuless-node",
    Severity.WARNING,
    """\
Memory of vCPUs is bound only to host nodes without CPUs.

## What it checks
A guest cell with vCPUs (or a guest without cells) whose memory binding has at
least one host node with CPUs.

## Why
CPU-less nodes (CXL expanders, HBM, persistent memory) are remote to every CPU:
each memory access of those vCPUs crosses the interconnect.

## Example
```yaml
cells:
  - {cpus: "0-7", memory: 8GiB, host_nodes: "2"}   # node 2 is memory-only
```

## Fix
Bind vCPU cells to nodes with CPUs; model the slow memory as a CPU-less guest cell.""",
)

VN203 = Code(
    "VN203",
    "cell-exceeds-node-memory",
    Severity.ERROR,
    """\
Strictly bound guest cells need more memory than their host nodes have.

## What it checks
With mode strict or restrictive and no huge pages, the memory of the cells bound
to a set of host nodes fits those nodes' memory minus what is set aside in huge
page pools (that memory cannot back ordinary pages).

## Why
A strict binding cannot fall back to other nodes. When it fails depends on how
QEMU allocates, and the message says which applies to the guest: by default QEMU
allocates guest RAM lazily, so the guest starts and is OOM-killed later, once it
touches more memory than the nodes have; with `<memoryBacking><allocation
mode='immediate'/>` QEMU preallocates at start and the guest fails to start
("os_mem_prealloc: Insufficient free host memory pages available to allocate guest
RAM"). (Memory backed by huge pages is VN206's.) libvirt does not check this; oVirt
checks total memory only and ignores huge page pools.

## Example
```yaml
cells:
  - {cpus: "0-7", memory: 256GiB, host_nodes: "0"}   # node 0 has 192 GiB
```

## Fix
Bind the cell to more nodes, make it smaller, or use mode: preferred.""",
)

VN204 = Code(
    "VN204",
    "guest-exceeds-nodeset-memory",
    Severity.ERROR,
    """\
The whole guest, strictly bound, needs more memory than its host nodes have.

## What it checks
With mode strict or restrictive and no huge pages, the guest's memory fits the
nodeset (plus the cells' host_nodes), minus huge page pools.

## Why
As for VN203: a strict binding has no fallback, and libvirt does not check it.
Without preallocation the guest starts and is OOM-killed later; with
`<allocation mode='immediate'/>` it fails at start; the message says which.

## Example
```yaml
memory: 512GiB
numatune: {mode: strict, nodeset: "0-1"}     # 2 x 192 GiB host
```

## Fix
Add nodes to the nodeset, shrink the guest, or use preferred/interleave.""",
)

VN205 = Code(
    "VN205",
    "hugepage-size-unavailable",
    Severity.ERROR,
    """\
The huge page size does not exist on the host.

## What it checks
`hugepages.size` is one of the host's page sizes (capabilities `<pages>`).

## Why
libvirt fails at start: "Unable to find any usable hugetlbfs mount for N KiB".
It needs a hugetlbfs mount of that page size (`/dev/hugepages` serves only the
default size; another size needs its own, e.g. `mount -t hugetlbfs -o pagesize=1G
hugetlbfs /dev/hugepages1G`), and a size the hardware lacks cannot be mounted.

## Example
```yaml
hugepages: {size: 16MiB}    # x86_64 has 4 KiB, 2 MiB, 1 GiB
```

## Fix
Use a size the host supports.""",
)

VN206 = Code(
    "VN206",
    "hugepage-pool-too-small",
    Severity.ERROR,
    """\
The host's huge page pools cannot hold the guest's memory.

## What it checks
For strict/restrictive bindings: the pages the bound cells need fit the pools of
their host nodes, per node set. In any mode: the whole guest fits the host's total
pool of that size. Pool sizes come from the snapshot (`<pages>` per cell).

## Why
libvirt does not check pools; QEMU fails at start ("unable to map backing store
for guest RAM", "Insufficient free host memory pages available to allocate guest
RAM"), or Nova-style placement puts 34 GiB on a 32 GiB pool.

## Example
```yaml
hugepages: {size: 1GiB}
cells:
  - {cpus: "0-7", memory: 96GiB, host_nodes: "0"}  # node 0 has 64 x 1 GiB
```

## Fix
Grow the pool (`echo N > /sys/devices/system/node/nodeX/hugepages/hugepages-1048576kB/nr_hugepages`),
bind more nodes, or shrink the guest. libvirt also needs a hugetlbfs mount of that
page size before the guest starts ("Unable to find any usable hugetlbfs mount for
1048576 KiB"): the hint names it.""",
)

VN207 = Code(
    "VN207",
    "vcpu-overcommit",
    Severity.WARNING,
    """\
More vCPUs than host CPUs: in total, or in a cell versus its bound host nodes.

## What it checks
`vcpus` does not exceed the host's CPUs, and a cell's vCPUs do not exceed the CPUs
of the host nodes that hold its memory.

## Why
Overcommitted vCPUs time-share host CPUs; a cell's vCPUs that cannot all run on
their memory's node run elsewhere and pay remote-memory latency on every access.

## Example
```yaml
vcpus: 48
cells:
  - {cpus: "0-47", memory: 64GiB, host_nodes: "0"}   # node 0 has 40 CPUs
```

## Fix
Spread the cell over more host nodes, split it into more cells, or use fewer vCPUs.""",
)

VN208 = Code(
    "VN208",
    "guest-exceeds-host-memory",
    Severity.WARNING,
    """\
The guest has more memory than the whole host.

## What it checks
Without a strict binding or huge pages (which VN204 and VN206 check), the guest's
memory does not exceed the host's total memory.

## Why
Only swap or memory overcommit (KSM, ballooning) can make this work; it is usually
a typo in a size.

## Example
```yaml
memory: 1TiB     # on a 384 GiB host
```

## Fix
Check the size and unit.""",
)

VN209 = Code(
    "VN209",
    "strict-binding-exceeds-free-memory",
    Severity.WARNING,
    """\
Strictly bound memory fits the host nodes, but not the memory free on them now.

## What it checks
Only when the host snapshot records free memory per node (`vnuma capture` does):
with mode strict or restrictive and no huge pages, the memory bound to a set of
host nodes (per cell, or the whole guest) fits what is free on those nodes. When
it does not even fit their total memory, VN203 or VN204 reports it instead.

## Why
A strict binding cannot spill to other nodes, so a guest started now allocates
only from these nodes, beside everything already running there. It is a warning:
the kernel's free figure (MemFree) excludes page cache it can still reclaim, and a
guest that already runs on the host is counted as used in a live snapshot.

## Example
```yaml
cells:
  - {cpus: "0-7", memory: 64GiB, host_nodes: "0"}   # node 0: 192 GiB, 40 GiB free
```

## Fix
Bind the cell to nodes with free memory (`vnuma host` shows them), stop or move
other guests first, or use mode: preferred.""",
)

VN210 = Code(
    "VN210",
    "hugepage-pool-free-too-small",
    Severity.ERROR,
    """\
The huge page pools are big enough, but too few of their pages are free now.

## What it checks
Only when the host snapshot records free huge pages per node and size (`vnuma
capture` does): the same fits as VN206, against the free pages instead of the
pool sizes. When the pools are too small even empty, VN206 reports it instead.

## Why
Huge pages are reserved when QEMU maps guest RAM; pages other guests hold are
never reclaimed. Started now, QEMU fails with "unable to map backing store for
guest RAM". If this guest already runs on the host, a live snapshot counts its
pages as used: capture with it stopped, or ignore the rule for running guests.

## Example
```yaml
hugepages: {size: 1GiB}
cells:
  - {cpus: "0-7", memory: 32GiB, host_nodes: "0"}  # pool: 64 pages, 16 free
```

## Fix
Bind nodes whose pools have free pages, free pages by stopping other guests, or
grow the pool (`nr_hugepages`).""",
)

# --- Output -------------------------------------------------------------------------------------

VN301 = Code(
    "VN301",
    "output-schema-invalid",
    Severity.ERROR,
    """\
The generated domain XML does not validate against libvirt's RelaxNG schema.

## What it checks
Every output is re-parsed and validated against `domain.rng` from
`/usr/share/libvirt/schemas` (or `--libvirt-schemas DIR`) when present.

## Why
The output must be accepted by `virsh define` on the first try. With
`--domain`, a base domain that was already invalid also shows up here.

## Example
A base domain using elements newer than the installed libvirt's schema.

## Fix
Read libvirt's message; if the problem is in vnuma's own elements, please report it.""",
)

# --- Domain XML only ----------------------------------------------------------------------------

VN401 = Code(
    "VN401",
    "vcpupin-beyond-max",
    Severity.WARNING,
    """\
A `<vcpupin>` names a vCPU the guest does not have; libvirt drops it.

## What it checks
Every `<vcpupin vcpu='N'>` has N below the `<vcpu>` maximum.

## Why
libvirt discards the pin with only a log line ("Ignoring vcpupin for missing
vcpus"): the definition you keep in Git no longer matches the running guest, and
the pin you meant for another vCPU is silently lost.

## Example
```xml
<vcpu>4</vcpu>
<cputune><vcpupin vcpu='4' cpuset='12'/></cputune>
```

## Fix
Pin vCPUs 0..vcpus-1 only, or raise `<vcpu>`.""",
)

VN402 = Code(
    "VN402",
    "vcpupin-duplicate",
    Severity.ERROR,
    """\
Two `<vcpupin>` elements pin the same vCPU.

## What it checks
Each vCPU has at most one `<vcpupin>`.

## Why
libvirt refuses the definition: "duplicate vcpupin for vcpu 'N'".

## Example
```xml
<vcpupin vcpu='0' cpuset='2'/>
<vcpupin vcpu='0' cpuset='3'/>
```

## Fix
Keep one pin per vCPU.""",
)

VN403 = Code(
    "VN403",
    "emulatorpin-overlaps-dedicated",
    Severity.INFO,
    """\
The emulator threads are pinned onto host CPUs that vCPUs own exclusively.

## What it checks
`<emulatorpin>` shares no host CPU with a dedicated `<vcpupin>` (a vCPU pinned to
exactly one host CPU).

## Why
Dedicated pinning exists so a vCPU never waits for the host CPU; QEMU's emulator
and I/O threads running there steal time from it and cause latency spikes (the
reason Nova's `hw:emulator_threads_policy` exists). It is advice, not a fault:
libvirt and QEMU run the guest as written, and libvirt's own test inputs share
CPUs this way; so it is `info` by default (raise it with `severity` in the
configuration where latency matters).

## Example
```xml
<vcpupin vcpu='0' cpuset='4'/>
<emulatorpin cpuset='4-5'/>
```

## Fix
Pin the emulator to housekeeping CPUs no vCPU uses.""",
)

VN404 = Code(
    "VN404",
    "vcpu-pinned-off-cell-nodes",
    Severity.WARNING,
    """\
A vCPU is pinned to host CPUs outside the host nodes that hold its cell's memory.

## What it checks
For every `<vcpupin>`, the host CPUs are on the host nodes its guest cell's memory
is bound to (`<memnode>`, else the `<numatune>` nodeset).

## Why
The vCPU then reaches all of its memory over the interconnect: every access pays
remote latency and bandwidth, the thing guest NUMA is meant to prevent. libvirt
does not compare pins with memory bindings.

## Example
```xml
<vcpupin vcpu='0' cpuset='40'/>           <!-- CPU 40 is on host node 1 -->
<memnode cellid='0' mode='strict' nodeset='0'/>
```

## Fix
Pin the cell's vCPUs to CPUs of its memory's nodes, or bind the memory where the
vCPUs run.""",
)

VN405 = Code(
    "VN405",
    "pin-to-missing-host-cpu",
    Severity.ERROR,
    """\
A vCPU, emulator or `<vcpu cpuset>` pin names host CPUs the host does not have.

## What it checks
Every CPU in `<vcpupin>`, `<emulatorpin>` and `<vcpu cpuset>` exists in the host
snapshot.

## Why
libvirt does not check this at define time; the guest fails to start with
"cannot set CPU affinity on process N: Invalid argument" (or the cgroup refuses
the cpuset), typically after a VM moves to a smaller host.

## Example
```xml
<vcpupin vcpu='0' cpuset='96'/>     <!-- host has CPUs 0-79 -->
```

## Fix
Pin to CPUs the host has (`vnuma host` lists them).""",
)

VN406 = Code(
    "VN406",
    "memory-device-node-missing",
    Severity.ERROR,
    """\
A memory device targets a guest NUMA node that does not exist.

## What it checks
`<devices><memory><target><node>N</node>` names one of the guest's cells.

## Why
libvirt refuses it: "can't add memory backend for guest node 'N' as the guest has
only 'M' NUMA nodes configured", or "can't add memory backend as guest has no
NUMA nodes configured" when there are no cells.

## Example
```xml
<numa><cell id='0' cpus='0-1' memory='1048576'/></numa>
...
<memory model='dimm'><target><size unit='GiB'>1</size><node>1</node></target></memory>
```

## Fix
Target an existing cell (0..cells-1), or add the cell.""",
)

VN407 = Code(
    "VN407",
    "memory-hotplug-without-cells",
    Severity.ERROR,
    """\
Memory hotplug (`<maxMemory>` or memory devices) without guest NUMA cells.

## What it checks
A domain with `<maxMemory>` or `<devices><memory>` has at least one guest cell
(except on ppc64 and s390x, where QEMU does not need one). Memory devices also
need `<maxMemory>`.

## Why
QEMU plugs DIMMs into a guest NUMA node, so libvirt refuses the domain: "At least
one numa node has to be configured when enabling memory hotplug", and "cannot
use/hotplug a memory device when domain 'maxMemory' is not defined".

## Example
```xml
<maxMemory slots='16' unit='KiB'>1524288</maxMemory>
<memory unit='KiB'>219100</memory>      <!-- and no <cpu><numa> -->
```

## Fix
Add `<cpu><numa><cell id='0' cpus='0-N' memory='...'/></numa>` covering all vCPUs.""",
)

VN408 = Code(
    "VN408",
    "topology-vcpu-mismatch",
    Severity.ERROR,
    """\
`<cpu><topology>` (or an intent's `cpu.topology`) does not multiply out to the vCPUs.

## What it checks
sockets x dies x clusters x cores x threads equals the maximum vCPU count (`<vcpu>`,
or `vcpus` in an intent).

## Why
libvirt refuses the domain: "CPU topology doesn't match maximum vcpu count".

## Example
```xml
<vcpu>8</vcpu>
<cpu><topology sockets='1' cores='4' threads='1'/></cpu>
```

## Fix
Change the topology (e.g. cores='8') or `<vcpu>` so they agree.""",
)

VN409 = Code(
    "VN409",
    "vcpu-current-above-max",
    Severity.ERROR,
    """\
`<vcpu current>` is larger than the maximum.

## What it checks
`current` is at most the `<vcpu>` count and at least 1.

## Why
libvirt: "maximum vCPU count must not be less than current vCPU count".

## Example
```xml
<vcpu current='8'>4</vcpu>
```

## Fix
Lower `current` or raise the maximum.""",
)

VN410 = Code(
    "VN410",
    "hugepage-nodeset-unknown-cell",
    Severity.ERROR,
    """\
A huge page `nodeset` names a guest cell that does not exist.

## What it checks
Each `<page nodeset>` lists guest cell ids (not host nodes!) below the number of
cells. Without cells, libvirt accepts `nodeset='0'` as the whole guest.

## Why
libvirt refuses the domain: "hugepages: node N not found". The nodeset is a set
of *guest* cells; host placement comes from `<numatune>`.

## Example
```xml
<page size='2048' unit='KiB' nodeset='1'/>    <!-- the guest has only cell 0 -->
```

## Fix
Name guest cells 0..cells-1, and bind host nodes with `<memnode>`.""",
)

VN411 = Code(
    "VN411",
    "hugepage-nodesets-overlap",
    Severity.ERROR,
    """\
Two huge page sizes claim the same guest cell, or two sizes have no nodeset.

## What it checks
`<page>` nodesets are disjoint, and at most one `<page>` has no nodeset (the
default for cells no other `<page>` names).

## Why
libvirt refuses the domain: "nodeset attribute of hugepages of sizes X and Y
intersect", or "two master hugepages detected: X and Y".

## Example
```xml
<page size='1048576' unit='KiB'/>
<page size='2048' unit='KiB'/>
```

## Fix
Give each size its own cells, and leave at most one without a nodeset.""",
)

VN412 = Code(
    "VN412",
    "memnode-unknown-cell",
    Severity.ERROR,
    """\
A `<memnode>` names a guest cell that does not exist, or there are no cells.

## What it checks
Every `<memnode cellid>` is one of the guest's cell ids, and each appears once.

## Why
libvirt refuses the domain: "Element 'memnode' is invalid without any guest NUMA
cells", "Argument 'cellid' in memnode element must correspond to existing guest's
NUMA cell", or "Multiple memnode elements with cellid N".

## Example
```xml
<numatune><memnode cellid='2' mode='strict' nodeset='0'/></numatune>
```

## Fix
Use cell ids 0..cells-1, one memnode per cell, or add `<cpu><numa>` cells.""",
)

VN413 = Code(
    "VN413",
    "numa-without-cells",
    Severity.ERROR,
    """\
`<cpu><numa>` has no `<cell>`.

## What it checks
A `<numa>` element contains at least one cell.

## Why
libvirt refuses the domain: "NUMA topology defined without NUMA cells".

## Example
```xml
<cpu><numa/></cpu>
```

## Fix
Add cells, or remove the empty `<numa>`.""",
)

VN414 = Code(
    "VN414",
    "memory-devices-exceed-max-memory",
    Severity.ERROR,
    """\
Initial memory plus memory devices exceed `<maxMemory>`.

## What it checks
The cells' memory plus every memory device's size is at most `<maxMemory>`; without
cells, `<memory>` (which already includes the devices) is.

## Why
libvirt refuses the domain: "memory device total size exceeds hotplug space"
(or "maximum memory size must be equal or greater than the actual memory size").

## Example
```xml
<maxMemory slots='16' unit='GiB'>8</maxMemory>
<memory unit='GiB'>4</memory>  <!-- cells 4 GiB, plus two 4 GiB DIMMs -->
```

## Fix
Raise `<maxMemory>` or remove devices.""",
)

VN415 = Code(
    "VN415",
    "vcpu-hotplug-granularity",
    Severity.ERROR,
    """\
On pSeries, the online vCPU count is not a multiple of the threads per core.

## What it checks
For ppc64 `pseries` guests, `<vcpu current>` (or the maximum) is a multiple of the
topology's `threads`: QEMU hot-plugs whole cores there.

## Why
libvirt refuses the domain: "vCPUs count must be a multiple of the vCPU hotplug
granularity (N)".

## Example
```xml
<vcpu current='2'>8</vcpu>
<cpu><topology sockets='1' cores='2' threads='4'/></cpu>   <!-- ppc64 pseries -->
```

## Fix
Bring vCPUs online in whole cores: current='4' or '8'.""",
)

VN416 = Code(
    "VN416",
    "pci-controller-numa-node",
    Severity.ERROR,
    """\
A PCI controller is placed on a guest NUMA node that does not exist, or is the root bus.

## What it checks
A `<controller type='pci'>` with `<target><node>` names an existing guest cell, and
the controller with index 0 (the root bus) has no node.

## Why
libvirt refuses both: "The PCI controller with index=0 can't be associated with a
NUMA node", and "... is configured for a NUMA node (N) not present in the domain's
<cpu><numa> array (M)".

## Example
```xml
<controller type='pci' index='1' model='pci-expander-bus'>
  <target busNr='254'><node>3</node></target>   <!-- 2 guest cells -->
</controller>
```

## Fix
Use a guest cell id, and leave the root controller without a node.""",
)

VN417 = Code(
    "VN417",
    "memory-device-slots-exceeded",
    Severity.ERROR,
    """\
More DIMM or NVDIMM devices than `<maxMemory slots>`.

## What it checks
With `<maxMemory>`, the memory devices that take a memory slot (models `dimm` and
`nvdimm`) are at most `slots` (0 when the attribute is left out, as libvirt >= 9.5
allows). `virtio-mem`, `virtio-pmem` and `sgx-epc` devices take no slot.

## Why
libvirt's QEMU driver refuses the domain at define time (and again at start):
"count of memory devices requiring memory slots 'N' exceeds slots count 'M'" (older
libvirt: "memory device count 'N' exceeds slots count 'M'").

## Example
```xml
<maxMemory slots='1' unit='GiB'>32</maxMemory>
...
<memory model='dimm'>...</memory>
<memory model='nvdimm'>...</memory>
```

## Fix
Raise `slots` to the number of DIMMs and NVDIMMs (and one per DIMM you mean to
hot-plug later), or remove devices.""",
)

VN418 = Code(
    "VN418",
    "memory-devices-exceed-memory",
    Severity.ERROR,
    """\
Without guest cells, the memory devices are larger than the guest's `<memory>`.

## What it checks
For a domain without `<cpu><numa>` cells, the sizes of all `<devices><memory>` add up
to at most `<memory>`: `<memory>` is the total, initial memory plus devices.

## Why
libvirt refuses the domain while parsing it: "Total size of memory devices exceeds
the total memory size". (With cells, libvirt recomputes `<memory>` as the cells plus
the devices instead; VN106 reports that.)

## Example
```xml
<memory unit='GiB'>2</memory>        <!-- no <cpu><numa> -->
<memory model='dimm'><target><size unit='GiB'>4</size></target></memory>
```

## Fix
Make `<memory>` the initial memory plus every device's size.""",
)

VN419 = Code(
    "VN419",
    "memory-device-slot-beyond-slots",
    Severity.ERROR,
    """\
A DIMM or NVDIMM's `<address slot>` is not below `<maxMemory slots>`.

## What it checks
A memory device that takes a memory slot (models `dimm` and `nvdimm`) and gives an
`<address type='dimm' slot='N'/>` names a slot below `slots` of `<maxMemory>`
(slots are numbered from 0; `slots` is 0 when left out).

## Why
libvirt's QEMU driver refuses the domain at define time (and again at start):
"memory device slot 'N' exceeds slots count 'M'". VN417 counts the devices; a
device can fit the count and still name a slot past it.

## Example
```xml
<maxMemory slots='2' unit='GiB'>32</maxMemory>
...
<memory model='dimm'>
  <target><size unit='GiB'>1</size><node>0</node></target>
  <address type='dimm' slot='2'/>
</memory>
```

## Fix
Use a free slot below `slots`, raise `slots` above the slot number, or drop the
`<address>` and let libvirt assign one.""",
)

# --- Whole-host admission (all guests of a host together) ---------------------------------------

VN501 = Code(
    "VN501",
    "host-cpu-pinned-twice",
    Severity.ERROR,
    """\
The same host CPU is pinned exclusively by vCPUs of two guests.

## What it checks
Across all guests mapped to the host, no host CPU is the single-CPU `<vcpupin>`
target of vCPUs in two different guests.

## Why
A vCPU pinned to exactly one host CPU is meant to own it (real-time, DPDK,
databases). Two guests on the same CPU time-share it, and both lose the latency
they were pinned for. libvirt checks nothing across domains; oVirt's pinning
helpers are known to pin every VM to the same first CPUs.

## Example
```xml
<!-- vms/hv01/db01.xml -->  <vcpupin vcpu='0' cpuset='4'/>
<!-- vms/hv01/db02.xml -->  <vcpupin vcpu='0' cpuset='4'/>
```

## Fix
Give each guest its own host CPUs, or pin one of them to a shared (floating) set.""",
)

VN502 = Code(
    "VN502",
    "node-memory-overcommitted",
    Severity.ERROR,
    """\
Guests strictly bound to the same host nodes need more memory than the nodes have.

## What it checks
The strict/restrictive-bound, small-page memory of all guests mapped to the host
fits the bound nodes' memory minus their huge page pools. A cell bound to several
nodes may use any of them: the check is exact (a max-flow), not a per-node sum.

## Why
Each guest passes VN203 alone, yet together they cannot all start: the last one
is OOM-killed or fails to allocate. Nova and oVirt count a host's memory, not
each node's.

## Example
Two guests, each with a 120 GiB cell bound strictly to host node 0 (192 GiB).

## Fix
Bind one guest to another node, move it to another host, or shrink them.""",
)

VN503 = Code(
    "VN503",
    "hugepage-pools-overcommitted",
    Severity.ERROR,
    """\
Guests on one host need more huge pages of a size than the pools hold.

## What it checks
Per page size, the pages of all guests mapped to the host fit the pools: pages of
a strictly bound cell come from its nodes' pools, others from any node.

## Why
libvirt never checks pools; the guest that starts last fails with "unable to map
backing store for guest RAM". Each guest alone passes VN206.

## Example
Two guests with 48 x 1 GiB pages each, bound to host node 0, whose pool has 64.

## Fix
Grow the pool, bind a guest to other nodes, or move it to another host.""",
)

VN504 = Code(
    "VN504",
    "free-memory-exceeded",
    Severity.WARNING,
    """\
The guests need more memory than the snapshot says is free on their nodes.

## What it checks
Only when the host snapshot records free memory per node (`vnuma capture` does):
the small-page memory of all guests mapped to the host fits the free memory of the
nodes it is bound to (unbound guests: of any node). A shortfall of one strictly
bound guest alone is VN209's.

## Why
Total memory says whether guests could ever fit; free memory says whether they
fit now, beside everything else running on the host.

## Example
Three guests of 64 GiB bound to node 0, whose snapshot shows 100 GiB free.

## Fix
Start fewer guests on the host, or bind some to nodes with free memory. If the
guests already run, the snapshot's free figure already excludes them.""",
)

VN505 = Code(
    "VN505",
    "guest-name-taken",
    Severity.ERROR,
    """\
Two different guests on one host have the same `<name>` (or the same `<uuid>`).

## What it checks
Among the files mapped to one host, those that name the same guest are one guest
when nothing tells them apart: an intent and the domain XML compiled from it, or two
copies of one domain (same `<uuid>`). Then the domain XML stands for the guest in
whole-host admission (it is what `virsh define` was given; the intent is linted on
its own). Two files of the same kind with one name and no common `<uuid>`, or one
`<uuid>` under two names, are two different guests that claim one identity.

## Why
libvirt refuses the second: "domain 'db01' already exists with uuid ..." (same
name, another uuid) or "domain 'db01' is already defined with uuid ..." (same uuid,
another name), so one of them cannot be defined on the host.

## Example
```
vms/hv01/db01.yaml       name: db01
vms/hv01/db01-new.yaml   name: db01
```

## Fix
Rename one of the guests, give the copies one `<uuid>`, or map one to another host.""",
)

VN506 = Code(
    "VN506",
    "emulator-on-dedicated-cpu",
    Severity.WARNING,
    """\
A guest's emulator threads are pinned onto a host CPU another guest's vCPU is dedicated to.

## What it checks
Across all guests mapped to the host, no `<emulatorpin>` CPU of one guest is the
single-CPU `<vcpupin>` target of a vCPU of another guest.

## Why
A dedicated vCPU is meant to own its host CPU. The other guest's QEMU threads (I/O,
migration, the main loop) then time-share it, and the vCPU gets the latency spikes
it was pinned to avoid. libvirt and QEMU accept it (libvirt checks nothing across
domains), so it shows only as jitter. `vnuma compile` keeps the emulator threads off
other guests' dedicated CPUs; hand-written or older domains may not.

## Example
```xml
<!-- vms/hv01/db01.xml -->  <vcpupin vcpu='0' cpuset='4'/>
<!-- vms/hv01/web01.xml --> <emulatorpin cpuset='4-5'/>
```

## Fix
Pin the emulator threads to housekeeping CPUs no guest's vCPU is dedicated to (or
`cpu.emulator: auto`).""",
)

VN507 = Code(
    "VN507",
    "isolated-core-shared",
    Severity.WARNING,
    """\
Another guest's dedicated vCPU or emulator threads are pinned onto an idle sibling of a core an isolated guest holds whole.

## What it checks
A guest placed with `cpu.threads: isolate` gets each vCPU a whole host core: the
pinned thread, and its sibling threads held idle (shown as held by `vnuma show`).
Across all guests mapped to the host, no other guest's single-CPU `<vcpupin>` or
`<emulatorpin>` CPU is one of those held siblings. A domain XML cannot say
isolate: a domain holds only the CPUs of its dedicated pins (VN501, VN506).

## Why
`isolate` is asked for so that no other thread shares the core's execution units
and caches (SMT siblings compete for them). A vCPU or QEMU thread of another guest
on the sibling takes that away without any error: libvirt and QEMU accept it, and
the CPU itself is not time-shared, so this is a warning.

## Example
```
vms/hv01/rt01.yaml   cpu: {pinning: dedicated, threads: isolate}   # vCPU 0 -> CPU 2, CPU 34 held
vms/hv01/web01.xml   <vcpupin vcpu='0' cpuset='34'/>
```

## Fix
Pin the other guest to CPUs of cores no isolated guest holds (`vnuma compile
--occupied` chooses them), or compile the isolated guest beside it.""",
)

# --- Placement (auto host nodes, cells: N, CPU pinning) -----------------------------------------

VN601 = Code(
    "VN601",
    "placement-needs-host",
    Severity.ERROR,
    """\
The intent leaves decisions to vnuma (auto nodes, `cells: N`, pinning) but has no host.

A host snapshot with NUMA cells is needed to decide them.

## What it checks
`nodeset: auto`, `host_nodes: auto`, `cells: N`, `cpu.pinning`, `cpu.emulator` and
`cpu.topology: auto` are decided against a host snapshot: `--host` or `host:`.

## Why
Host nodes, CPUs and sibling threads differ between machines; vnuma never guesses
them.

## Example
```yaml
numatune: {mode: strict, nodeset: auto}     # and no host: key
```

## Fix
Add `host: ../hosts/hv01.xml` to the intent or pass `--host`.""",
)

VN602 = Code(
    "VN602",
    "no-host-node-fits",
    Severity.ERROR,
    """\
A guest cell fits on no host node.

## What it checks
For each cell to place: some host node has its memory (small pages net of huge page
pools, free memory when the snapshot records it, minus `numatune.reserve` and the
memory of `--occupied` guests), its huge pages, and CPUs for the pinning policy
after `cpu.reserved`. The message says which resource is short on each node, by
how much.

## Why
A strictly bound cell that does not fit its node fails at start or is OOM-killed;
a pinned vCPU needs a free host CPU.

## Example
```yaml
cells:
  - {cpus: "0-7", memory: 256GiB, host_nodes: auto}   # every node has 192 GiB
```

## Fix
Split the guest into more cells, shrink it, use `mode: preferred` (suggested when it
would fit), or choose another host (`vnuma fit`).""",
)

VN603 = Code(
    "VN603",
    "more-cells-than-nodes",
    Severity.ERROR,
    """\
More guest cells to place than host nodes that can take one.

## What it checks
Automatically placed cells go to distinct host nodes (the guest's NUMA picture
mirrors real hardware), so there must be at least as many usable nodes as cells.

## Why
Two guest cells on one host node give the guest a fake NUMA boundary: its kernel
and applications optimise for a distance that does not exist.

## Example
```yaml
cells: 4                      # on a 2-node host
numatune: {nodeset: auto}
```

## Fix
Use as many cells as the host has nodes (the hint says which count fits).""",
)

VN604 = Code(
    "VN604",
    "no-feasible-placement",
    Severity.ERROR,
    """\
Every cell fits some host node alone, but no assignment fits them all together.

## What it checks
An exact search (a matching of cells onto distinct nodes) finds no assignment.

## Why
Nova's placement answers such cases wrongly about 7% of the time (its fit cache);
vnuma's answer is exact.

## Example
Two 100 GiB cells with `host_nodes: auto` on a host with one 192 GiB node and one
64 GiB node.

## Fix
Follow the hint (fewer cells, preferred mode), or choose another host.""",
)

VN605 = Code(
    "VN605",
    "uneven-split",
    Severity.INFO,
    """\
`cells: N` could not split vCPUs or memory evenly.

## What it checks
Reported when the automatic split gives cells different vCPU counts or memory.

## Why
Uneven cells are allowed but worth knowing: the guest's NUMA nodes differ in size.

## Example
```yaml
vcpus: 10
cells: 4          # 3, 3, 2, 2 vCPUs
```

## Fix
Nothing to fix if intended; otherwise pick counts that divide evenly.""",
)

VN606 = Code(
    "VN606",
    "cells-split-impossible",
    Severity.ERROR,
    """\
`cells: N` cannot be split: too few guest cores or memory units for N cells.

## What it checks
Each cell gets at least one whole guest core (threads are never split across
cells) and one memory unit (a huge page, else 1 MiB); memory is a whole number of
units.

## Why
A guest core whose threads sit in two NUMA nodes does not exist on real hardware,
and QEMU needs each cell's memory in whole pages.

## Example
```yaml
vcpus: 2
cells: 4
```

## Fix
Use fewer cells or more vCPUs/memory.""",
)

VN607 = Code(
    "VN607",
    "thread-policy-impossible",
    Severity.ERROR,
    """\
`cpu.threads: require` cannot put the guest's vCPU pairs on host sibling pairs.

## What it checks
Each cell has an even number of vCPUs and its host node has that many free sibling
threads in pairs.

## Why
`require` promises the guest real SMT siblings (as Nova's `hw:cpu_thread_policy`);
without them there is nothing honest to generate.

## Example
```yaml
cpu: {pinning: dedicated, threads: require}    # on a host without SMT
```

## Fix
Use `threads: prefer`, an even vCPU count per cell, or a host with SMT.""",
)

VN608 = Code(
    "VN608",
    "emulator-overlaps-vcpus",
    Severity.ERROR,
    """\
An explicit `cpu.emulator` set overlaps host CPUs given to dedicated vCPUs.

## What it checks
The emulator CPU set and the dedicated vCPU pins are disjoint.

## Why
QEMU's emulator and I/O threads would steal time from vCPUs that were promised a
CPU of their own (see VN403 for the same mistake in a domain XML).

## Example
```yaml
cpu: {pinning: dedicated, emulator: "2"}   # CPU 2 holds vCPU 0
```

## Fix
Use `emulator: auto`, or housekeeping CPUs listed in `cpu.reserved`.""",
)

VN609 = Code(
    "VN609",
    "emulator-not-pinned",
    Severity.INFO,
    """\
No free host CPU was left for the emulator threads, so they are not pinned.

## What it checks
With `emulator: auto`, a CPU of the guest's first node that no vCPU uses (a whole
core under `threads: isolate`), else the `cpu.reserved` CPUs.

## Why
Unpinned emulator threads may run on the dedicated vCPUs' CPUs.

## Example
```yaml
cpu: {pinning: dedicated}    # the guest uses every CPU of its node
```

## Fix
List housekeeping CPUs in `cpu.reserved`, or leave a CPU free.""",
)


ALL: tuple[Code, ...] = (
    VN001,
    VN002,
    VN003,
    VN004,
    VN005,
    VN006,
    VN007,
    VN008,
    VN009,
    VN010,
    VN011,
    VN012,
    VN013,
    VN014,
    VN015,
    VN016,
    VN101,
    VN102,
    VN103,
    VN104,
    VN105,
    VN106,
    VN107,
    VN108,
    VN109,
    VN110,
    VN111,
    VN112,
    VN113,
    VN114,
    VN115,
    VN116,
    VN117,
    VN118,
    VN119,
    VN120,
    VN121,
    VN122,
    VN201,
    VN202,
    VN203,
    VN204,
    VN205,
    VN206,
    VN207,
    VN208,
    VN209,
    VN210,
    VN301,
    VN401,
    VN402,
    VN403,
    VN404,
    VN405,
    VN406,
    VN407,
    VN408,
    VN409,
    VN410,
    VN411,
    VN412,
    VN413,
    VN414,
    VN415,
    VN416,
    VN417,
    VN418,
    VN419,
    VN501,
    VN502,
    VN503,
    VN504,
    VN505,
    VN506,
    VN507,
    VN601,
    VN602,
    VN603,
    VN604,
    VN605,
    VN606,
    VN607,
    VN608,
    VN609,
)
"""Every code, in code order."""

_BY_CODE = {entry.code: entry for entry in ALL}


def get(code: str) -> Code | None:
    """The record of ``code`` (any case), or None when the catalogue has no such code."""
    return _BY_CODE.get(code.upper())


def make_diagnostic(
    code: Code | str,
    message: str,
    path: str,
    span: Span | None = None,
    *,
    hint: str | None = None,
    json_path: JsonPath | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    """A diagnostic with the code's name and (unless ``severity`` is given) default severity.

    ``code`` is a record of this catalogue or a code string, which must be in it."""
    entry = get(code) if isinstance(code, str) else code
    if entry is None:
        raise KeyError(f"unknown rule code {code}")
    return Diagnostic(
        code=entry.code,
        name=entry.name,
        severity=severity if severity is not None else entry.severity,
        message=message,
        path=path,
        span=span,
        hint=hint,
        json_path=format_json_path(json_path) if json_path is not None else None,
    )
