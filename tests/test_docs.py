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

from tests.conftest import IN_CI
from tests.docs_text import (
    ARCHITECTURE,
    DOC_FILES,
    LINK,
    ROOT,
    all_mermaid_blocks,
    anchors,
    defines,
    mermaid_blocks,
    migration_tables,
    prose_lines,
    rel,
)

MMDC = ROOT / "node_modules" / ".bin" / "mmdc"
CHROMIUM = Path("/usr/bin/chromium")
SYMBOL_TEXT = re.compile(r"^`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`$")
FILE_SUFFIXES = {"py", "sql", "md", "toml", "json", "txt", "example", "sh", "yml", "yaml", "png", "zip", "mp3", "als"}


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


@pytest.mark.slow  # Chromium renders every diagram
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


@pytest.mark.slow  # Chromium renders every diagram
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
