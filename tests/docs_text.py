"""Reading the Markdown docs for the tests that keep them true (tests/test_docs*.py): sections,
tables, links, diagrams, and the tables the migrations create."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "train-mode-architecture.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MIGRATION = next(iter(sorted((ROOT / "supabase" / "migrations").glob("*_train_mode.sql"))), None)

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


# ---- reading markdown ------------------------------------------------------------------
def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose_lines(text: str) -> list[str]:
    """The file's lines with fenced code blanked out (line numbers kept)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else line)
    return out


def mermaid_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, source) of every ```mermaid block."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if current is None and stripped.startswith("```mermaid"):
            current, start = [], number
        elif current is not None and stripped.startswith("```"):
            blocks.append((start, "\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"{rel(path)}:{start}: unclosed mermaid block"
    return blocks


def all_mermaid_blocks() -> list[tuple[str, str]]:
    return [(f"{rel(path)}:{line}", code) for path in DOC_FILES for line, code in mermaid_blocks(path)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            out.add(base if base not in seen else f"{base}-{seen[base]}")
            seen[base] = seen.get(base, 0) + 1
    return out


def section(path: Path, title: str) -> str:
    """The text under the heading `title` (any level) up to the next heading of the same or higher level."""
    lines = path.read_text(encoding="utf-8").splitlines()
    prose = prose_lines("\n".join(lines))
    for index, line in enumerate(prose):
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        if match and match.group(2).strip() == title:
            level = len(match.group(1))
            end = next(
                (
                    j
                    for j in range(index + 1, len(prose))
                    if (m := re.match(r"^(#{1,6})\s", prose[j])) and len(m.group(1)) <= level
                ),
                len(lines),
            )
            return "\n".join(lines[index + 1 : end])
    raise AssertionError(f"{rel(path)} has no section {title!r}")


def table_rows(text: str) -> list[list[str]]:
    """Cells of every markdown table row in `text`, header and separator rows left out."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            rows.pop()  # the row above a separator is the header
            continue
        rows.append(cells)
    return rows


def defines(path: Path, name: str) -> bool:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None
    return (
        re.search(rf"^\s*(?:(?:async\s+)?def|class)\s+{name}\b|^\s*{name}\s*(?::[^=\n]*)?=(?!=)", text, re.M)
        is not None
    )


# ---- the migrations' tables -------------------------------------------------------------
COLUMN_STOP = r"\b(?:primary|not|null|default|references|check|unique|generated|constraint)\b"


def migration_tables() -> dict[str, dict[str, dict]]:
    """{table: {column: {type, pk, fk (table or None), not_null, unique}}} from the CREATE TABLE
    blocks and ALTER TABLE ... ADD COLUMN lines of every migration, applied in order."""
    assert MIGRATION is not None, "no supabase/migrations/*_train_mode.sql"
    sql = "\n".join(
        re.sub(r"--[^\n]*", "", p.read_text(encoding="utf-8")) for p in sorted(MIGRATION.parent.glob("*.sql"))
    )
    tables = {}
    found = re.findall(r"create table (?:if not exists )?(?:public\.)?(\w+)\s*\((.*?)\n\);", sql, re.S | re.I)
    added = re.findall(
        r"alter table (?:if exists )?(?:public\.)?(\w+)\s+add column (?:if not exists )?([^;]+);", sql, re.I
    )
    for name, body in [*found, *added]:
        columns, table_unique = {}, set()
        for line in (raw.strip().rstrip(",") for raw in body.splitlines()):
            if not line:
                continue
            if re.match(r"(constraint|primary key|unique|check|foreign key)\b", line, re.I):
                single = re.search(r"\bunique\s*\(\s*(\w+)\s*\)", line, re.I)
                if single:
                    table_unique.add(single.group(1))
                continue
            column, rest = line.split(None, 1)
            type_ = re.split(COLUMN_STOP, rest, maxsplit=1, flags=re.I)[0].strip()
            ref = re.search(r"references\s+(?:public\.)?(\w+)", rest, re.I)
            columns[column] = {
                "type": re.sub(r"\s+", "_", type_.lower()),
                "pk": "primary key" in rest.lower(),
                "fk": ref.group(1) if ref else None,
                "not_null": bool(re.search(r"not null|primary key", rest, re.I)),
                "unique": bool(re.search(r"\bunique\b|primary key", rest, re.I)),
            }
        for column in table_unique:
            columns[column]["unique"] = True
        tables.setdefault(name, {}).update(columns)
    return tables
