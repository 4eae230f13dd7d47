"""Text for a terminal: the width to fit, lines wrapped between words, tables that wrap.

Lines break only between words, and not between a number and the word it counts ("80
CPUs", "1 GiB") nor inside parentheses; a word longer than a whole line breaks after a
space, comma or slash where it has one. So a number is never cut. Continuation lines are
indented; ANSI colour codes take no columns.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Sequence

_ANSI = re.compile(r"\033\[[0-9;]*m")
_ATOM = re.compile(r" |(?<=[,/])")
"""Where a word too long for its line may be cut."""
_NUMBER = re.compile(r"\d[\d.,/-]*[,;:)]?")
MIN_WIDTH = 20
"""Narrower terminals are treated as this wide (a line must hold a few words)."""


def terminal_width() -> int:
    """The terminal's columns ($COLUMNS first), 80 when the output is not a terminal."""
    return max(terminal_columns(), MIN_WIDTH)


def terminal_columns(fallback: int = 80) -> int:
    """What ``shutil.get_terminal_size().columns`` answers, without importing shutil: it
    loads zlib, bz2 and lzma for its archive functions, a few ms of every run."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or fallback


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def wrap(text: str, width: int, *, indent: int = 2, lead: str = "", sep: str = " ") -> list[str]:
    """``lead`` (kept whole) then ``text``, broken at ``sep`` into lines of at most ``width``
    columns; continuation lines start with ``indent`` spaces."""
    width = max(width, MIN_WIDTH)
    return _wrap(_tokens(text, sep), sep, width, min(indent, width - MIN_WIDTH), lead)


def wrap_items(
    items: Sequence[str], width: int, *, indent: int = 2, lead: str = "", sep: str = " "
) -> list[str]:
    """As `wrap`, for text already in pieces that must each stay on one line."""
    width = max(width, MIN_WIDTH)
    return _wrap(items, sep, width, min(indent, width - MIN_WIDTH), lead)


def _tokens(text: str, sep: str) -> list[str]:
    """``text``'s words; a number stays with the word it counts ("80 CPUs") or, ending a
    clause, with the word it numbers ("node 0,"); a parenthesis stays whole."""
    words = [w for w in text.split(sep) if w]
    tokens: list[str] = []
    for k, word in enumerate(words):
        last = k == len(words) - 1
        if tokens and (_open(tokens[-1]) or _counts(tokens[-1], word) or _closes(word, last)):
            tokens[-1] += sep + word
        else:
            tokens.append(word)
    return tokens


def _open(token: str) -> bool:
    return token.count("(") > token.count(")")


def _counts(number: str, word: str) -> bool:
    plain = _ANSI.sub("", number), _ANSI.sub("", word)
    return plain[0][-1:].isdigit() and plain[1][:1].isalpha()


def _closes(word: str, last: bool) -> bool:
    plain = _ANSI.sub("", word)
    return _NUMBER.fullmatch(plain) is not None and (last or plain[-1] in ",;:)")


def _wrap(tokens: Sequence[str], sep: str, width: int, indent: int, lead: str) -> list[str]:
    lines: list[str] = []
    line, fresh = lead, True  # fresh: nothing but the lead or the indent on `line` yet
    for token in tokens:
        joined = token if fresh else sep + token
        if visible_len(line) + visible_len(joined) <= width:
            line, fresh = line + joined, False
            continue
        if not fresh and visible_len(token) <= width - indent:
            lines.append(line)
            line, joined = " " * indent, token
        # a token longer than any line is cut, its first piece where the line stands
        first, *rest = _pieces(joined, width - visible_len(line), width - indent)
        line += first
        for piece in rest:
            lines.append(line)
            line = " " * indent + piece
        fresh = False
    lines.append(line)
    return [item.rstrip() for item in lines]


def _pieces(token: str, first: int, rest: int) -> list[str]:
    """A token cut to fit lines of ``first`` then ``rest`` columns (whole when it fits)."""
    pieces = []
    room = max(first, 1)
    while visible_len(token) > room and "\033" not in token:
        cuts = [match.end() for match in _ATOM.finditer(token, 0, room + 1) if match.end() > 0]
        cut = cuts[-1] if cuts else room
        pieces.append(token[:cut].rstrip())
        token, room = token[cut:].lstrip(), max(rest, 1)
    return [*pieces, token]


def _floor(text: str) -> int:
    """The narrowest a table cell can wrap to: its longest uncuttable part."""
    return max((visible_len(atom) for atom in _ATOM.split(text)), default=0)


def table(rows: Sequence[Sequence[str]], width: int, wrappable: Collection[int]) -> list[str]:
    """Columns two spaces apart; when the table is wider than ``width``, the widest
    ``wrappable`` column narrows (its cells wrap inside it) until the table fits or no
    column can narrow further."""
    count = len(rows[0])
    widths = [max(visible_len(row[i]) for row in rows) for i in range(count)]
    floors = {i: max(_floor(row[i]) for row in rows) for i in wrappable}
    while sum(widths) + 2 * (count - 1) > width:
        narrowable = [i for i in wrappable if widths[i] > floors[i]]
        if not narrowable:
            break
        widths[max(narrowable, key=lambda i: widths[i])] -= 1
    out = []
    for row in rows:
        cells = [
            _wrap(_tokens(value, " "), " ", widths[i], 0, "") if i in wrappable else [value]
            for i, value in enumerate(row)
        ]
        for k in range(max(len(cell) for cell in cells)):
            parts = [
                _pad(cell[k] if k < len(cell) else "", widths[i]) for i, cell in enumerate(cells)
            ]
            out.append("  ".join(parts).rstrip())
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * (width - visible_len(text))
