"""vnuma: compile and lint guest NUMA placement for libvirt/KVM.

Pipeline, one module per stage (data flows one way, as plain dataclasses):

    load -> validate (schema) -> model -> check (rules) -> plan -> emit -> verify
"""

__version__ = "0.1.0"
