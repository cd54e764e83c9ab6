"""The code keeps its shape: ruff-clean, small modules and functions, no duplicated code, and
pages/ + the CLI reach the package through one door (trainmode.service).

Rules (see docs/train-mode-architecture.md): ruff with ruff.toml (E, F, W, B, I, UP; 120
columns); no function over 60 lines; no six similar lines in two places
(pylint's duplicate-code checker, R0801); pages/ and trainmode/cli.py import at most three
trainmode modules: trainmode.service, trainmode.errors and one display module.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Owned by another branch, emptied at merge: files another helper is reshaping at the same time.
OTHER_BRANCHES = ()

MAX_FUNCTION_LINES = 60
CHECKED_DIRS = ("trainmode", "pages", "tests", "benchmarks")
DOOR = "trainmode.service"
ALWAYS_ALLOWED = {DOOR, "trainmode.errors"}
MAX_TRAINMODE_IMPORTS = 3
PYLINT_DUPLICATES = [
    "--disable=all",
    "--enable=duplicate-code",
    "--min-similarity-lines=6",
    "--ignore-imports=y",
    "--ignore-comments=y",
    "--ignore-docstrings=y",
    "--score=n",
]


def owned_elsewhere(path: str) -> bool:
    path = path.replace("\\", "/")
    return any(path == owned or (owned.endswith("/") and path.startswith(owned)) for owned in OTHER_BRANCHES)


def python_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in CHECKED_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if not owned_elsewhere(rel(f))]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---- (a) ruff ----------------------------------------------------------------------------
def test_ruff_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "json", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode in (0, 1), out.stderr
    problems = [
        f"{rel(Path(p['filename']))}:{p['location']['row']}: {p['code']} {p['message']}"
        for p in json.loads(out.stdout)
        if not owned_elsewhere(rel(Path(p["filename"])))
    ]
    assert not problems, "ruff check (fix with `ruff check --fix`):\n" + "\n".join(problems)


def test_ruff_format_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, "ruff format would change these (run `ruff format`):\n" + out.stdout


# ---- (b) sizes ---------------------------------------------------------------------------
def oversized(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{rel(path)}:{node.lineno}: {node.name}() is {length} lines (at most {MAX_FUNCTION_LINES})"
                )
    return found


def test_no_function_over_60_lines():
    problems = [p for f in python_files() for p in oversized(f)]
    assert not problems, "\n".join(problems)


def test_the_size_check_can_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    long_function = tmp_path / "long.py"
    long_function.write_text("def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES)
    assert oversized(long_function) == [f"long.py:1: f() is {MAX_FUNCTION_LINES + 1} lines (at most 60)"]


# ---- (c) one door ------------------------------------------------------------------------
def trainmode_imports(path: Path, package: str) -> set[str]:
    """The trainmode modules a file imports (absolute or relative, at any depth in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "trainmode"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            if base.split(".")[0] != "trainmode":
                continue
            if base == "trainmode":  # from trainmode import service
                found |= {f"trainmode.{a.name}" for a in node.names}
            else:
                found.add(base)
    return found


def door_users() -> dict[str, set[str]]:
    users = {rel(p): trainmode_imports(p, "pages") for p in sorted((ROOT / "pages").glob("*.py"))}
    users["trainmode/cli.py"] = trainmode_imports(ROOT / "trainmode" / "cli.py", "trainmode")
    return users


def door_problems(users: dict[str, set[str]]) -> list[str]:
    problems = []
    everything = set().union(*users.values())
    if len(everything) > MAX_TRAINMODE_IMPORTS or len(everything - ALWAYS_ALLOWED) > 1:
        problems.append(
            f"pages/ and cli.py import {sorted(everything)}: at most {DOOR}, trainmode.errors and one display module"
        )
    problems += [f"{name} does not go through {DOOR}" for name, mods in users.items() if mods and DOOR not in mods]
    return problems


def test_pages_and_the_cli_go_through_one_door():
    users = door_users()
    # the page modules and the CLI were read (a page helper that imports no trainmode module is fine)
    assert len(users) >= 5 and sum(map(bool, users.values())) >= 5 and users["trainmode/cli.py"], users
    assert not door_problems(users), "\n".join(door_problems(users))


def test_the_door_check_can_fail(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit\nfrom trainmode.service import TrainMode\nfrom trainmode import errors\n"
        "def f():\n    from trainmode.store import open_store\n"
    )
    cli = tmp_path / "cli.py"
    cli.write_text("from .service import TrainMode\nfrom .tables import items_frame\n")
    users = {"page.py": trainmode_imports(page, "pages"), "cli.py": trainmode_imports(cli, "trainmode")}
    assert users["page.py"] == {"trainmode.service", "trainmode.errors", "trainmode.store"}
    assert users["cli.py"] == {"trainmode.service", "trainmode.tables"}
    assert door_problems(users) and not door_problems({"cli.py": users["cli.py"]})


# ---- (d) no duplicated code ---------------------------------------------------------------
def duplicates(*targets: str, cwd: Path = ROOT) -> list[str]:
    """pylint's R0801 reports, each as the text naming the places that repeat."""
    out = subprocess.run(
        [sys.executable, "-m", "pylint", *PYLINT_DUPLICATES, *targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "R0801" in out.stdout or out.returncode == 0, out.stdout + out.stderr
    reports = re.split(r"\n(?=\S+:\d+:\d+: R0801)", out.stdout)
    return [r.strip() for r in reports if "R0801" in r]


def module_path(name: str) -> str:
    return name.replace(".", "/") + ".py"


@pytest.mark.slow
def test_no_code_is_duplicated():
    reports = duplicates("trainmode", "pages", "app.py")
    kept = [
        r for r in reports if not any(owned_elsewhere(module_path(m)) for m in re.findall(r"^==([\w.]+):", r, re.M))
    ]
    assert not kept, "\n\n".join(kept)


@pytest.mark.timeout(120)
def test_the_duplicate_check_can_fail(tmp_path):
    body = "".join(f"    total = total * {n} + len(items) - {n}\n" for n in range(8))
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text(f"def {name}(items):\n    total = 0\n{body}    return total\n")
    [report] = duplicates("one.py", "two.py", cwd=tmp_path)
    assert "==one:" in report and "==two:" in report
