"""docs/cli.md, rendered from the CLI's argparse parser, so the reference cannot drift from the code.

    python -m tests.cli_reference > docs/cli.md      # after changing trainmode/cli.py

tests/test_docs_reference.py fails when docs/cli.md differs from what this renders.
"""

from __future__ import annotations

import argparse

from trainmode.cli import build_parser

REGENERATE = "python -m tests.cli_reference > docs/cli.md"
WIDE = 10_000  # usage on one line, whatever the terminal: the output must not depend on it

INTRO = f"""\
# CLI reference

<!-- Generated from trainmode/cli.py by `{REGENERATE}`; do not edit by hand. -->

`python -m trainmode COMMAND` (with the venv: `.venv/bin/python -m trainmode ...`) calls the same
functions the pages call and honours the same [configuration](configuration.md). It exits 0 on
success. On failure it prints one line `error: ...` to stderr and exits 1. Usage errors exit 2,
and Ctrl-C exits 130 without leaving anything half-written. Progress goes to stderr and results
to stdout. `COMMAND --help` prints what this page says about it.

```bash
.venv/bin/python -m trainmode import --artist "Ada" ~/Music/Sets/*.als
.venv/bin/python -m trainmode generate --artist "Ada" --als "Night Drive.als"
.venv/bin/python -m trainmode save --artist "Ada" --als "Night Drive.als" --audio "Night Drive.mp3" --generate
zip=$(.venv/bin/python -m trainmode export --artist "Ada" | tail -n 1)
.venv/bin/python -m trainmode export --artist "Ada" --format audiocraft --split 0.9
```
"""


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    """{command: its one-line help}, in the parser's order."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: choice.help or "" for choice in action._choices_actions}


def usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=WIDE)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def option_line(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """- `--writer {openai,offline}` (required, default `x`): its help, as one list item."""
    invocation = argparse.HelpFormatter(parser.prog, width=WIDE)._format_action_invocation(action)
    text = action.help or ""
    notes = []
    if action.required and action.option_strings:
        notes.append("required")
    if action.choices and action.default is not None and "default" not in text:
        notes.append(f"default `{action.default}`")  # defaults read from the environment stay out
    line = f"- `{invocation}`" + (f" ({', '.join(notes)})" if notes else "")
    return line + (f": {text}" if text else "")


def command_section(name: str, parser: argparse.ArgumentParser, summary: str) -> str:
    lines = [f"## {name}", "", summary[:1].upper() + summary[1:] + ".", "", "```text", usage(parser), "```", ""]
    if parser.description:
        lines += [parser.description, ""]
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    lines += [option_line(parser, a) for a in actions]
    return "\n".join(lines).rstrip() + "\n"


def render() -> str:
    parser = build_parser()
    commands, summaries = subcommands(parser), helps(parser)
    table = ["| command | what it does |", "|---|---|"]
    table += [f"| [`{name}`](#{name}) | {summaries[name]} |" for name in commands]
    sections = [command_section(name, sub, summaries[name]) for name, sub in commands.items()]
    return "\n".join([INTRO, *table, "", *sections])


if __name__ == "__main__":
    print(render(), end="")
