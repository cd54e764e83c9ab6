"""The reference docs stay true: docs/cli.md is what the CLI's parser says, the configuration
table lists every variable with its default, the dataset reference every member and field,
troubleshooting quotes messages the code really says, and the counts, versions and paths the
docs name are the code's."""

from __future__ import annotations

import argparse
import ast
import json
import re

import pytest

from tests import cli_reference
from tests.docs_text import (
    ARCHITECTURE,
    DOC_FILES,
    LINK,
    MIGRATION,
    README,
    ROOT,
    migration_tables,
    prose_lines,
    rel,
    section,
    table_rows,
)
from trainmode.cli import HANDLERS, build_parser
from trainmode.export import rows as dataset
from trainmode.export.formats import FORMATS, hf, zip_members
from trainmode.export.formats.base import Build
from trainmode.sets.als import SCHEMA_VERSION

CLI_DOC = ROOT / "docs" / "cli.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
DATASET_FORMATS = ROOT / "docs" / "dataset-formats.md"
README_MAX_LINES = 160


# ---- 4. the CLI reference and the configuration table ---------------------------------------
def test_docs_cli_md_is_generated_from_the_parser():
    expected = cli_reference.render()
    assert CLI_DOC.read_text(encoding="utf-8") == expected, (
        f"docs/cli.md differs from the CLI's parser; regenerate it: {cli_reference.REGENERATE}"
    )


