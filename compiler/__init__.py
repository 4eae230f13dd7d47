"""vnuma: compile and lint guest NUMA placement for libvirt/KVM.

One runner (`vnuma.runner`) takes every guest through the stages, for every command:

    load -> validate (schema) -> model -> place -> check -> admit -> emit -> verify

`vnuma.api` is the Python API; docs/architecture.md describes the layout.
"""

__version__ = "0.1.0"
