"""PyYAML's safe loader with a leaner implicit-tag resolver (imported on first YAML load).

PyYAML asks the resolver for the tag of every plain scalar while it composes: the stock
`Resolver.resolve` concatenates two lists of regular expressions and checks path
resolvers for each, a third of the time of composing a fleet's intent with libyaml. This
one looks up the same implicit resolvers in the same order, so every node gets the tag
the stock resolver gives it (``tests/test_intent_loader.py`` compares them)."""

from __future__ import annotations

import yaml
from yaml.nodes import ScalarNode

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class IntentLoader(_Base):  # type: ignore[misc]
    """`yaml.CSafeLoader` (or `SafeLoader` without libyaml): safe construction only."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if implicit[0]:
            table = self.yaml_implicit_resolvers
            for tag, regexp in table.get(value[:1], ()):
                if regexp.match(value):
                    return tag
            for tag, regexp in table.get(None, ()):
                if regexp.match(value):
                    return tag
        return self.DEFAULT_SCALAR_TAG
