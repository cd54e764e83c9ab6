"""The OpenAI writer against a local OpenAI-compatible server: what it sends,
what it returns, and how each failure reads. No test calls the real API."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import time
import wave
from datetime import datetime

import pytest
from audio_synth import encode, song
from fake_openai import GOOD_KEY, REPORTED_MODEL, FakeOpenAI, Reply, captions_json, free_port
from summaries_v2 import v2_summary

from trainmode.audio import frames
from trainmode.audio.tagger import Tags, VocalsVerdict
from trainmode.captions.factcheck import check_caption, check_variants
from trainmode.captions.writers.context import build_context, caption_metadata, fingerprint
from trainmode.captions.writers.offline import OfflineWriter
from trainmode.captions.writers.openai_writer import OpenAIWriter
from trainmode.captions.writers.system_prompt import (
    CAPTIONS_RESPONSE_FORMAT,
    TRAIN_PROMPT_VERSION,
    TRAIN_SYSTEM_PROMPT,
    TRAIN_SYSTEM_PROMPT_SHA256,
)
from trainmode.clips.captions import caption_clips
from trainmode.clips.plan import plan_clips
from trainmode.config import Secret, Settings
from trainmode.errors import WriterError


def track(name, type_="midi", devices=(), plugins=(), muted=False, group=None):
    return {
        "name": name,
        "type": type_,
        "muted": muted,
        "group": group,
        "devices": list(devices),
        "plugins": list(plugins),
        "clip_count": 2,
        "note_count": 10,
    }


SUMMARY = {
    "schema_version": 1,
    "live_version": "11.3.21",
    "creator": "Ableton Live 11.3.21",
    "tempo": {"bpm": 120.0, "automated": False, "min": 120.0, "max": 120.0},
    "time_signature": "6/8",
    "key": {"tonic": "A", "mode": "minor", "confidence": 0.82, "source": "midi_notes"},
    "length": {"beats": 192.0, "seconds": 96.0, "bars": 64.0},
    "track_counts": {"audio": 3, "midi": 3, "group": 0, "return": 1},
    "tracks": [
        track("Drums", devices=["Drum Rack"]),
        track("Sub Bass", devices=["Operator"]),
        track("Dreamy Keys", devices=["Electric"]),
        track("7-RYAN_HEMSWORTH_melody_loop_guitar_02_140_G#min", "audio"),
        track("/Users/someone/Samples/Vox Take 3.wav", "audio"),
        track("Old Sax Idea", "audio", muted=True),
        track("A-Reverb", "return", devices=["Reverb"]),
    ],
    "plugins": [],
    "devices": ["Drum Rack", "Electric", "Operator", "Reverb"],
    "locators": [{"time": 0.0, "name": "Intro"}, {"time": 48.0, "name": "Drop"}],
    "samples": ["RYAN_HEMSWORTH_melody_loop_guitar_02_140_G#min.wav", "Vox Take 3.wav"],
    "notes": {"count": 400, "pitch_min": 36, "pitch_max": 84, "density": 2.08},
}
SCHEMA = {
    "name": "Nova Lane",
    "genres": ["downtempo"],
    "moods": ["dreamy"],
    "instruments": [],
    "notes": "Nova Lane likes tape hiss.",
}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def writer_for(fake: FakeOpenAI, **kw) -> OpenAIWriter:
    return OpenAIWriter(kw.pop("api_key", GOOD_KEY), base_url=fake.base_url, **kw)


def test_request_sends_the_system_prompt_and_the_sets_facts(fake):
    writer_for(fake).write(SUMMARY, SCHEMA)
    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {GOOD_KEY}"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.message("system") == TRAIN_SYSTEM_PROMPT
    assert request.body["response_format"] == CAPTIONS_RESPONSE_FORMAT  # all three variants in one call
    assert CAPTIONS_RESPONSE_FORMAT["json_schema"]["schema"]["required"] == ["detailed", "short", "tags"]
    context = request.message("user")
    assert context == build_context(SUMMARY, SCHEMA)
    for fact in (
        "tempo: 120 BPM",
        "time signature: 6/8",
        "key: A minor",
        "Drums",
        "Sub Bass",
        "Dreamy Keys",
        "Operator",
        "Electric",
        "intro (bar 1)",
        "drop (bar 17)",
        "downtempo",
        "dreamy",
        # One evidence rule (trainmode.sets.als.families): a name says the part, so Operator on
        # "Sub Bass" is the bass and Electric on "Dreamy Keys" the keys.
        "instruments, longest-playing first: drums, bass, keys, lead, guitar, vocals",
    ):
        assert fact in context
    # Sample names, paths and the artist never reach the model; the instrument hint survives.
    for leak in ("RYAN", "HEMSWORTH", "Vox Take", ".wav", "/Users", "someone", "Nova Lane"):
        assert leak not in context
    assert "Sax" not in context and "Reverb" not in context  # a muted track and an effect return
    assert "guitar" in context and "vocals" in context


def test_the_artists_own_name_never_reaches_the_model(fake):
    """The name may live only in artists.name (not in master_schema): the service passes it."""
    summary = {
        **SUMMARY,
        "tracks": SUMMARY["tracks"] + [track("Mika Sol lead vox", "audio")],
        "locators": [{"time": 0.0, "name": "Mika Sol intro"}],
    }
    writer_for(fake).write(summary, {"genres": ["downtempo"]}, artist_name="Mika Sol")
    context = fake.requests[0].message("user")
    assert "Mika" not in context and "Sol " not in context
    assert "vocals" in context or "vox" in context


def test_context_is_byte_identical_for_the_same_facts():
    reordered = {k: copy.deepcopy(SUMMARY[k]) for k in reversed(list(SUMMARY))}
    assert build_context(SUMMARY, SCHEMA).encode() == build_context(reordered, dict(reversed(SCHEMA.items()))).encode()
    assert build_context(SUMMARY, SCHEMA) != build_context({**SUMMARY, "time_signature": "4/4"}, SCHEMA)


def test_result_carries_the_three_variants_the_reported_model_and_provenance(fake):
    fake.default = Reply(
        caption=captions_json(
            '  "Dreamy downtempo groove in 6/8 with\n warm electric piano,   deep sub bass and soft drums, drifting '
            'through a hazy [intro](https://x.io) into a fuller drop at 120 BPM."  ',
            "Dreamy downtempo in 6/8 with electric piano, sub bass and drums.",
            ["downtempo", " dreamy ", "#electric piano", "sub bass", "drums", "6/8", "A minor", "drums"],
        )
    )
    result = writer_for(fake).write(SUMMARY, SCHEMA)
    assert (
        result.text
        == result.variants["detailed"]
        == (
            "Dreamy downtempo groove in 6/8 with warm electric piano, deep sub bass and soft "
            "drums, drifting through a hazy intro into a fuller drop at 120 BPM."
        )
    )  # the Markdown link is gone
    assert result.variants["short"] == "Dreamy downtempo in 6/8 with electric piano, sub bass and drums."
    assert result.variants["tags"] == "downtempo, dreamy, electric piano, sub bass, drums, 6/8, A minor"
    assert check_variants(result.variants, SUMMARY, SCHEMA) == {"detailed": [], "short": [], "tags": []}
    assert result.provenance["variants_from_offline"] == []
    assert (result.model, result.version, result.writer) == (REPORTED_MODEL, TRAIN_PROMPT_VERSION, "openai")
    assert result.metadata == caption_metadata(SUMMARY) == {"bpm": 120.0, "key": "A minor", "time_signature": "6/8"}
    p = result.provenance
    assert (
        p["system_prompt_sha256"]
        == TRAIN_SYSTEM_PROMPT_SHA256
        == hashlib.sha256(TRAIN_SYSTEM_PROMPT.encode()).hexdigest()
    )
    assert p["summary_sha256"] == fingerprint(SUMMARY) and p["master_schema_sha256"] == fingerprint(SCHEMA)
    assert (p["writer"], p["model"], p["requested_model"], p["temperature"]) == (
        "openai",
        REPORTED_MODEL,
        "gpt-4o-mini",
        fake.requests[0].body["temperature"],
    )
    assert p["usage"] == {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}
    assert p["request_id"] == "req_1"
    assert datetime.fromisoformat(p["created_at"]).tzinfo is not None


def test_settings_choose_model_endpoint_and_key(fake):
    settings = Settings(openai_api_key=Secret(GOOD_KEY), openai_base_url=fake.base_url, model="llama3.1:8b")
    result = OpenAIWriter.from_settings(settings).write(SUMMARY, SCHEMA)
    assert fake.requests[0].body["model"] == "llama3.1:8b" == result.model


def test_local_endpoint_needs_no_key(fake):
    fake.api_key = "not-needed"  # what Ollama and LM Studio accept
    settings = Settings(openai_base_url=fake.base_url)
    assert OpenAIWriter.from_settings(settings).write(SUMMARY, SCHEMA).text


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://example.com/v1", "http://host:port/v1"])
def test_malformed_base_url(url):
    with pytest.raises(WriterError, match="OPENAI_BASE_URL must be an http:// or https:// URL"):
        OpenAIWriter(GOOD_KEY, base_url=url)


def test_no_key_says_what_to_do():
    with pytest.raises(WriterError, match=r"OPENAI_API_KEY.*TRAINMODE_WRITER=offline"):
        OpenAIWriter.from_settings(Settings())


def test_retries_rate_limits_and_server_errors_then_succeeds(fake):
    fake.script = [Reply(429), Reply(500), Reply(503)]
    started = time.monotonic()
    result = writer_for(fake, max_retries=3).write(SUMMARY, SCHEMA)
    assert len(fake.requests) == 4 and result.provenance["request_id"] == "req_4"
    assert time.monotonic() - started < 2  # the server's Retry-After keeps the backoff short


@pytest.mark.parametrize("status, words", [(429, "rate limiting"), (500, "HTTP 500"), (502, "HTTP 502")])
def test_gives_up_after_the_retries(fake, status, words):
    fake.default = Reply(status)
    with pytest.raises(WriterError, match=words) as err:
        writer_for(fake, max_retries=2).write(SUMMARY, SCHEMA)
    assert len(fake.requests) == 3
    assert "after 2 retries" in str(err.value) and "TRAINMODE_WRITER=offline" in str(err.value)


def test_timeout(fake):
    fake.default = Reply(latency=5)
    started = time.monotonic()
    with pytest.raises(WriterError, match=r"did not answer within 0.3 s"):
        writer_for(fake, timeout=0.3, max_retries=0).write(SUMMARY, SCHEMA)
    assert time.monotonic() - started < 3


def test_bad_key_is_reported_without_the_key(fake):
    key = "sk-proj-wrong-9f8e7d6c5b4a"
    writer = writer_for(fake, api_key=key, max_retries=0)
    with pytest.raises(WriterError) as err:
        writer.write(SUMMARY, SCHEMA)
    message = str(err.value)
    assert "401" in message and "OPENAI_API_KEY" in message
    assert key not in message and "9f8e7d6c5b4a" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no chained traceback
    assert key not in repr(writer)


def test_unreachable_base_url():
    writer = OpenAIWriter(GOOD_KEY, base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
    with pytest.raises(WriterError, match=r"Cannot connect to http://127\.0\.0\.1:\d+/v1\. Check OPENAI_BASE_URL"):
        writer.write(SUMMARY, SCHEMA)


def test_base_url_credentials_stay_out_of_messages():
    writer = OpenAIWriter(GOOD_KEY, base_url=f"http://user:hunter2@127.0.0.1:{free_port()}/v1", max_retries=0)
    with pytest.raises(WriterError) as err:
        writer.write(SUMMARY, SCHEMA)
    assert "hunter2" not in str(err.value) and "hunter2" not in repr(writer)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"<html><body>502 Bad Gateway</body></html>"),
        Reply(body=b'{"unexpected": true}'),
        Reply(caption=""),
        Reply(caption='""'),
        Reply(caption=captions_json("", "short", ["a", "b", "c", "d", "e"])),
    ],
    ids=["html", "json-without-choices", "empty", "empty-quotes", "empty-detailed"],
)
def test_garbage_answers(fake, reply):
    fake.default = reply
    with pytest.raises(WriterError, match="without a usable caption"):
        writer_for(fake).write(SUMMARY, SCHEMA)


def test_unknown_model(fake):
    fake.default = Reply(404)
    with pytest.raises(WriterError, match=r"Model 'gpt-4o-mini' was not found .*TRAINMODE_MODEL"):
        writer_for(fake).write(SUMMARY, SCHEMA)


def test_long_answers_are_cut_at_a_word_boundary(fake):
    fake.default = Reply(caption=captions_json("Caption: " + " ".join(["shimmering"] * 80)))
    prompt = writer_for(fake).write(SUMMARY, SCHEMA).text
    assert len(prompt) <= 512 and prompt.split() == ["shimmering"] * len(prompt.split())


def test_a_server_that_ignores_the_schema_still_gives_three_variants(fake):
    """A plain-text reply is the detailed caption; the facts-only writer supplies short and tags."""
    fake.default = Reply(
        caption="Dreamy downtempo groove in 6/8 with electric piano, sub bass and drums, drifting "
        "from a hazy intro into a fuller drop."
    )
    result = writer_for(fake).write(SUMMARY, SCHEMA)
    offline = OfflineWriter().write(SUMMARY, SCHEMA).variants
    assert result.text.startswith("Dreamy downtempo groove")
    assert (result.variants["short"], result.variants["tags"]) == (offline["short"], offline["tags"])
    assert result.provenance["variants_from_offline"] == ["short", "tags"]


def test_json_answers_without_the_schema_are_unwrapped(fake):
    fake.default = Reply(
        caption='{"caption": "Dreamy downtempo groove with electric piano, sub bass and soft drums '
        'over a gently swinging pulse."}'
    )
    assert writer_for(fake).write(SUMMARY, SCHEMA).text.startswith("Dreamy downtempo groove")


def test_a_hallucinated_instrument_in_one_variant_flags_that_variant_only(fake):
    fake.default = Reply(
        caption=captions_json(
            "Dreamy downtempo groove in 6/8 with warm electric piano, deep sub bass and soft drums, drifting through a "
            "hazy intro into a fuller drop at 120 BPM.",
            "Dreamy downtempo in 6/8 with electric piano and a wailing saxophone.",
            ["downtempo", "dreamy", "electric piano", "sub bass", "drums", "6/8"],
        )
    )
    result = writer_for(fake).write(SUMMARY, SCHEMA)
    found = check_variants(result.variants, SUMMARY, SCHEMA)
    assert found["detailed"] == [] and found["tags"] == []
    [finding] = found["short"]
    assert finding.code == "unsupported_instrument" and "saxophone" in finding.message and not finding.blocking


def test_a_hallucinating_model_is_caught_by_the_fact_checker(fake):
    fake.default = Reply(
        caption=captions_json(
            "Smoky late-night jazz at 140 BPM in 4/4, led by a breathy saxophone over brushed drums and upright bass, "
            "credited to Nova Lane, built from Vox Take 3.wav."
        )
    )
    result = writer_for(fake).write(SUMMARY, SCHEMA)
    codes = {f.code: f for f in check_caption(result.text, SUMMARY, SCHEMA)}
    assert codes["tempo_mismatch"].message == "The caption says 140 BPM but the set is 120 BPM."
    assert codes["meter_mismatch"].message == "The caption says 4/4 time but the set is in 6/8."
    assert "saxophone" in codes["unsupported_instrument"].message
    assert {"artist_name", "sample_name"} <= codes.keys()


def test_context_of_a_v2_set_has_the_tempo_map_meters_sections_and_no_key():
    context = build_context(v2_summary(), {"instruments": ["guitar"], "genres": ["downtempo"]})
    for fact in (
        "tempo: mostly 90 BPM, changes between 90 and 180 BPM (say the tempo changes)",
        "time signature: changes (6/8, 7/8)",
        "key: undetermined (do not state a key)",
        "instruments, longest-playing first: drums, bass, piano, strings, vocals",
        "sections: intro (bar 1): drums, bass; verse (bar 9): drums, bass, piano, strings; "
        "break (bar 25): drums, bass; section (bar 33): drums, bass, piano, strings, vocals",
        "instruments the artist often plays (name one only if the set has it): guitar",
    ):
        assert fact in context, fact
    assert "180 BPM" not in context.replace("and 180 BPM", "")  # the transport tempo is not offered


# ---- listening (issue 27) ---------------------------------------------------------------------
HEARD = Tags(
    "musicnn",
    "test",
    {"techno": 0.7, "electronic": 0.55, "fast": 0.3, "synth": 0.32, "drums": 0.005, "beat": 0.004},
    genre=[("techno", 0.7), ("electronic", 0.55)],
    mood=[("fast", 0.3)],
    instrument=[("synth", 0.32)],
    vocals=VocalsVerdict(False, 0.4, None),
    patches=8,
)


@pytest.fixture(scope="module")
def long_mp3() -> bytes:
    """45 s of music as MP3: longer than what a listening model is sent."""
    return encode(song(124.0, "A minor", 45.0))


def sent_audio(request) -> list[dict]:
    content = next(m["content"] for m in request.messages if m["role"] == "user")
    return [part for part in content if part.get("type") == "input_audio"] if isinstance(content, list) else []


def test_the_context_says_what_was_heard_and_what_follows_from_it():
    context = build_context(SUMMARY, {"genres": ["deep house", "techno"], "moods": ["driving", "dreamy"]}, heard=HEARD)
    heard = context[context.index("HEARD IN THE AUDIO") :]
    assert "genres: techno (0.70), electronic (0.55)" in heard and "vocals: none heard" in heard
    # "driving": the artist's word for "fast"; no "techno": the tagger hears no drums (0.005), a beat-driven
    # genre needs them (heard.BEAT_GENRES)
    assert "use for genre and mood: electronic, driving" in heard
    assert "in the set but not heard (do not name): drums, vocals" in heard
    assert "nobody listened" in build_context(SUMMARY, SCHEMA)
    assert build_context(SUMMARY, SCHEMA, heard=HEARD.to_dict()) == build_context(SUMMARY, SCHEMA, heard=HEARD)


def test_the_writer_listens_when_the_setting_is_on(fake, long_mp3, monkeypatch):
    monkeypatch.setenv("TRAINMODE_WRITER_AUDIO", "1")
    settings = Settings(openai_api_key=Secret(GOOD_KEY), openai_base_url=fake.base_url)
    writer = OpenAIWriter.from_settings(settings)
    fake.default = Reply(
        caption=captions_json(
            "A fast techno cut led by synths over a deep sub bass, instrumental throughout, at 120 BPM in A minor, "
            "with electric piano chords drifting through a hazy intro."
        )
    )
    result = writer.write(SUMMARY, SCHEMA, heard=HEARD, audio=long_mp3)
    [request] = fake.requests
    assert request.body["model"] == "gpt-4o-audio-preview"
    assert request.body["response_format"] == CAPTIONS_RESPONSE_FORMAT  # structured output as without audio
    [part] = sent_audio(request)
    assert part["input_audio"]["format"] == "mp3"
    clip = base64.b64decode(part["input_audio"]["data"])
    assert 29.0 <= frames.scan(io.BytesIO(clip)).duration_s <= 30.0  # the first 30 s, cut without re-encoding
    [text] = [p["text"] for p in request.messages[1]["content"] if p["type"] == "text"]
    assert text == build_context(SUMMARY, SCHEMA, heard=HEARD) and "techno (0.70)" in text
    assert result.provenance["audio"]["format"] == "mp3" and result.provenance["audio"]["seconds"] <= 30.0
    assert result.provenance["audio"]["sha256"] == hashlib.sha256(clip).hexdigest()
    assert result.provenance["requested_model"] == "gpt-4o-audio-preview"
    assert check_variants(result.variants, SUMMARY, SCHEMA)["detailed"] == []  # the same fact check
    # What the context told it to use is recorded, as the offline writer records it: the card counts it.
    heard = result.provenance["heard"]
    [told] = [line for line in text.splitlines() if line.startswith("use for genre and mood: ")]
    assert heard["model"] == HEARD.model and heard["used"][0] in told
    assert writer.write(SUMMARY, SCHEMA).provenance["heard"] is None  # nobody listened


def test_a_listening_answer_is_fact_checked_like_any_other(fake, long_mp3):
    fake.default = Reply(caption=captions_json("A fast techno cut with a wailing saxophone solo at 140 BPM."))
    writer = writer_for(fake, listen=True, audio_model="gpt-audio-mini")
    result = writer.write(SUMMARY, SCHEMA, heard=HEARD, audio=long_mp3)
    assert fake.requests[0].body["model"] == "gpt-audio-mini" and sent_audio(fake.requests[0])
    codes = {f.code for f in check_variants(result.variants, SUMMARY, SCHEMA)["detailed"]}
    assert codes == {"unsupported_instrument", "tempo_mismatch", "variant_length"}  # and 12 words, not 25–60


def test_by_default_the_writer_sends_text_only(fake, long_mp3, monkeypatch):
    monkeypatch.delenv("TRAINMODE_WRITER_AUDIO", raising=False)
    writer = OpenAIWriter.from_settings(Settings(openai_api_key=Secret(GOOD_KEY), openai_base_url=fake.base_url))
    result = writer.write(SUMMARY, SCHEMA, heard=HEARD, audio=long_mp3)
    [request] = fake.requests
    assert request.body["model"] == "gpt-4o-mini" and not sent_audio(request)
    assert isinstance(request.messages[1]["content"], str) and result.provenance["audio"] is None


def test_a_short_wav_is_sent_whole_and_a_long_one_cut(fake, tmp_path):
    rate = 8000
    for seconds in (3, 40):
        path = tmp_path / f"{seconds}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
            out.writeframes(b"\x01\x00" * rate * seconds)
        writer_for(fake, listen=True).write(SUMMARY, SCHEMA, audio=path)
        [part] = sent_audio(fake.requests[-1])
        assert part["input_audio"]["format"] == "wav"
        with wave.open(io.BytesIO(base64.b64decode(part["input_audio"]["data"]))) as sent:
            assert sent.getnframes() == rate * min(seconds, 30)
    with pytest.raises(WriterError, match="MP3 or a WAV"):
        writer_for(fake, listen=True).write(SUMMARY, SCHEMA, audio=b"not audio at all" * 100)


def test_each_clip_is_heard_on_its_own(fake, long_mp3):
    """caption_clips gives a listening writer each clip's audio and its section's tags."""
    summary = v2_summary()
    plan = plan_clips(summary, 76.0)
    clip_audio = [long_mp3 if i % 2 == 0 else None for i in range(len(plan))]
    caption_clips(writer_for(fake, listen=True), summary, plan, heard=[HEARD] * len(plan), audio=clip_audio)
    assert len(fake.requests) == len(plan)
    for request, audio in zip(fake.requests, clip_audio, strict=True):
        assert bool(sent_audio(request)) == (audio is not None)
        assert request.body["model"] == ("gpt-4o-audio-preview" if audio else "gpt-4o-mini")
