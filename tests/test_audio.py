import csv
import hashlib
import io
import os
from pathlib import Path

import lameenc
import numpy as np
import pytest

from trainmode.audio.probe import AudioInfo, duration_mismatch, probe_mp3
from trainmode.errors import AudioError

FIXTURES = Path(os.environ.get("TRAINMODE_FIXTURES") or Path(__file__).parents[1] / "../shared/fixtures/audio")
if not (FIXTURES / "MANIFEST.tsv").exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"audio fixtures missing: {FIXTURES}")
    pytest.skip(f"audio fixtures missing: {FIXTURES}", allow_module_level=True)

ROWS = list(csv.DictReader((FIXTURES / "MANIFEST.tsv").open(), delimiter="\t"))
ACCEPTED = [r for r in ROWS if r["valid_mp3"] == "yes"]
REFUSED = [r for r in ROWS if r["valid_mp3"] == "no"]
# What the refusal message must call each non-MP3 fixture.
REAL_FORMAT = {
    "zero_bytes.mp3": "is empty (0 bytes)",
    "wav_renamed.mp3": "is a WAV (RIFF) file",
    "mp2_layer2.mp3": "is MPEG-1 Layer II (MP2) audio, not MP3",
    "text_renamed.mp3": "is a text file",
    "ogg_renamed.mp3": "is Ogg Vorbis audio",
}


def close_enough(measured: float, truth: float) -> bool:
    return abs(measured - truth) <= max(0.02 * truth, 0.08)


