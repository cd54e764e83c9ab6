"""Benchmark the pages with an artist of thousands of sets and items (not a test).

    .venv/bin/python benchmarks/bench_scale.py [--sizes 200:500,2000:5000] [--backends embedded,supabase]

For each size N sets / M items and each backend (embedded SQLite; Supabase = the HTTP fake
of tests/fake_supabase.py, which keeps PostgREST's 1,000-row page limit) it fills one
artist straight through the store (real summaries parsed once from the shared corpus,
renamed and varied; one small MP3 reused by every item), then drives the pages with
AppTest and prints the median of --runs warm reruns:

- Library rerun, Library rerun after a filter change (a new name filter each run),
- Train rerun with 10 MP3s in the uploader, Export page rerun,
- Supabase: bytes the fake sent per Library rerun: warm, after a caption edit (a write to
  training_items), after an import (a write to als_summaries), and with nothing kept (a new
  server process, or the 30 s revalidation of trainmode/store/reads.py); the same for a Train rerun
  with the 10 MP3s paired (against the bytes of every summary whole, which the Train page read
  before); and HTTP requests per exported item (`export` of every item).

Targets at 2,000 / 5,000: Library <= 0.3 s, filter change <= 0.2 s, Train <= 0.3 s, Browse
(a rerun, another page or filter of the saved items) <= 0.3 s,
Export page <= 0.2 s, <= 1 MB per Library rerun, <= 1.05 requests per exported item;
the last table prints how each figure grew from the smaller size to the larger one.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fake_supabase import FakeSupabase  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from trainmode.config import load_settings  # noqa: E402
from trainmode.service import TrainMode  # noqa: E402
from trainmode.sets.als import parse_als  # noqa: E402
from trainmode.store import open_store  # noqa: E402
from trainmode.store.base import new_id  # noqa: E402
from trainmode.store.embedded import now_iso  # noqa: E402

SHARED = Path(os.environ.get("TRAINMODE_SHARED", ROOT.parent / "shared"))
ARTIST = "Scale Artist"
MP3 = SHARED / "fixtures" / "audio" / "id3v2_tagged_3s.mp3"
METERS = ("4/4", "3/4", "6/8", "7/8")
KEYS = ("C", "D", "E", "F", "G", "A", "B")


class CountingFake(FakeSupabase):
    """The fake that also counts the bytes it answered with."""

    def __init__(self):
        super().__init__(global_limit=2**31)  # 5,000 items make a zip over the Free plan's 50 MB
        self.bytes_out = 0

    def handle(self, req):
        status, headers, body = super().handle(req)
        self.bytes_out += len(body)
        return status, headers, body


def templates() -> list[dict]:
    """A few real summaries from the shared corpus (parsed once) to vary."""
    found = []
    for path in sorted((SHARED / "corpus" / "als").glob("*.als"))[:12]:
        try:
            found.append(parse_als(path, filename=path.name).summary)
        except Exception:  # noqa: BLE001  (a corpus set this parser refuses: take the next)
            continue
    return found[:6]


def summary_for(base: dict, index: int) -> dict:
    s = copy.deepcopy(base)
    bpm = 80.0 + (index * 7) % 90
    s.setdefault("tempo", {}).update({"bpm": bpm, "dominant_bpm": bpm, "min": bpm, "max": bpm})
    s["time_signature"] = METERS[index % len(METERS)]
    s["time_signatures"] = [{"beat": 0.0, "time_signature": s["time_signature"]}]
    tonic, mode = KEYS[index % len(KEYS)], ("minor", "major")[index % 2]
    s["key"] = {"tonic": tonic, "mode": mode, "name": f"{tonic} {mode}", "confidence": 0.9, "source": "midi_notes"}
    return s


def populate(store, n: int, m: int) -> dict:
    """One artist with n sets and m items, written straight through the store."""
    artist = store.ensure_artist(ARTIST)
    bases = templates()
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": new_id(),
                "artist_id": artist["id"],
                "parse_id": f"{i:064x}",
                "als_filename": f"set_{i:04d}.als",
                "summary": summary_for(bases[i % len(bases)], i),
                "created_at": now_iso(),
            }
        )
    items = []
    audios = [f"{artist['id']}/items/{j}/audio.mp3" for j in range(m)]
    place_blobs(store, audios)
    for j, audio in enumerate(audios):
        row = rows[j % n]
        items.append(
            {
                "id": new_id(),
                "artist_id": artist["id"],
                "als_summary_id": row["id"],
                "parse_id": row["parse_id"],
                "audio_path": audio,
                "prompt_path": f"{audio}.txt",
                "prompt_text": f"A steady groove number {j} with drums and bass.",
                "status": "ready",
                "prompt_edited": False,
                "provenance": {},
                "findings": [],
                "metadata": {},
                "audio_sha256": f"{j:064x}",
                "audio_duration_s": 3.0,
                "audio_bytes": MP3.stat().st_size,
                "audio_filename": f"set_{j % n:04d} (master).mp3",
                "created_at": now_iso(),
                "updated_at": now_iso(),
            }
        )
    bulk_insert(store, "als_summaries", rows)
    bulk_insert(store, "training_items", items)
    return artist


def place_blobs(store, paths: list[str]) -> None:
    """The one small MP3 as every item's own audio (an export fetches each item's file): stored
    once, then hard-linked (embedded) or shared in the fake's memory (Supabase)."""
    store.put_blob(paths[0], MP3.read_bytes(), "audio/mpeg")
    if store.kind == "embedded":
        for path in paths[1:]:
            store.local_path(path).parent.mkdir(parents=True)
            os.link(store.local_path(paths[0]), store.local_path(path))
        return
    bucket, first = next((key, obj) for key, obj in store.bench_fake.objects.items() if key[1] == paths[0])
    for path in paths[1:]:
        store.bench_fake.objects[(bucket[0], path)] = dict(first)


