"""What listening to one MP3 found: the measurements, and in words what could not be measured."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class AudioAnalysis:
    """Measurements of one decoded MP3. A value is None when it could not be measured;
    `notes` then says why in a sentence ("could not measure tempo: the audio is silent")."""

    duration_s: float  # length of the decoded audio
    sample_rate: int
    channels: int  # as stored in the MP3 (1 or 2)
    bpm: float | None  # RhythmExtractor2013 (multifeature); may be half or double the felt tempo
    bpm_confidence: float | None  # 0..1: essentia's 0..5.32 confidence / 5.32 (>= 0.66 is "excellent")
    key: str | None  # "F# minor"
    key_strength: float | None  # 0..1, correlation with the key profile
    loudness_lufs: float | None  # EBU R128 integrated loudness; None for (near) silence
    loudness_range_lu: float | None  # EBU R128 loudness range (LRA)
    peak_dbfs: float | None  # SAMPLE peak of the decoded audio (not true peak); None for digital silence
    silence_start_s: float  # silence (below -60 dBFS) before the first sound
    silence_end_s: float  # silence after the last sound
    clipped_ratio: float  # share of samples at or above -0.1 dBFS (0..1)
    mono: bool  # one channel, or two that are effectively the same (side 40 dB below mid)
    mono_compatible: bool  # the channels are not out of phase (correlation > -0.2)
    stereo_correlation: float | None  # Pearson correlation of left and right; None for one channel
    analyzer: str = ""  # "essentia 2.1-beta6-dev": which library measured this
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def silent(self) -> bool:
        return self.peak_dbfs is None or self.silence_start_s >= self.duration_s

    def to_dict(self) -> dict:
        """Plain JSON-ready values (floats rounded, notes as a list)."""
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, float):
                out[name] = round(value, 6 if name in ("clipped_ratio",) else 3)
        out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> AudioAnalysis:
        """The inverse of to_dict (for measurements read back from a store or a sidecar)."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["notes"] = tuple(values.get("notes") or ())
        return cls(**values)
