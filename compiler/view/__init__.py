"""Views: what the stages computed, drawn as text, SVG or HTML."""
