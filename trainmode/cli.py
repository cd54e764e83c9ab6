"""`python -m trainmode`: a thin CLI over `TrainMode`, the same door the pages use.

Every command honours TRAINMODE_DATA_DIR (and the other settings); success exits 0,
a failure prints one clear line to stderr and exits 1 (2 for usage errors). Anything
unexpected is a bug: one line names the log file that holds its traceback. Text that came
from users or files (names, captions, errors that quote them) is printed with its control
characters escaped (`shown`), so it cannot drive the terminal or forge a line. A reader that
stops early (`| head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from trainmode.errors import ConfirmationRequired, DatabaseDamagedError, TrainModeError, ValidationError
from trainmode.service import (
    WINDOW_RANGE_S,
    WINDOW_S,
    SaveRequest,
    TrainMode,
    caption_of,
    counted,
    load_settings,
    setup_logging,
    shown,
    verdict_line,
)

FROM_THE_SET_ALONE = (
    "note: this caption is from the set alone, nothing was listened to; add --audio FILE.mp3 (its render) "
    "so that it leads with what is heard, as on the Train page."
)
FORMAT_NAMES = ("hf", "audiocraft", "stable-audio", "ace-step", "ace-step-v1", "ai-toolkit")  # formats.FORMATS
log = logging.getLogger(__name__)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str))


def cmd_summarize(args, settings) -> None:
    parsed = TrainMode.summarize(Path(args.file))
    _print_json(
        {"parse_id": parsed.parse_id, "als_filename": parsed.filename, **parsed.summary}
        if args.with_id
        else parsed.summary
    )


def cmd_analyze(args, settings) -> None:
    analysis, warnings = TrainMode.analyze(Path(args.file))
    if args.json:
        _print_json({**analysis.to_dict(), "warnings": warnings})
        return
    print("\n".join(analysis.describe()))
    for line in [*analysis.notes, *warnings]:
        print(f"note: {line}", file=sys.stderr)


def cmd_demo(args, settings) -> None:
    artist = TrainMode.open(settings).install_demo(echo=lambda line: print(line, file=sys.stderr))
    print(artist["name"])


def cmd_import(args, settings) -> int:
    tm = TrainMode.open(settings)
    total = len(args.files)

    def progress(index, result):
        detail = result.error if result.status == "failed" else result.parse_id
        print(f"[{index}/{total}] {shown(result.filename)}: {result.status} ({shown(detail)})", file=sys.stderr)

    results = tm.import_sets(args.artist, [(Path(f).name, Path(f)) for f in args.files], progress)
    if args.json:
        _print_json([r.__dict__ for r in results])
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"error: {len(failed)} of {total} files could not be imported.", file=sys.stderr)
        return 1
    return 0


def _listen(tm: TrainMode, row, audio: Path, *, captioning: bool, mismatch_lead: str = ""):
    """Listen to a render against its set (the analysis and tagger of the Train page) and print the
    verdict on stderr, a mismatch (another tempo, key or length, or silence) after `mismatch_lead`;
    `captioning`: what was heard too, which the caption leads with. Returns the analysis."""
    analysis, verdict = tm.check_render(row, audio)
    lead = mismatch_lead if verdict.verdict == "mismatch" else ""
    for line in [lead + verdict_line(verdict), *(f"warning: {w}" for w in verdict.warnings)]:
        print(shown(line), file=sys.stderr)
    if captioning:
        print(f"heard: {shown(', '.join(analysis.heard()) or 'nothing confidently')}", file=sys.stderr)
    return analysis


def cmd_generate(args, settings) -> None:
    tm = TrainMode.open(settings)
    artist = tm.artist(args.artist)
    row = tm.find_set(artist, args.als)
    if args.audio:
        heard = _listen(tm, row, Path(args.audio), captioning=True, mismatch_lead="warning: ").whole_tags
    else:
        heard = None
        print(FROM_THE_SET_ALONE, file=sys.stderr)
    generation = tm.generate_caption(artist, row, args.writer, heard=heard)
    if args.json:
        _print_json(generation.to_dict())
    else:
        print(shown(generation.caption.text))
        for finding in generation.findings:
            print(f"fact check: {shown(finding.message)}", file=sys.stderr)


def _read_caption_file(name: str, what: str = "caption") -> str:
    try:
        return Path(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{name} is not UTF-8 text: save the {what} file as UTF-8.") from None


def cmd_save(args, settings) -> int:
    tm = TrainMode.open(settings)
    artist = tm.artist(args.artist)
    row = tm.find_set(artist, args.als)
    caption = None if args.generate else _read_caption_file(args.caption_file) if args.caption_file else args.caption
    lyrics = _read_caption_file(args.lyrics_file, "lyrics") if args.lyrics_file else None
    audio = Path(args.audio)
    info = tm.measure_upload(audio, audio.name)  # a missing file or a non-MP3 fails here, before any caption
    analysis = _listen(tm, row, audio, captioning=args.generate)  # before the caption, which leads with it
    generation = tm.generate_caption(artist, row, args.writer, heard=analysis.whole_tags) if args.generate else None
    caption = generation.caption.text if generation else caption
    request = SaveRequest(
        audio=audio,
        audio_name=audio.name,
        caption=caption,
        generated=generation.caption if generation else None,
        findings=generation.findings if generation else None,
        confirm=args.force,
        by=args.by,
        info=info,
        analysis=analysis,
        lyrics=lyrics,
    )
    try:
        result = tm.save(artist, row, request)
    except ConfirmationRequired as exc:
        print(f"error: {shown(exc)} Use --force to save anyway.", file=sys.stderr)
        return 1
    if result.duplicate:
        print(f"already saved as item {shown(result.item['id'])} (same audio)", file=sys.stderr)
        if lyrics is not None:
            result = result.__class__(tm.set_lyrics(artist, result.item["id"], lyrics), duplicate=True)
            print("its lyrics were attached to the saved item", file=sys.stderr)
    if generation and not result.duplicate:
        print(f"caption: {shown(caption_of(result.item))}", file=sys.stderr)
    _print_json(result.item) if args.json else print(result.item["id"])
    return 0


def cmd_items(args, settings) -> None:
    tm = TrainMode.open(settings)
    items = tm.list_items(tm.artist(args.artist), args.status)
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(
                f"{shown(item['id'])}  {shown(item['status']):<8}  {shown(item['audio_filename'])}  "
                f"{shown(caption_of(item)[:60])}"
            )


def cmd_captions_report(args, settings) -> None:
    tm = TrainMode.open(settings)
    reports = tm.captions_report(tm.artist(args.artist))
    if args.json:
        return _print_json({name: report.to_dict() for name, report in reports.items()})
    print("\n\n".join(f"== {shown(name)}\n{_shown_lines(report.to_text())}" for name, report in reports.items()))


def _window_s(mode: str, seconds: float | None, flag: str) -> float:
    """--window-seconds, checked before anything is read: only window clips have a length."""
    if seconds is None:
        return WINDOW_S
    if mode != "windows":
        raise ValidationError(f"--window-seconds is only for window clips ({flag} windows), not {flag} {mode}.")
    return seconds


def cmd_clips(args, settings) -> None:
    window_s = _window_s(args.mode, args.window_seconds, "--mode")
    tm = TrainMode.open(settings)
    artist = tm.artist(args.artist)
    row = tm.find_set(artist, args.als)
    if args.offset is not None:
        tm.set_clip_offset(tm.saved_item(artist, row), args.offset)
    planned = tm.plan_clips(artist, row, mode=args.mode, window_s=window_s, writer_name=args.writer)
    if args.json:
        return _print_json(
            [
                {k: c.get(k) for k in ("index", "name", "start_s", "end_s", "caption", "dropped", "findings", "silent")}
                for c in planned
            ]
        )
    for c in planned:
        said = f"(silent, not exported: {c['silent']})" if c.get("silent") else c["caption"]
        print(
            f"{c['index']:>2}  {c['start_s']:8.2f}-{c['end_s']:8.2f}  {shown(c['name'] or '-'):<16}  "
            f"{'(dropped) ' if c['dropped'] else ''}{shown(said)}"
        )


def cmd_export(args, settings) -> None:
    window_s = _window_s(args.clips, args.window_seconds, "--clips")
    tm = TrainMode.open(settings)

    def progress(p):
        mib = 1024 * 1024
        print(
            f"{p.stage}: {p.items_done}/{p.items_total} rows, {p.bytes_done / mib:.1f}/{p.bytes_total / mib:.1f} MiB",
            file=sys.stderr,
        )

    export = tm.export_everything if args.all else tm.export
    result = export(
        tm.artist(args.artist),
        on_progress=progress,
        format=args.format,
        split=args.split,
        artist_name=args.artist_name,
        by=args.by,
        clips=args.clips,
        window_s=window_s,
    )
    print(
        f"exported {counted(result.item_count, 'item')} ({result.format}), {result.bytes} bytes, "
        f"sha256 {result.sha256}",
        file=sys.stderr,
    )
    for line in [*(f"left out: {x}" for x in result.left_out), *(f"warning: {w}" for w in result.warnings)]:
        print(line, file=sys.stderr)
    print(result.url)


def cmd_doctor(args, settings) -> int:
    # No start-up sweep first: doctor reports what is there, and removes only with --fix.
    try:
        tm = TrainMode.open(settings, sweep=False, new_database=args.new_database)
    except DatabaseDamagedError as exc:  # not even readable as a database
        print(shown(TrainMode.damage_report(settings, exc)))
        return 1
    return tm.doctor(fix=args.fix)


def cmd_backup(args, settings) -> int:
    if args.list:
        backups = TrainMode.list_backups(settings)
        for path in backups:
            print(f"{path.name}  {path.stat().st_size} bytes")
        if not backups:
            print("no backups yet", file=sys.stderr)
        return 0
    if args.restore:
        used, kept = TrainMode.restore_backup(settings, args.restore)
        print(f"restored {used.name}" + (f"; the database it replaced is kept as {kept}" if kept else ""))
        return 0
    print(TrainMode.backup(settings, keep=args.keep))
    return 0


def cmd_check_dataset(args, settings) -> int:
    report = TrainMode.dataset_report(args.path, args.format)
    for line in [
        *report.problems,
        *(f"warning: {w}" for w in report.warnings),
        *(f"trainer: {s}" for s in report.sees),
    ]:
        print(line)
    if report.problems:
        print(f"error: {len(report.problems)} problem(s) for {args.format}.", file=sys.stderr)
        return 1
    print(f"{args.path} meets the {args.format} rules.")
    return 0


def cmd_setup_supabase(args, settings) -> None:
    limit = args.file_size_limit_mb * 1024 * 1024 if args.file_size_limit_mb else None
    TrainMode.setup_supabase(settings, file_size_limit=limit, echo=print)


def cmd_check_supabase(args, settings) -> int:
    checks = TrainMode.check_supabase(settings)
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


HANDLERS = {
    "summarize": cmd_summarize,
    "analyze": cmd_analyze,
    "demo": cmd_demo,
    "import": cmd_import,
    "generate": cmd_generate,
    "save": cmd_save,
    "items": cmd_items,
    "captions-report": cmd_captions_report,
    "clips": cmd_clips,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "backup": cmd_backup,
    "check-dataset": cmd_check_dataset,
    "setup-supabase": cmd_setup_supabase,
    "check-supabase": cmd_check_supabase,
}


def _add_commands(sub) -> None:
    p = sub.add_parser("summarize", help="print the summary of one .als file as JSON (no store needed)")
    p.add_argument("file")
    p.add_argument("--with-id", action="store_true", help="include parse_id and als_filename")

    p = sub.add_parser("analyze", help="listen to an MP3: tempo, key, loudness, peak, silence, clipping")
    p.add_argument("file", metavar="FILE.mp3")
    p.add_argument("--json", action="store_true")

    sub.add_parser("demo", help="create the demo artist with small sets, MP3s and saved items (idempotent)")

    p = sub.add_parser("import", help="import .als files for an artist (created if needed)")
    p.add_argument("--artist", required=True)
    p.add_argument("files", nargs="+", metavar="FILE.als")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("generate", help="generate a caption for an imported set")
    p.add_argument("--artist", required=True)
    p.add_argument("--als", required=True, metavar="ALS_FILENAME", help="the set's file name (or parse id)")
    p.add_argument(
        "--audio",
        metavar="FILE.mp3",
        help="the set's render: listened to first, so the caption leads with what is heard",
    )
    p.add_argument("--writer", choices=("openai", "offline"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("save", help="save an MP3 + caption as a ready training item")
    p.add_argument("--artist", required=True)
    p.add_argument("--als", required=True, metavar="ALS_FILENAME")
    p.add_argument("--audio", required=True, metavar="FILE.mp3")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--caption", metavar="TEXT")
    g.add_argument("--caption-file", metavar="F")
    g.add_argument("--generate", action="store_true", help="generate the caption now")
    p.add_argument("--lyrics-file", metavar="F", help="the song's lyrics (UTF-8 text), exported for ACE-Step")
    p.add_argument("--writer", choices=("openai", "offline"))
    p.add_argument(
        "--force",
        action="store_true",
        help="save despite fact-check findings or an audio `mismatch` (another tempo, length or key)",
    )
    p.add_argument("--by", default=os.environ.get("USER"), metavar="NAME", help="who saves it (default: $USER)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("items", help="list an artist's training items")
    p.add_argument("--artist", required=True)
    p.add_argument("--status", choices=("ready", "exported"))
    p.add_argument("--json", action="store_true")


def _add_dataset_commands(sub) -> None:
    """Reports on saved items, the export, and tools for the store and the datasets."""
    p = sub.add_parser("captions-report", help="how varied and faithful an artist's saved captions are")
    p.add_argument("--artist", required=True)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="pack an artist's ready items into dataset.zip; prints its path or URL last")
    p.add_argument("--artist", required=True)
    p.add_argument("--by", default=os.environ.get("USER"), metavar="NAME", help="who exports (default: $USER)")

    p.add_argument("--format", choices=FORMAT_NAMES, default="hf", help="the trainer's layout (default: hf)")
    p.add_argument(
        "--split", type=float, metavar="RATIO", help="share of items to train on, e.g. 0.9 (the rest: validation)"
    )
    p.add_argument("--artist-name", action="store_true", help="show the artist's name, not an opaque id")
    p.add_argument(
        "--all",
        action="store_true",
        help="re-export all: every ready and exported item (after edits), as the Export page's Re-export all",
    )
    p.add_argument(
        "--clips",
        choices=("sections", "windows", "none"),
        default="none",
        help="a row per arrangement section (or window of at most --window-seconds) instead of per track",
    )
    _add_window_seconds(p, "--clips")

    p = sub.add_parser("clips", help="print the section clips of a set's saved item, with their captions")
    p.add_argument("--artist", required=True)
    p.add_argument("--als", required=True, metavar="ALS_FILENAME", help="the set's file name (or parse id)")
    p.add_argument("--mode", choices=("sections", "windows"), default="sections")
    _add_window_seconds(p, "--mode")
    p.add_argument(
        "--offset",
        type=float,
        metavar="SECONDS",
        help="save where beat 0 is in the render (seconds of lead-in) before planning",
    )
    p.add_argument(
        "--writer",
        choices=("openai", "offline"),
        default="offline",
        help="who writes captions not saved yet (default: offline)",
    )
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("check-dataset", help="check a dataset zip or folder against its trainer's rules")
    p.add_argument("path", metavar="PATH.zip")
    p.add_argument("--format", required=True, choices=FORMAT_NAMES, help="the trainer's layout to check against")


def _add_window_seconds(p, flag: str) -> None:
    low, high = WINDOW_RANGE_S
    p.add_argument(
        "--window-seconds",
        type=float,
        metavar="SECONDS",
        help=f"with {flag} windows: the longest window, {low:g}-{high:g} s (default {WINDOW_S:g}, MusicGen's "
        "segment; Stable Audio Open trains on about 47.5 s, ACE-Step keeps up to 240 s)",
    )


def _add_tool_commands(sub) -> None:
    """The store's health (doctor, backup) and Supabase's setup."""
    p = sub.add_parser(
        "doctor",
        help="check the database and find what crashes left (temp files, orphan files and zips); --fix removes it",
    )
    p.add_argument(
        "--fix", action="store_true", help="remove what was found, after a backup (without it nothing changes)"
    )
    p.add_argument(
        "--new-database",
        action="store_true",
        help="start an empty database although saved files exist (the database was lost and no backup is left)",
    )

    p = sub.add_parser("backup", help="copy the local database to <data dir>/backups/ (or list or restore copies)")
    p.add_argument("--keep", type=int, default=10, metavar="N", help="backups to keep, newest first (default: 10)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help="list the backups, newest first")
    g.add_argument(
        "--restore", metavar="NAME", help="put a backup back (`latest` or a name from --list); stop the app first"
    )

    p = sub.add_parser("setup-supabase", help="check the migration and create the private storage bucket (idempotent)")
    p.add_argument(
        "--file-size-limit-mb",
        type=int,
        metavar="MB",
        help="the bucket's largest file in MiB (a new bucket: 50, the Free plan's project limit; "
        "an existing one keeps its limit)",
    )
    sub.add_parser("check-supabase", help="check, read-only, that the Supabase project is ready for Train Mode")


# What `COMMAND --help` (and docs/cli.md, generated from this parser) says beyond the one-line help.
DESCRIPTIONS = {
    "analyze": "No store needed. Prints the duration, tempo (BPM and confidence), key, loudness (LUFS), sample "
    "peak, silence at the start and end, the share of clipped samples and whether it is mono; what could not be "
    "measured, and warnings, go to stderr. --json prints it all as one object (docs/audio-analysis.md).",
    "import": "Progress per file; sets already imported are skipped. Exits 1 if any file failed. "
    "--json prints one result per file.",
    "generate": "--audio FILE.mp3 listens to the set's render first, as the Train page does (tempo, key, length "
    "and the tagger), prints the audio verdict on stderr (a mismatch, or a silent render, as a `warning: audio: "
    "mismatch. ...` line) and what was heard (`heard: ...`), and the caption leads with what is heard. Without "
    "--audio the caption is from the set alone, and a `note:` on stderr says so. --writer overrides "
    "TRAINMODE_WRITER. --json adds the model, version, provenance, fact-check findings and `captions`: the "
    "detailed, short and tags variants with their findings (`caption_findings`).",
    "save": "It first listens to the MP3 and prints the audio verdict against the set to stderr (`audio: matches.`, "
    "`audio: doubtful. ...` or `audio: mismatch. The audio runs at 140 BPM, the set at 128.`) and any `warning:` "
    "lines (silence, clipping, too quiet); with --generate also what was heard (`heard: ...`), which the caption "
    "then leads with. --lyrics-file attaches the song's lyrics (also to an item saved before from the same MP3). "
    "Fact-check findings or a mismatch (another tempo, length or key) make it "
    "exit 1 unless --force. Prints the item id, or with --json the whole row (the measurements are in "
    "metadata.audio).",
    "captions-report": "Count, length distribution, the share opening with the same three words, the share of word "
    "3-grams that are template text shared by a quarter of the captions, duplicates and fact-check findings by "
    "type, with a warning for each target missed; then the same for each stored variant (detailed, short, tags).",
    "clips": "Number, start and end in seconds, section name and caption of each clip: the reviewed caption when "
    "saved for that clip's span, else one written from what plays in the section (docs/clips.md). --mode windows "
    "--window-seconds S plans windows of at most S seconds. --json adds the fact-check findings.",
    "export": "Every ready item goes in, in a trainer's layout (docs/dataset-formats.md), checked against that "
    "trainer's rules before it is stored. --split keeps an item on the same side every time (a hash of its id). "
    "The artist is an opaque id unless --artist-name. --clips makes each section of each item a row of its own "
    "(clip-0001-03.mp3 with its own caption, docs/clips.md); --clips windows cuts windows of at most "
    "--window-seconds (default 30) inside each section, and the card names the length. The last stdout line "
    "is the zip's path (embedded) or a signed URL (Supabase).",
    "check-dataset": "Checks a zip, or the folder it was unzipped into. One line per problem; exits 1 if there is any.",
    "doctor": "Runs SQLite's integrity check on the embedded database first (a damaged one is reported with the "
    "newest backup, and nothing else is examined), then prints one table (count and bytes per kind): temp files "
    "of dead processes, uploads older than a day, "
    "item files with no row, zips of failed or missing exports, and (reported only) items whose files, or complete "
    "exports whose zip, are missing. Without --fix nothing changes; --fix removes the first two kinds and moves the "
    "next two to trash/ (deleted by a later --fix after 7 days). Files with no row are kept and reported when the "
    "database looks lost or replaced (no rows, an unknown artist, or more row-less files than crashes leave). "
    "--fix backs the database up first. --new-database starts an empty database beside saved files (only when the "
    "database was lost and no backup is left). Exits 0 when nothing is left to fix, else 1. Works on both backends; "
    "every other command quietly removes temp files of dead processes when it starts.",
    "backup": "SQLite's online backup (consistent while the app runs) to <TRAINMODE_DATA_DIR>/backups/"
    "trainmode-<UTC time>-manual.sqlite3, keeping the newest N (default 10); backups are also made before a schema "
    "change at open and before doctor --fix. --list lists them, --restore NAME (or `latest`) puts one back: stop the "
    "app first. Embedded backend only.",
    "setup-supabase": "Checks that the migrations are applied, then creates the private bucket or corrects it "
    "(size limit, allowed types). Safe to run again.",
    "check-supabase": "URL and key, every table and column, grants, Row Level Security, the export functions, a "
    "private bucket and a signed URL that round-trips: one line per check; exits 1 at the first failure.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainmode", description="Turn Ableton Live sets and rendered MP3s into a captioned dataset."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_commands(sub)
    _add_dataset_commands(sub)
    _add_tool_commands(sub)
    for name, description in DESCRIPTIONS.items():
        sub.choices[name].description = description
    parser.commands = sub.choices  # main(): a stray option is reported with its command's usage
    return parser


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}."


def _unexpected(settings) -> str:
    """Keep the traceback in the log file; return the one line for the user."""
    try:
        path = setup_logging(settings.data_dir if settings else Path(".trainmode"))
    except OSError as exc:
        traceback.print_exc()
        return f"an unexpected error (a bug); its traceback could not be logged ({exc.strerror}), so it is above."
    log.exception("unexpected error in python -m trainmode %s", " ".join(sys.argv[1:]))
    return f"an unexpected error (a bug); the traceback is in {path}"


def _shown_lines(text: str) -> str:
    """Several lines, each shown safely (their own line breaks kept)."""
    return "\n".join(shown(line) for line in text.split("\n"))


def _stdout_closed() -> int:
    """The reader of stdout went away (`| head`): stop quietly, as `cat` does, with 141
    (128 + SIGPIPE); further writes, even Python's own flush at exit, go nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser: its usage is the one that helps
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    handler = HANDLERS[args.command]
    settings = None
    try:
        settings = load_settings()
        status = handler(args, settings) or 0
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        return _stdout_closed()
    except TrainModeError as exc:
        print(f"error: {shown(exc)}", file=sys.stderr)
    except OSError as exc:  # a missing file, a folder given as a file, a full disk...
        print(f"error: {shown(_os_error(exc))}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    except Exception:
        print(f"error: {_unexpected(settings)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