def test_the_cli_reference_names_every_command_and_option():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == set(HANDLERS)
    text = cli_reference.render()
    missing = [f"## {command}" for command in HANDLERS if f"\n## {command}\n" not in text]
    for command, parser in subparsers.choices.items():
        documented = section_text(text, command)
        actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
        words = [w for a in actions for w in (*a.option_strings, *map(str, a.choices or ()))]
        missing += [f"{command} {w}" for w in words if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", documented)]
    assert not missing, f"not in the CLI reference: {missing}"


def section_text(markdown: str, command: str) -> str:
    return markdown.split(f"\n## {command}\n", 1)[1].split("\n## ", 1)[0]


def config_variables() -> dict[str, str | None]:
    """{variable: default or None} for every variable trainmode/config.py reads."""
    tree = ast.parse((ROOT / "trainmode" / "config.py").read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        reader = (isinstance(func, ast.Name) and func.id in ("get", "integer")) or (
            isinstance(func, ast.Attribute)
            and func.attr in ("get", "getenv")
            and ast.unparse(func.value) in ("os.environ", "os", "env")
        )
        name = node.args[0].value
        if reader and isinstance(name, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", name):
            default = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else None
            found[name] = None if default in (None, "") else str(default)
    return found


def test_the_configuration_table_lists_every_variable_with_its_default():
    variables = config_variables()
    assert {"TRAINMODE_BACKEND", "OPENAI_API_KEY", "SUPABASE_SERVICE_ROLE_KEY", "TRAINMODE_SECRETS"} <= set(variables)
    rows = {cells[0].strip("`"): cells for cells in table_rows(section(CONFIGURATION, "Settings"))}
    assert set(rows) == set(variables), (
        f"not documented: {sorted(set(variables) - set(rows))}, "
        f"not read by config.py: {sorted(set(rows) - set(variables))}"
    )
    wrong = [
        f"{name}: default {default!r}, docs/configuration.md says {rows[name][1]!r}"
        for name, default in variables.items()
        if default is not None and f"`{default}`" not in rows[name][1]
    ]
    assert not wrong, "\n".join(wrong)


# ---- 5. the dataset reference and troubleshooting match the code -------------------------------
def test_the_dataset_reference_names_every_member_and_field():
    text = section(DATASET_FORMATS, "hf files and fields, in full")
    row = dataset.row_for(1, {"id": "i", "audio_path": "a.mp3", "prompt_text": "x", "metadata": {}}, {}, {}, artist="a")
    record = hf.track_record(row)
    names = [m.name for m in zip_members(hf, [row], Build("a", {row.stem: None}))]  # what the default export writes
    assert {"metadata.jsonl", "MANIFEST.sha256", "track-0001.mp3"} <= set(names)
    fields = [*record, *json.loads(hf.metadata_line(record))]
    missing = [n for n in names if n not in text] + [f for f in fields if f"`{f}`" not in text]
    assert not missing, f"not in docs/dataset-formats.md: {sorted(set(missing))}"
    formats_table = DATASET_FORMATS.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert all(f"`{name}`" in formats_table for name in FORMATS), "every --format has a row in dataset-formats.md"


def source_text() -> str:
    files = [*(ROOT / "trainmode").rglob("*.py"), *(ROOT / "pages").glob("*.py"), MIGRATION]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p)


def test_troubleshooting_quotes_real_messages():
    code = source_text()
    quoted = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        if not re.search(r"^#{1,6} Troubleshooting$", text, re.M):
            continue
        for cells in table_rows(section(path, "Troubleshooting")):
            quoted += [(rel(path), q) for q in re.findall(r"“([^”]+)”", cells[0])]
    assert len(quoted) >= 10
    missing = [f"{where}: “{q}”" for where, q in quoted if q not in code]
    assert not missing, "messages the code no longer says:\n" + "\n".join(missing)


# ---- 6. counts, versions and paths the docs name are the code's -----------------------------
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
COUNT = "|".join([*NUMBER_WORDS, r"\d+"])
TABLE_COUNT = re.compile(rf"\b({COUNT})\s+(?:Postgres\s+|SQLite\s+)?tables\b|\btables\s+\(all\s+({COUNT})\)", re.I)
SUMMARY_VERSION = re.compile(r"\bsummary,?\s+(?:schema\s+)?(?:v|version\s+)(\d+)\b", re.I)
REPO_PATH = re.compile(r"`((?:trainmode|pages|tests|benchmarks|supabase|docs)/[\w./-]*|app\.py)`")


def texts_that_count() -> list[tuple[str, str]]:
    """(where, text) of every doc and every module of the package (docstrings say counts too)."""
    files = [*DOC_FILES, *sorted((ROOT / "trainmode").rglob("*.py")), *sorted((ROOT / "trainmode").rglob("*.sql"))]
    return [(rel(p), p.read_text(encoding="utf-8")) for p in files]


def embedded_tables() -> set[str]:
    sql = (ROOT / "trainmode" / "store" / "embedded_schema.sql").read_text(encoding="utf-8")
    return set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", sql))


def test_every_count_of_tables_is_the_schemas():
    tables = set(migration_tables())
    assert tables == embedded_tables(), "the migrations and embedded_schema.sql create different tables"
    said = [
        (where, match.group(0), NUMBER_WORDS.get(n.lower()) or int(n))
        for where, text in texts_that_count()
        for match in TABLE_COUNT.finditer(text)
        for n in [match.group(1) or match.group(2)]
    ]
    assert any(where == "docs/supabase-schema.md" for where, _, _ in said), "the schema doc says how many tables"
    wrong = [f"{where}: “{words}”" for where, words, count in said if count != len(tables)]
    assert not wrong, f"there are {len(tables)} tables ({', '.join(sorted(tables))}), but:\n" + "\n".join(wrong)


def test_every_summary_version_named_is_the_one_the_parser_writes():
    docs = [(rel(p), p.read_text(encoding="utf-8")) for p in DOC_FILES]  # code may say "summary v1 or v2"
    said = [(where, m.group(0)) for where, text in docs for m in SUMMARY_VERSION.finditer(text)]
    assert len(said) >= 5, said
    wrong = [f"{where}: “{words}”" for where, words in said if not words.endswith(str(SCHEMA_VERSION))]
    assert not wrong, f"the parser writes summary v{SCHEMA_VERSION}, but:\n" + "\n".join(wrong)


def test_every_path_the_docs_name_exists():
    missing = []
    for path in DOC_FILES:
        for number, line in enumerate(prose_lines(path.read_text(encoding="utf-8")), 1):
            names = [m.group(1) for m in REPO_PATH.finditer(line)]
            missing += [f"{rel(path)}:{number}: {name}" for name in names if not (ROOT / name).exists()]
            for text, target in ((m.group(1), m.group(2)) for m in LINK.finditer(line)):
                file_name = re.fullmatch(r"`([\w-]+\.(?:py|sql|md))`", text)
                linked = target.partition("#")[0]
                if file_name and linked and not linked.endswith(("/" + file_name.group(1), "/")):
                    missing.append(f"{rel(path)}:{number}: [{text}]({target}) links another file")
    assert not missing, "the docs name paths that do not exist:\n" + "\n".join(missing)


TREE_LINE = re.compile(r"^(?P<indent>(?:│   |    )*)(?P<branch>[├└]── )?(?P<name>\S+)\s*(?P<what>.*)$")


def where_things_are() -> list[tuple[str, str]]:
    """(repo path, description) of every line of the architecture doc's folder tree."""
    block = section(ARCHITECTURE, "Where things are").split("```text\n", 1)[1].split("```", 1)[0]
    stack: list[str] = []
    entries = []
    for line in block.splitlines():
        match = TREE_LINE.match(line)
        depth = len(match["indent"]) // 4 + bool(match["branch"])
        stack = [*stack[:depth], match["name"]]
        entries.append(("".join(stack), match["what"]))
    return entries


def test_the_architecture_tree_is_the_folder_tree():
    entries = where_things_are()
    missing = [path for path, _ in entries if not (ROOT / path).exists()]
    for path, what in entries:
        if path.endswith("/"):  # a folder's description names what is in it
            names = re.findall(r"(?<![\w.*/])(\w+\.py|\w+/)", what)
            missing += [f"{path}{name}" for name in names if not (ROOT / path / name).exists()]
    assert not missing, f"the architecture doc's tree names what does not exist: {missing}"
    package = ROOT / "trainmode"
    shown = {
        path.removeprefix("trainmode/") for path, _ in entries if path.startswith("trainmode/") and path != "trainmode/"
    }
    real = {p.name + "/" for p in package.iterdir() if (p / "__init__.py").exists()}
    real |= {p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert shown == real, f"not in the tree: {sorted(real - shown)}; gone: {sorted(shown - real)}"


def test_the_readme_is_short_and_ci_reads_its_test_command():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move reference to docs/"
    command = lines[lines.index("# 2. set up and run the tests") + 1]  # what .ci/run runs
    assert command.startswith("python3 -m venv .venv") and command.endswith("-m pytest -q")
    assert 'pytest -m "not slow"' in "\n".join(lines), "the README names the quick inner loop"


@pytest.mark.parametrize("bad", ["They create the five tables.", "RLS is on all six tables", "| tables (all 5) |"])
def test_the_table_count_check_reads_words_digits_and_tables(bad):
    assert TABLE_COUNT.search(bad) and SUMMARY_VERSION.search("ALS summary v1") and SUMMARY_VERSION.search("summary v2")
