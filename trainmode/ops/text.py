"""Text hygiene, in one place: what free text (captions, artist names, upload names) may hold,
and how text is made safe where it leaves (a CSV cell, a terminal line).

Invisible characters cause visible harm: U+2028 or NEL splits a JSON Lines file for one reader
and not another, ESC and BEL drive a terminal, bidi overrides show a name other than the one
stored, NUL truncates in C. So text loses them where it comes in (`clean`, through
`required_text`) and again where it goes out (exports call `one_line`, the CLI `for_terminal`),
for rows saved before this rule.
- Line breaks of every kind (CR, LF, CRLF, VT, FF, NEL, U+2028, U+2029) become "\n", or a
  space where the text is one line (a caption: its `.txt` is one line, a name).
- Other controls go: C0 and C1 (NUL, ESC, BEL, DEL...), bidi embeddings, overrides and
  isolates (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and the BOM / zero-width
  no-break space (U+FEFF). Tabs become spaces. Joiners (U+200C, U+200D) stay: scripts and emoji need them.
"""

from __future__ import annotations

import re
import unicodedata

from trainmode.errors import ValidationError

LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BREAK_RE = re.compile(f"\r\n|[{re.escape(LINE_BREAKS)}]")
_DROP = {cp: None for cp in range(0x20) if chr(cp) not in LINE_BREAKS + "\t"}
_DROP.update({cp: None for cp in range(0x7F, 0xA0) if cp != 0x85})
_DROP.update({ord(c): None for c in BIDI + "\ufeff"})
_DROP[ord("\t")] = " "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def clean(value: str | None, *, one_line: bool = False) -> str:
    """`value` without control characters; line breaks are "\n" (one_line: spaces, and runs of
    white space are one space). Not trimmed unless one_line."""
    text = _BREAK_RE.sub("\n", str(value or "")).translate(_DROP)
    return " ".join(text.split()) if one_line else text


def one_line(value: str | None) -> str:
    """`value` as one clean line (captions and names in exports, CSV cells, table cells)."""
    return clean(value, one_line=True)


def required_text(value: str | None, *, what: str, limit: int, when_empty: str, multiline: bool = False) -> str:
    """`value` cleaned (one line unless `multiline`) and trimmed; ValidationError if it is empty
    or longer than `limit` characters."""
    value = clean(value, one_line=not multiline).strip()
    if not value:
        raise ValidationError(f"The {what} is empty: {when_empty}.")
    if len(value) > limit:
        raise ValidationError(f"The {what} is {len(value)} characters; keep it to {limit}.")
    return value


def file_name(value: str | None, *, fallback: str = "upload") -> str:
    """An uploaded file's name as stored and shown: the last path part, one clean line."""
    name = one_line(str(value or "").replace("\\", "/").rsplit("/", 1)[-1])
    return name or fallback


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula (= + - @) gets a
    leading apostrophe (OWASP's CSV injection advice); `csv_value` undoes it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_value(cell: str) -> str:
    """The value a `csv_cell` was made from."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def counted(n: int, noun: str) -> str:
    """ "1 item", "3 items": a count with its noun (regular plurals only)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def for_terminal(value) -> str:
    """`value` safe to print on a terminal line: every control character (and line break, bidi
    control) is shown as an escape such as \\x1b or \\u202e instead of acting."""
    return "".join(_escape(c) if _unsafe(c) else c for c in str(value))


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI or char == "\ufeff"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
