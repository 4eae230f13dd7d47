"""Renderers for `vnuma show`: terminal text, SVG and HTML."""