def bulk_insert(store, table: str, rows: list[dict]) -> None:
    if store.kind == "embedded":
        with store._tx() as db:
            for row in rows:
                store._insert(db, table, row)
    else:  # straight into the fake's memory: its constraint checks are O(n^2)
        from trainmode.store.supabase.check import COLUMNS as TABLE_COLUMNS

        blank = dict.fromkeys(TABLE_COLUMNS[table])
        store.bench_fake.tables[table].extend({**blank, **copy.deepcopy(row)} for row in rows)


def timed(at: AppTest, runs: int, before=None) -> float:
    times = []
    for index in range(runs):
        if before:
            before(at, index)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return statistics.median(times)


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page(f"pages/{name}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def bytes_per_rerun(at: AppTest, fake: CountingFake | None, name: str) -> dict:
    """Bytes the fake sent for one rerun of the page: warm, after a caption edit, after an
    import, with nothing kept ({name}_bytes, {name}_edit_bytes, ...)."""
    out = {}
    for when, change in (("", None), ("_edit", edit_a_caption), ("_import", import_a_set), ("_cold", forget_reads)):
        if fake is None:
            break
        if change:
            change(pages_tm())
        before = fake.bytes_out
        at.run()
        assert not at.exception, at.exception
        out[f"{name}{when}_bytes"] = fake.bytes_out - before
    return out


def measure_pages(runs: int, fake: CountingFake | None, n: int) -> dict:
    out = {}
    at = page("library")
    out["library_s"] = timed(at, runs)
    out.update(bytes_per_rerun(at, fake, "library"))

    def new_filter(at, index):
        at.text_input(key="sets_filter").input(f"set_{index}")

    out["filter_s"] = timed(at, runs, new_filter)
    at = page("train")
    at.file_uploader[0].set_value(
        [(f"set_{i:04d} (master).mp3", MP3.read_bytes(), "audio/mpeg") for i in range(0, n, max(1, n // 10))][:10]
    )
    at.run()
    out["train_s"] = timed(at, runs)
    out.update(bytes_per_rerun(at, fake, "train"))
    if fake is not None:  # the baseline, same run: what the Train page read before, every summary whole
        before, tm = fake.bytes_out, pages_tm()
        tm.store.list_summaries(tm.artist(ARTIST)["id"])
        out["whole_bytes"] = fake.bytes_out - before
    out["export_s"] = timed(page("export"), runs)
    at = page("browse")
    out["browse_s"] = timed(at, runs)

    def next_page(at, index):  # paging and filtering through all the items (#29)
        at.selectbox(key="browse_findings").select(["any", "with findings", "without"][index % 3])
        at.number_input(key="browse_page").set_value(1 + index % 3)

    out["browse_page_s"] = timed(at, runs, next_page)
    return out


def pages_tm() -> TrainMode:
    """The TrainMode the pages share (pages/_ui.py): writes through it reach their read cache."""
    from pages._ui import _cached

    settings = load_settings()
    return _cached(settings.backend, str(settings.data_dir.resolve()), settings.supabase_url, settings.bucket, settings)


def edit_a_caption(tm: TrainMode) -> None:
    """A write to training_items, as the Train page's save or the Export page's edit makes."""
    artist = tm.artist(ARTIST)
    item = tm.item_page(artist, 0, 1)[0][0]
    tm.update_caption(artist, item["id"], "A slow groove with warm pads and a deep bass.")


def import_a_set(tm: TrainMode) -> None:
    """A write to als_summaries, as an import makes."""
    artist = tm.artist(ARTIST)
    tm.store.add_summary(artist["id"], new_id().replace("-", ""), "zz_new.als", summary_for(templates()[0], 1))


def forget_reads(tm: TrainMode) -> None:
    """Nothing kept: a new server process, or Supabase's revalidation timer ran out (trainmode/store/reads.py)."""
    getattr(getattr(tm, "reads", None), "_entries", {}).clear()


@contextmanager
def backend(kind: str, workdir: Path):
    os.environ["TRAINMODE_DATA_DIR"] = str(workdir / "data")
    os.environ["TRAINMODE_SECRETS"] = str(workdir / "no-secrets.toml")
    os.environ["TRAINMODE_WRITER"] = "offline"
    if kind == "embedded":
        os.environ["TRAINMODE_BACKEND"] = "embedded"
        yield None
        return
    from trainmode.store.supabase.setup import setup_supabase

    with CountingFake() as fake:
        os.environ.update(
            {"TRAINMODE_BACKEND": "supabase", "SUPABASE_URL": fake.url, "SUPABASE_SERVICE_ROLE_KEY": fake.key}
        )
        setup_supabase(load_settings(), file_size_limit=2**31, echo=lambda *_: None)
        yield fake


def one(kind: str, n: int, m: int, runs: int, export: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, backend(kind, Path(tmp)) as fake:
        settings = load_settings()
        store = open_store(settings)
        store.bench_fake = fake
        started = time.perf_counter()
        artist = populate(store, n, m)
        print(f"  {kind} {n}/{m}: populated in {time.perf_counter() - started:.1f} s", flush=True)
        out = measure_pages(runs, fake, n)
        if export:
            tm = TrainMode(store, settings)
            before = len(fake.requests) if fake else 0
            started = time.perf_counter()
            result = tm.export(artist)
            out["export_cli_s"] = time.perf_counter() - started
            if fake is not None:
                out["requests_per_item"] = (len(fake.requests) - before) / max(result.item_count, 1)
        store.close()
        return out


COLUMNS = [
    ("library_s", "Library s", "{:.3f}"),
    ("filter_s", "filter s", "{:.3f}"),
    ("train_s", "Train+10 s", "{:.3f}"),
    ("export_s", "Export page s", "{:.3f}"),
    ("browse_s", "Browse rerun s", "{:.3f}"),
    ("browse_page_s", "Browse page/filter s", "{:.3f}"),
    ("library_bytes", "bytes/Library", "{:,.0f}"),
    ("library_edit_bytes", "bytes after a caption edit", "{:,.0f}"),
    ("library_import_bytes", "bytes after an import", "{:,.0f}"),
    ("library_cold_bytes", "bytes with nothing kept", "{:,.0f}"),
    ("train_bytes", "bytes/Train+10", "{:,.0f}"),
    ("train_import_bytes", "Train bytes after an import", "{:,.0f}"),
    ("train_cold_bytes", "Train bytes with nothing kept", "{:,.0f}"),
    ("whole_bytes", "every summary whole (Train before)", "{:,.0f}"),
    ("export_cli_s", "export s", "{:.2f}"),
    ("requests_per_item", "requests/item", "{:.3f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200:500,2000:5000")
    parser.add_argument("--backends", default="embedded,supabase")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-export", action="store_true", help="skip the export (requests per item)")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    results = {}
    for kind in args.backends.split(","):
        for n, m in sizes:
            results[(kind, n)] = one(kind, n, m, args.runs, not args.no_export)
            print(f"  {kind} {n}/{m}: {results[(kind, n)]}", flush=True)
    print("\n| backend | N / M | " + " | ".join(c[1] for c in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for (kind, n), row in results.items():
        m = dict(sizes)[n]
        cells = [fmt.format(row[k]) if k in row else "–" for k, _, fmt in COLUMNS]
        print(f"| {kind} | {n} / {m} | " + " | ".join(cells) + " |")
    if len(sizes) > 1:
        (small, _), (large, _) = sizes[0], sizes[-1]
        print(f"\nGrowth from N={small} to N={large} (data grew {large / small:.0f}x; linear or less is <= that):")
        for kind in args.backends.split(","):
            a, b = results[(kind, small)], results[(kind, large)]
            print(
                f"  {kind}: " + ", ".join(f"{label} {b[k] / a[k]:.1f}x" for k, label, _ in COLUMNS if k in a and a[k])
            )


if __name__ == "__main__":
    main()