def encode(seconds: float, rate=44100, channels=2, vbr=False) -> bytes:
    """An MP3 made by lameenc (no Xing/Info tag): a tone, with noise in the second half."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    signal = 0.3 * np.sin(2 * np.pi * 440 * t)
    signal[n // 2 :] += 0.2 * np.random.default_rng(1).standard_normal(n - n // 2)
    pcm = np.repeat((np.clip(signal, -1, 1) * 32767).astype("<i2"), channels)
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(7)
    if vbr:
        encoder.set_vbr(4)
        encoder.set_vbr_quality(4)
    else:
        encoder.set_bit_rate(128)
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


@pytest.mark.parametrize("row", ACCEPTED, ids=lambda r: r["file"])
def test_accepts_real_mp3s_with_true_duration(row):
    info = probe_mp3(FIXTURES / row["file"])
    assert close_enough(info.duration_s, float(row["duration_s"])), info
    assert info.sample_rate == int(row["sample_rate"])
    assert info.channels == int(row["channels"])
    assert info.bitrate_mode == row["bitrate_mode"]
    assert info.layer == 3
    assert info.frames > 0


@pytest.mark.parametrize("row", REFUSED, ids=lambda r: r["file"])
def test_refuses_non_mp3s_naming_what_they_are(row):
    with pytest.raises(AudioError) as err:
        probe_mp3(FIXTURES / row["file"])
    assert str(err.value).startswith(f"{row['file']} {REAL_FORMAT[row['file']]}")


def test_refusal_uses_given_name_or_a_neutral_one():
    data = (FIXTURES / "wav_renamed.mp3").read_bytes()
    with pytest.raises(AudioError, match=r"^The file is a WAV"):
        probe_mp3(data)
    with pytest.raises(AudioError, match=r"^song\.mp3 is a WAV"):
        probe_mp3(io.BytesIO(data), name="song.mp3")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_path_bytes_and_file_object_agree(row):
    path = FIXTURES / row["file"]
    data = path.read_bytes()
    upload = io.BytesIO(data)
    upload.read(10)  # a Streamlit UploadedFile may already have been read

    def outcome(source):
        try:
            return probe_mp3(source, name="x.mp3")
        except AudioError as e:
            return str(e)

    results = [outcome(str(path)), outcome(path), outcome(data), outcome(upload)]
    assert all(r == results[0] for r in results)
    assert upload.tell() == 0  # rewound so the caller can store it
    if isinstance(results[0], AudioInfo):
        assert results[0].sha256 == hashlib.sha256(data).hexdigest()
        assert results[0].bytes == len(data)


def test_vbr_without_xing_is_measured_from_frames():
    # mutagen alone reads 16.2 s here: it extrapolates the first (32 kbps) frame over the file size.
    info = probe_mp3(FIXTURES / "vbr_noxing_8s.mp3")
    assert info.duration_source == "frames"
    assert 8 * 0.98 < info.duration_s < 8 * 1.02


def test_truncated_file_ignores_the_info_tag():
    # The Info tag still claims 5 s; only 76 whole frames remain.
    info = probe_mp3(FIXTURES / "truncated_cbr_5s.mp3")
    assert info.truncated
    assert info.frames == 76
    assert abs(info.duration_s - 1.985) < 0.03
    assert not probe_mp3(FIXTURES / "cbr128_stereo_5s.mp3").truncated


def test_gapless_tag_gives_the_exact_length():
    info = probe_mp3(FIXTURES / "silence_2s.mp3")
    assert info.duration_source == "lame"
    assert abs(info.duration_s - 2.0) < 0.001


def test_mpeg2_mono_details():
    info = probe_mp3(FIXTURES / "mono_22khz_4s.mp3")
    assert (info.mpeg_version, info.channels, info.bitrate_kbps) == ("2", 1, 64)


@pytest.mark.parametrize("size_field", [b"\x7f\x7f\x7f\x7f", b"\xff\xff\xff\xff", b"\x00\x00\x00\x05"])
def test_bogus_id3v2_size_resyncs_to_the_audio(size_field):
    tag = b"ID3\x03\x00\x00" + size_field + b"TIT2\x00\x00\x00\x05\x00\x00\x00Song" + bytes(200)
    info = probe_mp3(tag + (FIXTURES / "cbr128_stereo_5s.mp3").read_bytes())
    assert abs(info.duration_s - 5.0) < 0.001
    assert info.bitrate_mode == "cbr"


def test_trailing_tags_and_mid_stream_junk_do_not_count_as_audio():
    data = (FIXTURES / "vbr_noxing_8s.mp3").read_bytes()
    plain = probe_mp3(data)
    id3v1 = b"TAG" + b"Title".ljust(125, b"\x00")
    ape = b"APETAGEX" + bytes(24)
    junk = bytes(np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8))
    # Cut between two frames (the walk visits frame starts), then splice junk in.
    cut = 30000
    while data[cut] != 0xFF or data[cut + 1] & 0xE0 != 0xE0:
        cut += 1
    damaged = probe_mp3(data[:cut] + junk + data[cut:] + ape + id3v1)
    assert damaged.frames == plain.frames
    assert damaged.duration_s == plain.duration_s


def test_too_short_to_hold_audio_is_refused():
    data = (FIXTURES / "cbr128_stereo_5s.mp3").read_bytes()
    with pytest.raises(AudioError, match="no complete MP3 audio frame"):
        probe_mp3(data[:500], name="short.mp3")  # the Info frame and a cut first audio frame


def test_unknown_binary_is_refused():
    noise = bytes(np.random.default_rng(3).integers(0, 256, 20000, dtype=np.uint8))
    with pytest.raises(AudioError, match="^noise.mp3 is not an MP3"):
        probe_mp3(noise, name="noise.mp3")


@pytest.mark.slow
@pytest.mark.parametrize("vbr", [False, True], ids=["cbr", "vbr"])
def test_generated_long_file(tmp_path, vbr):
    path = tmp_path / "long.mp3"
    path.write_bytes(encode(200, vbr=vbr))
    info = probe_mp3(path)
    assert close_enough(info.duration_s, 200)
    assert info.bitrate_mode == ("vbr" if vbr else "cbr")
    assert info.duration_source == "frames"  # lameenc writes no Info tag


def test_generated_mpeg25_mono():
    info = probe_mp3(encode(30, rate=8000, channels=1))
    assert (info.mpeg_version, info.sample_rate, info.channels) == ("2.5", 8000, 1)
    assert close_enough(info.duration_s, 30)


@pytest.mark.parametrize(
    "audio_s, set_s, warns",
    [
        (190, 180, False),  # reverb tail
        (150, 180, False),  # trimmed silence
        (120, 180, True),  # cut-off render
        (32, 240, True),  # loop-brace export
        (400, 180, True),  # wrong set / looped export
        (5, 12, False),  # tiny sketch: proportion is large but only 7 s apart
        (120, None, False),  # set length unknown
        (120, 0, False),
    ],
)
def test_duration_mismatch(audio_s, set_s, warns):
    warning = duration_mismatch(audio_s, set_s)
    assert (warning is not None) == warns
    if warns:
        assert _clock_in(warning, audio_s) and _clock_in(warning, set_s)


def _clock_in(text: str, seconds: float) -> bool:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}" in text
