"""The base of vnuma's value records.

A record lists its fields in ``__slots__`` and sets them in an ``__init__`` written out in
its class (one parameter per public field, of the same name); this base only compares,
hashes, shows, copies and pickles a record by those fields. Slots named with a leading
underscore are the record's own memo of a derived value, and fields named in
``_uncompared`` (where a value was written, a per-run cache) are carried along by copies
but are not part of the value. Nothing is generated: a record class costs what any small class
costs to create (a frozen dataclass or a NamedTuple builds and compiles methods for each
class, at every start of a pre-commit hook).

Records are values: nothing changes one once built (``_replace`` makes a changed copy).
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, Self


class Record:
    __slots__: tuple[str, ...] = ()
    _uncompared: ClassVar[tuple[str, ...]] = ()
    _public: ClassVar[tuple[str, ...]] = ()
    """The ``__init__`` parameters: every slot without a leading underscore."""
    _compared: ClassVar[tuple[str, ...]] = ()
    """What the record's value is: the public fields less ``_uncompared``."""

    _read: ClassVar[Callable[[Any], tuple[Any, ...]]]
    """The compared fields' values, as a tuple: a C `attrgetter` (records are compared and
    hashed as dictionary keys in placement's inner loops)."""

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._public = tuple(name for name in cls.__slots__ if not name.startswith("_"))
        cls._compared = compared = tuple(
            name for name in cls._public if name not in cls._uncompared
        )
        if len(compared) > 1:
            cls._read = staticmethod(attrgetter(*compared))
        else:  # attrgetter of one name returns the value itself, not a tuple
            cls._read = staticmethod(lambda record: tuple([getattr(record, n) for n in compared]))

    def _values(self) -> tuple[Any, ...]:
        return type(self)._read(self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), tuple([getattr(self, name) for name in self.__slots__]))

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (keyword: field name)."""
        values = {name: changes.pop(name, getattr(self, name)) for name in self._public}
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(changes)}")
        return type(self)(**values)


def _rebuild(cls: type[Record], values: tuple[Any, ...]) -> Record:
    """A pickled record back (every slot, as ``__reduce__`` listed them)."""
    record = object.__new__(cls)
    for name, value in zip(cls.__slots__, values, strict=True):
        object.__setattr__(record, name, value)
    return record
