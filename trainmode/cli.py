"""`python -m trainmode`: a thin CLI over the same functions the pages call.

Every command honours TRAINMODE_DATA_DIR (and the other settings); success exits 0,
a failure prints one clear line to stderr and exits 1 (2 for usage errors).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import load_settings
from .errors import ConfirmationRequired, TrainModeError

FORMAT_NAMES = ("hf", "audiocraft", "stable-audio", "ace-step", "ace-step-v1")  # trainmode.formats.FORMATS

COMMANDS = ("summarize", "demo", "import", "generate", "save", "items", "export", "check-dataset", "setup-supabase")


def _store(settings):
    from .store import open_store
    return open_store(settings)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


def cmd_summarize(args, settings) -> None:
    from .als import parse_als
    parsed = parse_als(Path(args.file), filename=Path(args.file).name)
    _print_json({"parse_id": parsed.parse_id, "als_filename": parsed.filename, **parsed.summary}
                if args.with_id else parsed.summary)


def cmd_demo(args, settings) -> None:
    from .demo import install_demo
    artist = install_demo(_store(settings), settings, echo=lambda line: print(line, file=sys.stderr))
    print(artist["name"])


def cmd_import(args, settings) -> int:
    from .library import import_sets
    store = _store(settings)
    total = len(args.files)

    def progress(index, result):
        detail = result.error if result.status == "failed" else result.parse_id
        print(f"[{index}/{total}] {result.filename}: {result.status} ({detail})", file=sys.stderr)

    results = import_sets(store, args.artist, [(Path(f).name, Path(f)) for f in args.files], progress)
    if args.json:
        _print_json([r.__dict__ for r in results])
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"error: {len(failed)} of {total} files could not be imported.", file=sys.stderr)
        return 1
    return 0


def cmd_generate(args, settings) -> None:
    from .library import require_artist, require_summary
    from .service import generate_prompt
    store = _store(settings)
    artist = require_artist(store, args.artist)
    generation = generate_prompt(store, settings, artist, require_summary(store, artist, args.als), args.writer)
    if args.json:
        _print_json(generation.to_dict())
    else:
        print(generation.prompt.prompt)
        for finding in generation.findings:
            print(f"fact check: {finding['message']}", file=sys.stderr)


def cmd_save(args, settings) -> int:
    from .library import require_artist, require_summary
    from .service import generate_prompt, save_training_item
    store = _store(settings)
    artist = require_artist(store, args.artist)
    row = require_summary(store, artist, args.als)
    generated = None
    if args.generate:
        generated = generate_prompt(store, settings, artist, row, args.writer).prompt
        prompt = generated.prompt
    elif args.prompt_file:
        prompt = Path(args.prompt_file).read_text(encoding="utf-8")
    else:
        prompt = args.prompt
    try:
        result = save_training_item(store, artist, row, audio=Path(args.audio), audio_name=Path(args.audio).name,
                                    prompt_text=prompt, generated=generated, confirm=args.force)
    except ConfirmationRequired as exc:
        print(f"error: {exc} Use --force to save anyway.", file=sys.stderr)
        return 1
    if result.duplicate:
        print(f"already saved as item {result.item['id']} (same audio)", file=sys.stderr)
    _print_json(result.item) if args.json else print(result.item["id"])
    return 0


def cmd_items(args, settings) -> None:
    from .library import require_artist
    store = _store(settings)
    items = store.list_items(require_artist(store, args.artist)["id"], args.status)
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(f"{item['id']}  {item['status']:<8}  {item['audio_filename']}  {item['prompt_text'][:60]}")


def cmd_export(args, settings) -> None:
    from .library import require_artist
    from .service import export_artist
    store = _store(settings)
    artist = require_artist(store, args.artist)

    def progress(p):
        mib = 1024 * 1024
        print(f"{p.stage}: {p.items_done}/{p.items_total} items, {p.bytes_done / mib:.1f}/{p.bytes_total / mib:.1f} MiB",
              file=sys.stderr)

    result = export_artist(store, settings, artist, on_progress=progress, format=args.format, split=args.split,
                           artist_name=args.artist_name)
    print(f"exported {result.item_count} items ({result.format}), {result.bytes} bytes, sha256 {result.sha256}",
          file=sys.stderr)
    print(result.url)


def cmd_check_dataset(args, settings) -> int:
    from .service import check_dataset
    problems = check_dataset(args.path, args.format)
    for problem in problems:
        print(problem)
    if problems:
        print(f"error: {len(problems)} problem(s) for {args.format}.", file=sys.stderr)
        return 1
    print(f"{args.path} meets the {args.format} rules.")
    return 0


def cmd_setup_supabase(args, settings) -> None:
    from .supabase_setup import setup_supabase
    limit = args.file_size_limit_mb * 1024 * 1024 if args.file_size_limit_mb else None
    setup_supabase(settings, file_size_limit=limit, echo=print)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainmode",
                                     description="Turn Ableton Live sets and rendered MP3s into a captioned dataset.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("summarize", help="print the summary of one .als file as JSON (no store needed)")
    p.add_argument("file")
    p.add_argument("--with-id", action="store_true", help="include parse_id and als_filename")

    sub.add_parser("demo", help="create the demo artist with small sets, MP3s and saved items (idempotent)")

    p = sub.add_parser("import", help="import .als files for an artist (created if needed)")
    p.add_argument("--artist", required=True)
    p.add_argument("files", nargs="+", metavar="FILE.als")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("generate", help="generate a caption for an imported set")
    p.add_argument("--artist", required=True)
    p.add_argument("--als", required=True, metavar="ALS_FILENAME", help="the set's file name (or parse id)")
    p.add_argument("--writer", choices=("openai", "offline"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("save", help="save an MP3 + caption as a ready training item")
    p.add_argument("--artist", required=True)
    p.add_argument("--als", required=True, metavar="ALS_FILENAME")
    p.add_argument("--audio", required=True, metavar="FILE.mp3")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--prompt", metavar="TEXT")
    g.add_argument("--prompt-file", metavar="F")
    g.add_argument("--generate", action="store_true", help="generate the caption now")
    p.add_argument("--writer", choices=("openai", "offline"))
    p.add_argument("--force", action="store_true", help="save despite fact-check findings or a duration mismatch")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("items", help="list an artist's training items")
    p.add_argument("--artist", required=True)
    p.add_argument("--status", choices=("ready", "exported"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="pack an artist's ready items into dataset.zip; prints its path or URL last")
    p.add_argument("--artist", required=True)
    p.add_argument("--format", choices=FORMAT_NAMES, default="hf", help="the trainer's layout (default: hf)")
    p.add_argument("--split", type=float, metavar="RATIO",
                   help="share of items to train on, e.g. 0.9 (the rest: validation)")
    p.add_argument("--artist-name", action="store_true", help="show the artist's name, not an opaque id")

    p = sub.add_parser("check-dataset", help="check a dataset zip or folder against its trainer's rules")
    p.add_argument("path", metavar="PATH.zip")
    p.add_argument("--format", required=True, choices=FORMAT_NAMES, help="the trainer's layout to check against")

    p = sub.add_parser("setup-supabase", help="check the migration and create the private storage bucket (idempotent)")
    p.add_argument("--file-size-limit-mb", type=int, metavar="MB",
                   help="the bucket's largest file in MiB (a new bucket: 50, the Free plan's project limit; "
                        "an existing one keeps its limit)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = globals()["cmd_" + args.command.replace("-", "_")]
    try:
        settings = load_settings()
        return handler(args, settings) or 0
    except TrainModeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
