"""Emit stage: plan the libvirt elements, render them with the templates, merge, verify."""
