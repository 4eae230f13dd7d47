"""Codes reported while reading and validating input files and verifying output."""

from vnuma.diagnostics import Severity
from vnuma.rules import declare

declare(
    "VN001",
    "syntax-error",
    Severity.ERROR,
    """
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
    Correct the syntax at the reported position.
""",
)

declare(
    "VN002",
    "schema-violation",
    Severity.ERROR,
    """
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
    Follow the message: it names the key, the expected type or values, and the JSON path.
""",
)

declare(
    "VN003",
    "unknown-key",
    Severity.ERROR,
    """
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
    Use the suggested key, or remove it.
""",
)

declare(
    "VN004",
    "size-without-unit",
    Severity.ERROR,
    """
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
    Add the unit you meant: `memory: 4096MiB`.
""",
)

declare(
    "VN005",
    "invalid-size",
    Severity.ERROR,
    """
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
    Write `64GiB` (binary) or `64GB` (decimal).
""",
)

declare(
    "VN006",
    "invalid-cpuset",
    Severity.ERROR,
    """
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
    Write ranges low to high: `cpus: "0-7"`.
""",
)

declare(
    "VN007",
    "duplicate-key",
    Severity.ERROR,
    """
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
    Keep one of them.
""",
)

declare(
    "VN008",
    "host-snapshot-invalid",
    Severity.ERROR,
    """
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
    Save the host's topology with `virsh capabilities > host.xml`.
""",
)

declare(
    "VN009",
    "host-without-numa",
    Severity.WARNING,
    """
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
    Capture the snapshot on the hypervisor itself: `virsh capabilities`.
""",
)

declare(
    "VN010",
    "base-domain-invalid",
    Severity.ERROR,
    """
    The `--domain` file is not a libvirt domain definition.

    ## What it checks
    The base domain must be well-formed XML with a `<domain>` root.

    ## Why
    vnuma replaces the NUMA elements of that domain and keeps the rest; it must
    be able to read it.

    ## Example
    `--domain host.xml` where host.xml is a capabilities file.

    ## Fix
    Pass a domain definition, e.g. from `virsh dumpxml NAME`.
""",
)

declare(
    "VN011",
    "max-memory-below-memory",
    Severity.ERROR,
    """
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
    Raise `<maxMemory>` in the base domain, or lower the intent's memory.
""",
)

declare(
    "VN301",
    "output-schema-invalid",
    Severity.ERROR,
    """
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
    Read libvirt's message; if the problem is in vnuma's own elements, please report it.
""",
)

declare(
    "VN012",
    "host-snapshot-missing",
    Severity.ERROR,
    """
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
    Fix the path (relative to the intent), or pass `--host`.
""",
)

declare(
    "VN013",
    "base-domain-schema-invalid",
    Severity.WARNING,
    """
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
    the schemas of the libvirt version you deploy to.
""",
)

declare(
    "VN014",
    "base-topology-mismatch",
    Severity.ERROR,
    """
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
    or the intent's vcpus.
""",
)

declare(
    "VN015",
    "unused-suppression",
    Severity.WARNING,
    """
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
    Delete the comment, or correct the code it names.
""",
)

declare(
    "VN016",
    "domain-value-invalid",
    Severity.ERROR,
    """
    A libvirt domain XML has a value libvirt's parser refuses.

    ## What it checks
    While a domain is read into the model: integers are integers, enumerations
    (`mode`, `placement`, `memAccess`) have known values, required attributes
    (`<cell memory>`, `<vcpupin cpuset>`, `<memnode cellid>`) are present, and
    the domain has a memory size and at least one vCPU.

    ## Why
    `virsh define` fails with the message quoted in the finding, e.g.
    "Invalid value for attribute 'memAccess' in element 'cell': 'invalid'."

    ## Example
    ```xml
    <cell id='0' cpus='0-1' memory='1048576' memAccess='invalid'/>
    ```

    ## Fix
    Use a value libvirt accepts, as the finding's hint lists.
""",
)
