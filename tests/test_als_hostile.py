"""Broken and hostile files: each one is a single, clear AlsError, fast and in bounded memory."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from trainmode.errors import AlsError
from trainmode.sets.als import MAX_DECOMPRESSED_BYTES, parse_als

REPO = Path(__file__).resolve().parent.parent

# A minimal but complete Live 11 set; the cases below break it in one way each.
GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<Ableton MajorVersion="5" MinorVersion="11.0_433" Creator="Ableton Live 11.3.21">
  <LiveSet>
    <Tracks>
      <AudioTrack Id="1"><Name><EffectiveName Value="Drums"/><UserName Value=""/></Name></AudioTrack>
    </Tracks>
    <MasterTrack>
      <DeviceChain><Mixer>
        <Tempo><Manual Value="120"/><AutomationTarget Id="8"/></Tempo>
        <TimeSignature><Manual Value="201"/><AutomationTarget Id="10"/></TimeSignature>
      </Mixer></DeviceChain>
    </MasterTrack>
  </LiveSet>
</Ableton>
"""


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_the_good_set_parses():
    summary = parse_als(gz(GOOD), filename="good.als").summary
    assert summary["tempo"]["bpm"] == 120.0
    assert summary["tracks"][0]["name"] == "Drums"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<Ableton Creator="Ableton Live 11.0"><LiveSet>&lol2;</LiveSet></Ableton>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Ableton [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Ableton Creator="Ableton Live 11.0"><LiveSet><Locator><Name Value="&xxe;"/></Locator></LiveSet></Ableton>"""

CASES = {
    "empty": (b"", "visby.als is not an Ableton Live set: the file is empty."),
    "an mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 64, "is neither gzip-compressed nor XML"),
    "truncated gzip": (gz(GOOD)[:-30], "the compressed data ends early"),
    "corrupt gzip": (gz(GOOD)[:20] + b"\x00" * 40 + gz(GOOD)[60:], "compressed data is corrupt"),
    "gzip of text": (gz(b"just some notes about the song"), "it is not valid XML"),
    "gzip of nothing": (gz(b""), "it contains no XML document"),
    "billion laughs": (BILLION_LAUGHS, "declares a DTD or entities"),
    "external entity": (XXE, "declares a DTD or entities"),
    "gzipped billion laughs": (gz(BILLION_LAUGHS), "declares a DTD or entities"),
    "undeclared entity": (GOOD.replace(b'"Drums"', b'"&xxe;"'), "its XML is broken"),
    "wrong root": (b'<?xml version="1.0"?><Project Creator="FL Studio"/>', "starts with <Project>, not <Ableton>"),
    "truncated XML": (GOOD[: len(GOOD) // 2], "the XML ends early"),
    "trailing junk": (GOOD + b"<more/>", "its XML is broken"),
    "deep nesting": (
        b"<Ableton><LiveSet>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</LiveSet></Ableton>",
        "nested unreasonably deep",
    ),
    "non-numeric tempo": (
        GOOD.replace(b'<Manual Value="120"/>', b'<Manual Value="fast"/>'),
        "the tempo is 'fast', which is not a number",
    ),
    "infinite tempo": (GOOD.replace(b'<Manual Value="120"/>', b'<Manual Value="inf"/>'), "which is not a number"),
    "negative tempo": (
        GOOD.replace(b'<Manual Value="120"/>', b'<Manual Value="-5"/>'),
        "tempo is outside Live's range",
    ),
    "absurd tempo": (GOOD.replace(b'<Manual Value="120"/>', b'<Manual Value="1e308"/>'), "which is out of range"),
    "absurd meter": (
        GOOD.replace(b'<Manual Value="201"/>', b'<Manual Value="99999999"/>'),
        "time signature code 99999999 is not one Live uses",
    ),
    "non-numeric meter": (
        GOOD.replace(b'<Manual Value="201"/>', b'<Manual Value="4/4"/>'),
        "the time signature is '4/4'",
    ),
    "missing master": (GOOD.replace(b"MasterTrack>", b"Scenes>"), "it has no master track"),
    "master without tempo": (GOOD.replace(b"Tempo>", b"Tempi>"), "its master track has no tempo"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_one_clear_error(case):
    data, message = CASES[case]
    with pytest.raises(AlsError) as err:
        parse_als(data, filename="visby.als")
    text = str(err.value)
    assert text.startswith("visby.als ") and message in text
    assert "Traceback" not in text and "lxml" not in text
    assert err.value.__cause__ is None  # raised `from None`: no library exception chained


@pytest.mark.timeout(10)
def test_missing_file_and_folder(tmp_path):
    with pytest.raises(AlsError, match="nope.als could not be opened: there is no such file"):
        parse_als(tmp_path / "nope.als")
    with pytest.raises(AlsError, match="it is a folder"):
        parse_als(tmp_path)


@pytest.mark.timeout(10)
def test_the_size_cap_is_enforced_while_inflating():
    bomb = gz(b"<Ableton><LiveSet>" + b"<a>" + b"x" * 2_000_000 + b"</a></LiveSet></Ableton>")
    with pytest.raises(AlsError, match=r"expands to more than 1 MiB of XML"):
        parse_als(bomb, filename="bomb.als", max_bytes=1024 * 1024)


# Compression bombs run in a child process under an address-space limit, so a regression
# shows up as a failed test with a MemoryError, not as a machine that runs out of memory.
CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
sys.path.insert(0, {repo!r})
from trainmode.sets.als import parse_als
from trainmode.errors import AlsError
notes = None
try:
    notes = parse_als(sys.argv[1]).summary["notes"]["count"]
    outcome = "parsed"
except AlsError as exc:
    outcome = str(exc)
with open("/proc/self/status") as fh:
    peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({{"outcome": outcome, "notes": notes, "peak_mb": peak_kb / 1024}}))
"""
ADDRESS_LIMIT = 1024 * 1024 * 1024


def make_bomb(path: Path, block: bytes, total: int) -> Path:
    """A gzip that inflates to `total` bytes of `block` repeated inside a Live set skeleton."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as fh:
        fh.write(deflate.compress(b'<?xml version="1.0"?><Ableton Creator="Ableton Live 11.0"><LiveSet>'))
        chunk = block * max(1, (1 << 20) // len(block))
        for _ in range(total // len(chunk) + 1):
            fh.write(deflate.compress(chunk))
        fh.write(deflate.compress(b"</LiveSet></Ableton>") + deflate.flush())
    return path


def run_isolated(path: Path) -> dict:
    code = textwrap.dedent(CHILD.format(limit=ADDRESS_LIMIT, repo=str(REPO)))
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"<a>" + b"x" * 65536 + b"</a>", "expands to more than 512 MiB of XML"),  # few, large nodes
        (b"<a/>", "XML tags"),  # as many elements as possible: the tag cap stops it early
    ],
    ids=["bytes", "elements"],
)
def test_gzip_bomb_is_an_error_not_an_oom(tmp_path, block, message):
    bomb = make_bomb(tmp_path / "bomb.als", block, MAX_DECOMPRESSED_BYTES + (1 << 20))
    assert bomb.stat().st_size < 2 * 1024 * 1024  # ~1000x compression
    result = run_isolated(bomb)
    assert "bomb.als is too large" in result["outcome"] and message in result["outcome"]
    assert result["peak_mb"] < 150, result


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.timeout(120)
def test_memory_does_not_grow_with_a_huge_track(tmp_path):
    """One MIDI track with a million notes (~70 MB of XML): nothing may pile up per note."""
    note = b'<MidiNoteEvent Time="0" Duration="0.25" Velocity="100" NoteId="1"/>'
    clip = (
        b'<MidiClip Id="0"><CurrentEnd Value="64"/><Notes><KeyTracks><KeyTrack Id="0"><Notes>'
        + note * 1_000_000
        + b'</Notes><MidiKey Value="60"/></KeyTrack></KeyTracks></Notes></MidiClip>'
    )
    midi = (
        b'<MidiTrack Id="2"><Name><EffectiveName Value="Arp"/></Name><DeviceChain><MainSequencer><ClipTimeable>'
        b"<ArrangerAutomation><Events>" + clip + b"</Events></ArrangerAutomation></ClipTimeable></MainSequencer>"
        b"</DeviceChain></MidiTrack>"
    )
    path = tmp_path / "huge.als"
    path.write_bytes(GOOD.replace(b"</Tracks>", midi + b"</Tracks>"))
    assert path.stat().st_size > 60_000_000
    result = run_isolated(path)
    assert result["outcome"] == "parsed" and result["notes"] == 1_000_000
    assert result["peak_mb"] < 80, result
