"""Listening (#27): every saved render is tagged whole and per section of its set; the tags go
with the item, its clips, the queue draft and every export format where a field fits them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import lameenc
import numpy as np
import pytest
from gm_render import missing_tools, render
from scipy.io import wavfile

from trainmode.audio.analysis import AudioAnalysis, analyze_many, analyze_mp3
from trainmode.audio.listen import clip_tags, section_spans, tag_fields, with_section_tags
from trainmode.export.clip_rows import clip_rows
from trainmode.export.formats.ace_step import metas
from trainmode.export.formats.audiocraft import music_info
from trainmode.export.formats.hf import metadata_line, track_record
from trainmode.export.rows import row_for
from trainmode.sets.importing import import_sets, require_summary
from trainmode.train import drafts
from trainmode.train.save import SaveRequest, save_item
from trainmode.train.work_queue import QueueEntry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools())),
]
TECHNO = {"techno", "electronic", "dance", "house", "electro"}
PIANO = {"piano", "classical"}
PART_S = 12.0


def _section(name: str, start_s: float, end_s: float) -> dict:
    beats = 2.0  # 120 BPM
    # The demo set's drums play in every section: the set has arrangement content to save a render of.
    return {
        "name": name,
        "start_s": start_s,
        "end_s": end_s,
        "start_beat": start_s * beats,
        "end_beat": end_s * beats,
        "tracks": ["Drums"],
        "instruments": ["drums"],
    }


@pytest.fixture(scope="module")
def render_mp3(tmp_path_factory) -> Path:
    """12 s of GM techno, 8 s of silence, 12 s of GM piano, as a 44.1 kHz stereo MP3."""
    folder = tmp_path_factory.mktemp("gm")
    parts = []
    for style in ("techno", "piano"):
        rate, pcm = wavfile.read(render(style, PART_S + 1, folder / f"{style}.wav"))
        parts.append(pcm[: int(PART_S * rate)])
    pcm = np.concatenate([parts[0], np.zeros((8 * 44100, 2), dtype=np.int16), parts[1]])
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(192)
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(2)
    encoder.set_quality(2)
    path = folder / "render.mp3"
    path.write_bytes(encoder.encode(np.ascontiguousarray(pcm).tobytes()) + encoder.flush())
    return path


@pytest.fixture
def saved(store, demo_files, render_mp3):
    demo, als, _ = demo_files[0]
    import_sets(store, "Ada", [(als.name, als)])
    artist = store.find_artist("Ada")
    row = require_summary(store, artist, als.name)
    sections = [_section("Drop", 0, 13), _section("Gap", 13, 19), _section("Keys", 19, 32)]  # the gap: silence
    row = {**row, "summary": {**row["summary"], "sections": sections}}
    request = SaveRequest(audio=render_mp3, audio_name="render.mp3", caption="A test render.", confirm=True)
    return artist, row, save_item(store, artist, row, request).item


def _top(tags: dict, n: int = 5) -> set[str]:
    return {t for t, _ in sorted(tags["tags"].items(), key=lambda kv: -kv[1])[:n]}


def test_a_saved_render_stores_its_tags_whole_and_per_section(saved):
    _, _, item = saved
    tags = item["metadata"]["audio"]["tags"]
    assert _top(tags["whole"]) & (TECHNO | PIANO), tags["whole"]["tags"]
    drop, gap, keys = tags["spans"]
    assert [s["span"] for s in tags["spans"]] == [[0, 13], [13, 19], [19, pytest.approx(32, abs=0.1)]]
    assert _top(drop) & TECHNO and _top(keys) & PIANO, (_top(drop), _top(keys))
    assert gap["tags"] == {} and gap["reason"] == "silent" and not gap["genre"] and not gap["instrument"]


def test_clips_get_their_sections_tags_and_the_exports_carry_them(saved, store):
    artist, row, item = saved
    assert clip_tags(item, 0.0, 13.0)["span"] == [0, 13]
    assert clip_tags(item, 20.0, 25.0)["span"][0] == 19  # a window clip inside a section
    whole = row_for(1, item, row["summary"], {}, artist="ada")
    assert whole.heard["tags_genre"] is not None and "tags_instrument" in track_record(whole)
    clips = clip_rows([whole], {item["id"]: item}, {item["als_summary_id"]: row["summary"]}, {}, mode="sections")
    assert [c.source["section"] for c in clips] == ["Drop", "Keys"]  # the silent gap is never a clip (#26)
    drop, keys = clips
    # Each clip records what its own caption was written with (QA: clips carried the track's record).
    made = [c.source["provenance"] for c in clips]
    assert all(m["writer"] == "offline" and m["heard"]["model"] == "musicnn" for m in made)
    assert all(m != whole.source.get("provenance") for m in made), (made, whole.source.get("provenance"))
    assert set(drop.heard["tags_genre"]) & TECHNO and "piano" in keys.heard["tags_instrument"]
    gap = replace(drop, heard={**drop.heard, **tag_fields(clip_tags(item, 13.0, 19.0))})  # what a gap row would carry
    assert gap.heard["tags_genre"] == [] and gap.heard["tags_instrument"] == [] and gap.heard["vocals_heard"] is None
    info = music_info(drop)
    # Genre and moods as the clip's caption states them (a heard "fast" is not said at 120 BPM: heard.py).
    assert info["genre"] in TECHNO and info["genre"] in drop.caption.lower() and info["moods"] == list(drop.facts.moods)
    assert metas(drop)["genre"] == ", ".join(drop.facts.genres) and info["genre"] == drop.facts.genres[0]
    assert track_record(keys)["tags_instrument"] == keys.heard["tags_instrument"]
    # audiocraft's instrument: the families that play in the section, not the tagger's raw words
    # (QA: a guitar render heard as "violin, strings" while its caption rightly said guitar).
    assert music_info(keys)["instrument"] == ", ".join(keys.facts.instruments) != "piano"
    line = json.loads(metadata_line(track_record(gap)))  # audiofolder: the same types in every split
    assert (line["tags_genre"], line["tags_instrument"], line["vocals_heard"]) == ("", "", "")
    assert "piano" in json.loads(metadata_line(track_record(keys)))["tags_instrument"].split(", ")


def test_an_untagged_item_falls_back_to_the_sets_facts(saved):
    artist, row, item = saved
    old = {
        **item,
        "metadata": {**item["metadata"], "audio": {k: v for k, v in item["metadata"]["audio"].items() if k != "tags"}},
    }
    plain = row_for(1, old, row["summary"], {"genres": ["reggae"]}, artist="ada")
    assert plain.heard["tags_genre"] is None and "genre" not in metas(plain)
    assert music_info(plain)["genre"] == (plain.facts.genres[0] if plain.facts.genres else None)


def test_drafts_keep_the_tags(saved, render_mp3):
    _, _, item = saved
    analysis = AudioAnalysis.from_dict(item["metadata"]["audio"])
    entry = QueueEntry(
        artist_id="a",
        parse_id="p",
        als_filename="x.als",
        audio_name="r.mp3",
        audio_path=str(render_mp3),
        analysis=analysis,
    )
    kept = drafts.as_json([entry])["entries"][0]["analysis"]
    assert AudioAnalysis.from_dict(kept).tags == item["metadata"]["audio"]["tags"]
    assert AudioAnalysis.from_dict(kept).heard() == analysis.heard()


def test_analyze_many_reports_each_file_and_tags_the_whole_render(render_mp3):
    seen = []
    results = analyze_many([render_mp3], max_workers=1, on_progress=lambda *a: seen.append(a), names=["r.mp3"])
    assert seen == [(1, 1, "r.mp3")]
    assert results[0].tags["spans"] == [] and _top(results[0].tags["whole"]) & (TECHNO | PIANO)
    spans = section_spans({"sections": [_section("A", 0, 13), _section("B", 13, 32)]}, results[0].duration_s)
    assert spans[0] == (0.0, 13.0) and spans[1][1] == pytest.approx(32, abs=0.1)
    assert with_section_tags(results[0], render_mp3, [], "r.mp3") is results[0]  # a set without sections
    known = analyze_mp3(render_mp3, spans=spans)  # the set known before listening: one pass
    assert with_section_tags(known, render_mp3, spans, "r.mp3") is known
    assert with_section_tags(results[0], render_mp3, spans, "r.mp3").tags == known.tags
