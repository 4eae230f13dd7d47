"""vnuma.records: value records compare, hash, show, copy and pickle by their fields."""

from __future__ import annotations

import copy
import pickle

import pytest
from vnuma.diagnostics import Diagnostic, Severity, Span
from vnuma.model.guest import GuestCell, MemMode, NumaTune


def _diagnostic(**changes: object) -> Diagnostic:
    fields: dict[str, object] = {
        "code": "VN203",
        "name": "cell-exceeds-node",
        "severity": Severity.ERROR,
        "message": "cell 0 needs 9 GiB",
        "path": "a.yaml",
        "span": Span(3, 5, 3, 9),
        "hint": None,
    }
    fields.update(changes)
    return Diagnostic(**fields)  # type: ignore[arg-type]


def test_records_are_equal_by_every_field_and_hash_alike() -> None:
    assert _diagnostic() == _diagnostic()
    assert hash(_diagnostic()) == hash(_diagnostic())
    for field, other in [("code", "VN204"), ("message", "x"), ("span", None), ("hint", "h")]:
        assert _diagnostic() != _diagnostic(**{field: other}), field
    assert len({_diagnostic(), _diagnostic(), _diagnostic(hint="h")}) == 2


def test_records_of_different_types_never_compare_equal() -> None:
    # NamedTuples would: both are tuples of the same values
    assert NumaTune(MemMode.STRICT) != GuestCell(0, 0, frozenset(), 0)
    assert NumaTune() != (MemMode.STRICT, None)


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    original = _diagnostic()
    changed = original._replace(severity=Severity.WARNING)
    assert changed.severity is Severity.WARNING and original.severity is Severity.ERROR
    assert changed._replace(severity=Severity.ERROR) == original
    with pytest.raises(TypeError, match="no field colour"):
        original._replace(colour="red")


def test_pickle_and_copy_give_equal_records() -> None:
    original = _diagnostic()
    for again in (
        pickle.loads(pickle.dumps(original)),
        copy.copy(original),
        copy.deepcopy(original),
    ):
        assert again == original and type(again) is Diagnostic
        assert again.line == 3 and again.sort_key() == original.sort_key()


def test_repr_names_every_field() -> None:
    text = repr(NumaTune(MemMode.INTERLEAVE, frozenset({1})))
    assert text.startswith("NumaTune(") and "mode=<MemMode.INTERLEAVE" in text
    assert "nodeset=frozenset({1})" in text and "guest_wide=True" in text


def test_uncompared_fields_are_carried_but_are_not_the_value() -> None:
    from vnuma.diagnostics import PositionMap
    from vnuma.model.guest import INTENT_LANGUAGE, Guest

    here = PositionMap({("vcpus",): Span(2, 8, 2, 9)})
    guest = Guest("a.yaml", 2, 1024, INTENT_LANGUAGE, positions=here)
    elsewhere = Guest("a.yaml", 2, 1024, INTENT_LANGUAGE)
    assert guest == elsewhere and hash(guest) == hash(elsewhere)
    assert guest != guest._replace(vcpus=4)
    assert guest._replace(vcpus=4).positions is here
    again = pickle.loads(pickle.dumps(guest))
    assert again == guest and again.positions.values == {("vcpus",): Span(2, 8, 2, 9)}


def test_records_of_one_field_or_none_compare_and_hash_by_value() -> None:
    """`Record._read` is a C attrgetter for two fields or more, a tuple of one or none
    otherwise: every record's value is a tuple."""
    from vnuma.records import Record

    class One(Record):
        __slots__ = ("a",)

        def __init__(self, a: object) -> None:
            self.a = a

    class Empty(Record):
        __slots__ = ()

    assert One(1) == One(1) and One(1) != One(2) and hash(One(1)) == hash(One(1))
    assert One(1)._values() == (1,) and Empty()._values() == () and Empty() == Empty()
    assert Span(1, 2, 3, 4)._values() == (2, 4, 3, 1)  # __slots__ order
    assert Span(1, 2, 3, 4).as_tuple() == (1, 2, 3, 4)
