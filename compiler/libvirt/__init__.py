"""libvirt's XML: the capabilities and domain documents vnuma reads and writes."""
