"""The README's reference sections stay true: the CLI table lists every command and option,
the configuration table every variable with its default, the dataset format every member and
field, and troubleshooting quotes messages the code really says."""

from __future__ import annotations

import argparse
import ast
import json
import re

from tests.test_docs import DOC_FILES, MIGRATION, README, ROOT, rel, section, table_rows
from trainmode.cli import HANDLERS, build_parser
from trainmode.export import rows as dataset
from trainmode.export.formats import FORMATS, hf, zip_members
from trainmode.export.formats.base import Build


# ---- 4. the README's CLI reference and configuration table ---------------------------------
def cli_rows() -> dict[str, str]:
    rows = {}
    for cells in table_rows(section(README, "CLI reference")):
        command = cells[0].strip("`").split()[0]
        assert command not in rows, f"CLI reference lists {command} twice"
        rows[command] = " ".join(cells)
    return rows


def test_the_cli_reference_lists_every_command_and_option():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == set(HANDLERS)
    rows = cli_rows()
    assert set(rows) == set(HANDLERS), f"documented {sorted(rows)} vs HANDLERS {sorted(HANDLERS)}"
    missing = []
    for command, parser in subparsers.choices.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            words = list(action.option_strings) + [str(c) for c in action.choices or ()]
            missing += [
                f"{command} {word}"
                for word in words
                if not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", rows[command])
            ]
    assert not missing, f"not in the README's CLI reference: {missing}"


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
    rows = {cells[0].strip("`"): cells for cells in table_rows(section(README, "Configuration"))}
    assert set(rows) == set(variables), (
        f"not documented: {sorted(set(variables) - set(rows))}, "
        f"not read by config.py: {sorted(set(rows) - set(variables))}"
    )
    wrong = [
        f"{name}: default {default!r}, README says {rows[name][1]!r}"
        for name, default in variables.items()
        if default is not None and f"`{default}`" not in rows[name][1]
    ]
    assert not wrong, "\n".join(wrong)


# ---- 5. dataset format and troubleshooting match the code -----------------------------------
def test_the_dataset_format_names_every_member_and_field():
    text = section(README, "Dataset format")
    row = dataset.row_for(1, {"id": "i", "audio_path": "a.mp3", "prompt_text": "x", "metadata": {}}, {}, {}, artist="a")
    record = hf.track_record(row)
    names = [m.name for m in zip_members(hf, [row], Build("a", {row.stem: None}))]  # what the default export writes
    assert {"metadata.jsonl", "MANIFEST.sha256", "track-0001.mp3"} <= set(names)
    fields = [*record, *json.loads(hf.metadata_line(record))]
    missing = [n for n in names if n not in text] + [f for f in fields if f"`{f}`" not in text]
    assert not missing, f"not in the README's Dataset format: {sorted(set(missing))}"
    assert all(f"`{name}`" in text for name in FORMATS), "every --format has a row in the README"


def source_text() -> str:
    files = [*(ROOT / "trainmode").rglob("*.py"), *(ROOT / "pages").glob("*.py"), MIGRATION]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p)


def test_troubleshooting_quotes_real_messages():
    code = source_text()
    quoted = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        if "## Troubleshooting" not in text:
            continue
        for cells in table_rows(section(path, "Troubleshooting")):
            quoted += [(rel(path), q) for q in re.findall(r"“([^”]+)”", cells[0])]
    assert len(quoted) >= 10
    missing = [f"{where}: “{q}”" for where, q in quoted if q not in code]
    assert not missing, "messages the code no longer says:\n" + "\n".join(missing)
