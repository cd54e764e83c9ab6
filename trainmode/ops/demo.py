"""Demo data made by the project itself: a demo artist, small .als sets written
here, and MP3s synthesised with lameenc at each set's tempo and key.

Idempotent: running it twice adds nothing (same bytes -> same parse_id / sha256).
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import lameenc
import numpy as np

from trainmode.config import Settings
from trainmode.store import Store
from trainmode.train.save import SaveRequest

DEMO_ARTIST = "Demo Artist"
DEMO_SCHEMA = {
    "genres": ["synthwave", "electronic"],
    "moods": ["nostalgic", "driving"],
    "instruments": ["synth bass", "drums", "pads"],
    "descriptors": ["analog warmth", "wide stereo"],
    "tempo_range": [96, 128],
}
RATE = 44100
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


@dataclass(frozen=True)
class DemoSet:
    name: str
    bpm: float
    numerator: int
    tonic: int  # MIDI pitch class of the key
    minor: bool
    bars: int = 8
    save: bool = True  # pre-saved as a training item (False: left for the Train page)

    @property
    def beats(self) -> float:
        return self.bars * self.numerator

    @property
    def seconds(self) -> float:
        return self.beats * 60.0 / self.bpm


DEMO_SETS = (
    DemoSet("Night Drive", 124.0, 4, tonic=9, minor=True),
    DemoSet("Sunrise Waltz", 96.0, 3, tonic=0, minor=False),
    DemoSet("Neon Pulse", 128.0, 4, tonic=4, minor=True, save=False),
)


def _chord(root: int, minor: bool) -> list[int]:
    return [root, root + (3 if minor else 4), root + 7]


def _progression(s: DemoSet) -> list[list[int]]:
    """One chord per bar: i-VI-iv-v in minor, I-IV-V-I in major (root position, octave 4)."""
    steps = (0, 8, 5, 7) if s.minor else (0, 5, 7, 0)
    roots = [48 + s.tonic + steps[b % 4] for b in range(s.bars)]
    return [
        _chord(r if r < 60 else r - 12, s.minor and step in (0, 5, 7))
        for r, step in zip(roots, (steps[b % 4] for b in range(s.bars)), strict=False)
    ]


# ---- the .als ---------------------------------------------------------------------
def _val(tag: str, value) -> str:
    return f"<{tag} Value={quoteattr(str(value))} />"


def _name(name: str) -> str:
    return f"<Name>{_val('EffectiveName', name)}{_val('UserName', name)}{_val('Annotation', '')}</Name>"


def _midi_clip(clip_name: str, start: float, end: float, notes: list[tuple[int, float, float]]) -> str:
    by_key: dict[int, list[tuple[float, float]]] = {}
    for pitch, time, dur in notes:
        by_key.setdefault(pitch, []).append((time, dur))
    keytracks = "".join(
        f'<KeyTrack Id="{i}"><Notes>'
        + "".join(f'<MidiNoteEvent Time="{t:g}" Duration="{d:g}" Velocity="100" IsEnabled="true" />' for t, d in events)
        + f"</Notes>{_val('MidiKey', pitch)}</KeyTrack>"
        for i, (pitch, events) in enumerate(sorted(by_key.items()))
    )
    return (
        f'<MidiClip Id="0" Time="{start:g}">{_val("CurrentStart", start)}{_val("CurrentEnd", end)}'
        f"{_val('Name', clip_name)}<Notes><KeyTracks>{keytracks}</KeyTracks></Notes></MidiClip>"
    )


def _track(kind: str, track_id: int, name: str, devices: str, events: str = "") -> str:
    return (
        f'<{kind} Id="{track_id}">{_name(name)}{_val("TrackGroupId", -1)}<DeviceChain>'
        f"<Mixer><Speaker>{_val('Manual', 'true')}</Speaker></Mixer>"
        f"<MainSequencer><ClipTimeable><ArrangerAutomation><Events>{events}</Events>"
        f"</ArrangerAutomation></ClipTimeable></MainSequencer>"
        f"<DeviceChain><Devices>{devices}</Devices></DeviceChain></DeviceChain></{kind}>"
    )


def _plugin(name: str) -> str:
    return (
        f'<PluginDevice Id="0"><PluginDesc><VstPluginInfo Id="0">{_val("PlugName", name)}</VstPluginInfo>'
        "</PluginDesc></PluginDevice>"
    )


def als_xml(s: DemoSet) -> str:
    n = s.numerator
    chords = _progression(s)
    drums = [(36, float(b), 0.25) for b in range(int(s.beats))] + [(42, b + 0.5, 0.25) for b in range(int(s.beats))]
    bass = [(c[0] - 12, float(bar * n + beat), 0.75) for bar, c in enumerate(chords) for beat in range(n)]
    pads = [(p, float(bar * n), float(n)) for bar, c in enumerate(chords) for p in c]
    end = s.beats
    tracks = "".join(
        [
            _track("MidiTrack", 1, "Drums", '<DrumGroupDevice Id="0" />', _midi_clip("Beat", 0, end, drums)),
            _track("MidiTrack", 2, "Bass", '<Operator Id="0" />', _midi_clip("Bassline", 0, end, bass)),
            _track("MidiTrack", 3, "Pads", _plugin("Serum") + '<Reverb Id="1" />', _midi_clip("Chords", 0, end, pads)),
            _track(
                "AudioTrack",
                4,
                "Perc Loop",  # not a voice: the demo's renders are synthesised and hold none
                '<Eq8 Id="0" />',
                f'<AudioClip Id="0" Time="0">{_val("CurrentStart", 0)}{_val("CurrentEnd", end)}{_val("Name", "perc")}'
                f"<SampleRef><FileRef>{_val('RelativePath', 'Samples/Imported/perc_loop.wav')}"
                f"{_val('Path', '/Users/demo/Music/Samples/perc_loop.wav')}</FileRef></SampleRef></AudioClip>",
            ),
            _track("ReturnTrack", 5, "A-Reverb", '<Reverb Id="0" />'),
        ]
    )
    meter = (n - 1) + 99 * 2  # Live's enum: numerator-1 + 99*log2(denominator)
    master = (
        f"<MasterTrack>{_name('Master')}<DeviceChain><Mixer>"
        f"<Tempo>{_val('Manual', s.bpm)}<ArrangerAutomation><Events /></ArrangerAutomation></Tempo>"
        f"<TimeSignature>{_val('Manual', meter)}</TimeSignature></Mixer>"
        f'<DeviceChain><Devices><Limiter Id="0" /></Devices></DeviceChain></DeviceChain></MasterTrack>'
    )
    locators = "".join(
        f'<Locator Id="{i}">{_val("Time", t)}{_val("Name", label)}</Locator>'
        for i, (t, label) in enumerate([(0, "Intro"), (s.beats / 2, "Drop")])
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Ableton MajorVersion="5" MinorVersion="11.0_433" Creator="Ableton Live 11.3.21">'
        f"<LiveSet><Tracks>{tracks}</Tracks>{master}<Locators><Locators>{locators}</Locators></Locators>"
        "</LiveSet></Ableton>\n"
    )


def als_bytes(s: DemoSet) -> bytes:
    return gzip.compress(als_xml(s).encode("utf-8"), mtime=0)  # mtime=0: same bytes every run


# ---- the MP3 ----------------------------------------------------------------------
def _freq(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def render_pcm(s: DemoSet) -> np.ndarray:
    """Kick on every beat + the chord progression as soft sines, stereo int16."""
    beat = 60.0 / s.bpm
    total = int(s.seconds * RATE)
    t = np.arange(total) / RATE
    mix = np.zeros(total)
    for bar, chord in enumerate(_progression(s)):
        a, b = int(bar * s.numerator * beat * RATE), int((bar + 1) * s.numerator * beat * RATE)
        for p in chord + [chord[0] - 12]:
            mix[a:b] += 0.12 * np.sin(2 * math.pi * _freq(p) * t[a:b])
    kick_len = int(0.15 * RATE)
    kt = np.arange(kick_len) / RATE
    kick = 0.6 * np.sin(2 * math.pi * (50 + 80 * np.exp(-kt * 30)) * kt) * np.exp(-kt * 20)
    for k in range(int(s.beats)):
        start = int(k * beat * RATE)
        end = min(total, start + kick_len)
        mix[start:end] += kick[: end - start]
    mix = np.clip(mix, -1, 1)
    return (np.repeat(mix[:, None], 2, axis=1) * 32767 * 0.8).astype("<i2")


def mp3_bytes(s: DemoSet) -> bytes:
    enc = lameenc.Encoder()
    enc.set_bit_rate(128)
    enc.set_in_sample_rate(RATE)
    enc.set_channels(2)
    enc.set_quality(5)
    return bytes(enc.encode(render_pcm(s).tobytes()) + enc.flush())


def slug(name: str) -> str:
    return name.lower().replace(" ", "_")


# ---- the command ------------------------------------------------------------------
def write_demo_files(folder: Path) -> list[tuple[DemoSet, Path, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in DEMO_SETS:
        als, mp3 = folder / f"{slug(s.name)}.als", folder / f"{slug(s.name)}.mp3"
        for path, make in ((als, als_bytes), (mp3, mp3_bytes)):
            if not path.exists():
                path.write_bytes(make(s))
        out.append((s, als, mp3))
    return out


def install_demo(store: Store, settings: Settings, echo: Callable[[str], object] = print) -> dict:
    """Create the demo artist, import its sets and save the pre-captioned items."""
    from trainmode.service import TrainMode  # the door imports this module lazily too

    tm = TrainMode(store, settings)
    files = write_demo_files(Path(tm.settings.data_dir) / "demo")
    results = tm.import_sets(DEMO_ARTIST, [(als.name, als) for _, als, _ in files])
    artist = tm.artist(DEMO_ARTIST)
    if not tm.master_schema(artist):
        tm.save_master_schema(artist, DEMO_SCHEMA)
    for r in results:
        echo(f"set {r.filename}: {r.status}")
    for s, als, mp3 in files:
        if not s.save:
            echo(f"left for the Train page: {als.name} + {mp3}")
            continue
        row = tm.find_set(artist, als.name)
        # Listened to first (with its sections, as saving would), so the caption leads with what is heard.
        analysis, _ = tm.check_render(row, mp3)
        gen = tm.generate_caption(artist, row, writer_name="offline", heard=analysis.whole_tags)
        saved = tm.save(
            artist,
            row,
            SaveRequest(
                audio=mp3,
                audio_name=mp3.name,
                caption=gen.caption.text,
                generated=gen.caption,
                findings=gen.findings,
                analysis=analysis,
                confirm=True,
                by="demo",  # the Library's "by" column is never empty for the demo's items (#29)
            ),
        )
        echo(f"item {mp3.name}: {'already saved' if saved.duplicate else 'saved'}")
    return artist
