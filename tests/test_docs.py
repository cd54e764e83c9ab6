"""The docs stay true: diagrams render, links and named symbols exist, and the ERD, CLI
reference, configuration table, dataset format and troubleshooting messages match the code.

Diagrams are rendered by the pinned Mermaid CLI (package.json, `PUPPETEER_SKIP_DOWNLOAD=1 npm ci`)
driving Debian's chromium; without them the render tests skip, except in CI where they fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "train-mode-architecture.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MIGRATION = next(iter(sorted((ROOT / "supabase" / "migrations").glob("*_train_mode.sql"))), None)
MMDC = ROOT / "node_modules" / ".bin" / "mmdc"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SYMBOL_TEXT = re.compile(r"^`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`$")
FILE_SUFFIXES = {"py", "sql", "md", "toml", "json", "txt", "example", "sh", "yml", "yaml", "png", "zip", "mp3", "als"}


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


# ---- 1. every diagram renders ----------------------------------------------------------
@pytest.fixture(scope="module")
def mmdc(tmp_path_factory):
    """A function rendering every mermaid block of a markdown text with the pinned Mermaid CLI."""
    missing = [str(p) for p in (MMDC, CHROMIUM) if not p.exists()]
    if missing:
        message = f"{', '.join(missing)} missing: run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` and install Debian's chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("mermaid")
    config = work / "puppeteer.json"
    # Root in a container needs --no-sandbox; the browser is Debian's, never a download.
    config.write_text(json.dumps({"executablePath": str(CHROMIUM), "args": ["--no-sandbox", "--disable-gpu"]}))
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(CHROMIUM), "PUPPETEER_SKIP_DOWNLOAD": "1"}

    def run(markdown: str, name: str) -> tuple[subprocess.CompletedProcess, Path]:
        """Render every block of `markdown` in one call; returns the process and the output folder."""
        source, out = work / f"{name}.md", work / name
        source.write_text(markdown, encoding="utf-8")
        out.mkdir()
        done = subprocess.run(
            [str(MMDC), "--quiet", "-p", str(config), "-i", str(source), "-o", str(out / "out.md")],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
            cwd=work,
        )
        return done, out

    return run


def as_markdown(blocks: list[tuple[str, str]]) -> str:
    return "".join(f"## {where}\n\n```mermaid\n{code}\n```\n\n" for where, code in blocks)


def test_every_mermaid_block_renders(mmdc):
    blocks = all_mermaid_blocks()
    assert len(blocks) >= 3, "the docs should have at least the architecture's three diagrams"
    done, out = mmdc(as_markdown(blocks), "all")
    if done.returncode != 0:
        # Name the broken block(s): render them one by one (only on failure).
        broken = [
            where
            for index, (where, code) in enumerate(blocks)
            if mmdc(as_markdown([(where, code)]), f"one-{index}")[0].returncode != 0
        ]
        pytest.fail(f"Mermaid could not render {', '.join(broken) or 'the docs'}:\n{done.stderr[-3000:]}")
    rendered = sorted(out.glob("out-*.svg"))
    assert len(rendered) == len(blocks), f"{len(blocks)} blocks but {len(rendered)} diagrams"
    assert all(b"<svg" in p.read_bytes()[:2000] for p in rendered)


def test_a_broken_diagram_fails_the_render(mmdc):
    done, out = mmdc(as_markdown([("broken", "flowchart TD\n    A[generate --> B((save\n")]), "broken")
    assert done.returncode != 0
    assert "Parse error" in done.stderr
    assert not list(out.glob("*.svg"))


def test_architecture_has_the_three_diagrams():
    kinds = [code.lstrip().split(None, 1)[0] for _, code in mermaid_blocks(ARCHITECTURE)]
    for kind in ("erDiagram", "flowchart", "sequenceDiagram"):
        assert kind in kinds, f"{rel(ARCHITECTURE)} has no {kind}"


# ---- 2. links and the symbols they name ----------------------------------------------------
def doc_links():
    for path in DOC_FILES:
        for number, line in enumerate(prose_lines(path.read_text(encoding="utf-8")), 1):
            for match in LINK.finditer(line):
                yield path, number, match.group(1), match.group(2)


def test_docs_have_links():
    targets = {target for _, _, _, target in doc_links()}
    assert "docs/train-mode-architecture.md" in targets and "supabase-schema.md" in targets


@pytest.mark.parametrize("path", DOC_FILES, ids=rel)
def test_links_point_to_existing_files_anchors_and_symbols(path):
    problems = []
    for source, number, text, target in doc_links():
        if source != path or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # web links are not checked (no network)
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{rel(path)}:{number}: [{text}]({target})"
        if not linked.exists():
            problems.append(f"{where}: {file_part} does not exist")
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{where}: no heading #{anchor} in {rel(linked)}")
        symbol = SYMBOL_TEXT.match(text)
        if symbol and linked.is_file() and symbol.group(1).rsplit(".", 1)[-1] not in FILE_SUFFIXES:
            for name in symbol.group(1).split("."):
                if not defines(linked, name):
                    problems.append(f"{where}: {name} is not defined in {rel(linked)}")
    assert not problems, "\n".join(problems)


def test_the_symbol_check_can_fail(tmp_path):
    code = tmp_path / "m.py"
    code.write_text("X = 1\nclass Store:\n    def put_blob(self): ...\nasync def go(): ...\n")
    assert all(defines(code, n) for n in ("X", "Store", "put_blob", "go"))
    assert not any(defines(code, n) for n in ("Y", "put", "Stor", "blob"))


# ---- 3. the ERD is the migration ---------------------------------------------------------
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


LEFT = {"|o": "0..1", "||": "1", "}o": "0..n", "}|": "1..n"}
RIGHT = {"o|": "0..1", "||": "1", "o{": "0..n", "|{": "1..n"}
RELATION = re.compile(r"^\s*(\w+)\s+(\|o|\|\||\}o|\}\|)(?:--|\.\.)(o\||\|\||o\{|\|\{)\s+(\w+)\s*:")


def erd(code: str) -> tuple[dict[str, dict[str, dict]], dict[frozenset, dict[str, str]]]:
    """Entities {table: {column: {type, keys}}} and relations {{a, b}: {table: its cardinality}}."""
    entities, relations, current = {}, {}, None
    for line in code.splitlines():
        if current is None:
            if match := re.match(r"^\s*(\w+)\s*\{\s*$", line):
                current = entities.setdefault(match.group(1), {})
            elif match := RELATION.match(line):
                a, left, right, b = match.groups()
                relations[frozenset((a, b))] = {a: LEFT[left], b: RIGHT[right]}
        elif line.strip() == "}":
            current = None
        elif line.strip():
            attr = re.match(
                r'^\s*([\w\[\]()-]+)\s+(\w+)\s*((?:PK|FK|UK)(?:\s*,\s*(?:PK|FK|UK))*)?\s*(?:"[^"]*")?\s*$', line
            )
            assert attr, f"cannot read ERD attribute line {line!r}"
            current[attr.group(2)] = {
                "type": attr.group(1).lower(),
                "keys": set(re.findall(r"PK|FK|UK", attr.group(3) or "")),
            }
    return entities, relations


def test_the_architecture_erd_is_the_migration():
    tables = migration_tables()
    assert tables, "no CREATE TABLE found in the migration"
    diagrams = [code for _, code in mermaid_blocks(ARCHITECTURE) if code.lstrip().startswith("erDiagram")]
    assert len(diagrams) == 1, "the architecture doc needs exactly one erDiagram"
    entities, relations = erd(diagrams[0])
    assert set(entities) == set(tables), "ERD tables differ from the migration's"
    problems = []
    for table, columns in tables.items():
        shown = entities[table]
        if set(shown) != set(columns):
            problems.append(
                f"{table}: missing from the ERD {sorted(set(columns) - set(shown))}, "
                f"not in the migration {sorted(set(shown) - set(columns))}"
            )
        for column, spec in columns.items():
            if column not in shown:
                continue
            if shown[column]["type"] != spec["type"]:
                problems.append(f"{table}.{column}: ERD type {shown[column]['type']}, migration {spec['type']}")
            if ("PK" in shown[column]["keys"]) != spec["pk"] or ("FK" in shown[column]["keys"]) != bool(spec["fk"]):
                problems.append(f"{table}.{column}: PK/FK markers {sorted(shown[column]['keys'])} do not match")
    for table, columns in tables.items():
        for column, spec in columns.items():
            if not spec["fk"]:
                continue
            pair = relations.get(frozenset((table, spec["fk"])))
            if pair is None:
                problems.append(f"{table}.{column} references {spec['fk']} but the ERD has no relation")
                continue
            parent = "1" if spec["not_null"] else "0..1"
            children = {"0..1", "1"} if spec["unique"] else {"0..n", "1..n"}
            if pair[spec["fk"]] != parent or pair[table] not in children:
                problems.append(
                    f"{spec['fk']}–{table}: cardinality {pair} does not fit {table}.{column} "
                    f"({'not null' if spec['not_null'] else 'nullable'}, "
                    f"{'unique' if spec['unique'] else 'not unique'})"
                )
    linked = {frozenset((t, spec["fk"])) for t, cols in tables.items() for spec in cols.values() if spec["fk"]}
    problems += [
        f"ERD relation {sorted(pair)} has no foreign key in the migration" for pair in relations if pair not in linked
    ]
    assert not problems, "\n".join(problems)


def test_every_erd_in_the_docs_shows_real_columns():
    tables = migration_tables()
    problems = []
    for where, code in all_mermaid_blocks():
        if not code.lstrip().startswith("erDiagram"):
            continue
        for table, columns in erd(code)[0].items():
            for column, spec in columns.items():
                real = tables.get(table, {}).get(column)
                if real is None or real["type"] != spec["type"]:
                    problems.append(f"{where}: {table}.{column} {spec['type']} is not in the migration")
    assert not problems, "\n".join(problems)


def test_the_erd_and_migration_readers():
    entities, relations = erd('erDiagram\n  a ||--o{ b : has\n  b {\n    uuid id PK\n    text a_id FK "x"\n  }\n')
    assert entities == {"b": {"id": {"type": "uuid", "keys": {"PK"}}, "a_id": {"type": "text", "keys": {"FK"}}}}
    assert relations == {frozenset(("a", "b")): {"a": "1", "b": "0..n"}}
    assert "bytes" in migration_tables()["exports"] and "zip_path" in migration_tables()["exports"]
