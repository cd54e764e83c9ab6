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
    bpm: float | None  # RhythmExtractor2013 (multifeature, <= 3 x 20 s windows); may be half or double the felt tempo
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
    # Where the render has sound: [(start_s, end_s)], silences under 1 s bridged; None when not
    # measured (items analysed before this field): a clip with no sound in it is not exported.
    sound_spans: tuple[tuple[float, float], ...] | None = None
    analyzer: str = ""  # "essentia 2.1-beta6-dev + miniaudio 1.71": which libraries measured this
    notes: tuple[str, ...] = field(default_factory=tuple)
    # What a tagger heard (trainmode.audio.tagger Tagging.to_dict(): {"whole", "spans"}); the spans
    # are the set's sections when the set was known (trainmode/audio/listen.py); None: not tagged.
    tags: dict | None = None

    @property
    def silent(self) -> bool:
        return self.peak_dbfs is None or self.silence_start_s >= self.duration_s

    @property
    def sound_s(self) -> float:
        """Seconds with sound: the spans when measured, else all but the silence at the ends."""
        if self.sound_spans is not None:
            return sum(end - start for start, end in self.sound_spans)
        return max(0.0, self.duration_s - self.silence_start_s - self.silence_end_s)

    def to_dict(self) -> dict:
        """Plain JSON-ready values (floats rounded, notes as a list)."""
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, float):
                out[name] = round(value, 6 if name in ("clipped_ratio",) else 3)
        out["notes"] = list(self.notes)
        if self.sound_spans is not None:
            out["sound_spans"] = [[round(a, 2), round(b, 2)] for a, b in self.sound_spans]
        return out

    def export_fields(self) -> dict:
        """The flat fields for a track's sidecar / metadata.jsonl (`audio_bpm`, `audio_key`, ...)."""
        d = self.to_dict()
        return {
            "audio_bpm": d["bpm"],
            "audio_bpm_confidence": d["bpm_confidence"],
            "audio_key": d["key"],
            "audio_key_strength": d["key_strength"],
            "loudness_lufs": d["loudness_lufs"],
            "loudness_range_lu": d["loudness_range_lu"],
            "peak_dbfs": d["peak_dbfs"],
            "silence_start_s": d["silence_start_s"],
            "silence_end_s": d["silence_end_s"],
            "clipped_ratio": d["clipped_ratio"],
            "audio_mono": d["mono"],
            "audio_analyzer": d["analyzer"],
        }

    @property
    def whole_tags(self) -> dict | None:
        """The whole render's tags (Tags.to_dict()), or None when it was not tagged: what a caption
        writer is handed as `heard`, so that the caption leads with what is heard."""
        return (self.tags or {}).get("whole")

    def heard(self) -> list[str]:
        """The whole render's confidently heard tags (genre, mood, instrument, vocals), best first."""
        from trainmode.audio.tagger import Tags  # the tagger is only needed when there are tags

        return Tags.from_dict(self.whole_tags).heard() if self.whole_tags else []

    def describe(self) -> list[str]:
        """The measurements as short lines for people (the CLI without --json)."""

        def line(label: str, value, text: str) -> str:
            return f"{label:<11}{'not measured' if value is None else text}"

        m, s = divmod(self.duration_s, 60)
        stereo = "mono" if self.mono else f"stereo (left/right correlation {self.stereo_correlation or 0:.2f})"
        return [
            f"{'length':<11}{int(m)}:{s:04.1f} ({self.sample_rate} Hz, {self.channels} channel(s))",
            line("tempo", self.bpm, f"{self.bpm or 0:.1f} BPM (confidence {self.bpm_confidence or 0:.2f})"),
            line("key", self.key, f"{self.key} (strength {self.key_strength or 0:.2f})"),
            line(
                "loudness",
                self.loudness_lufs,
                f"{self.loudness_lufs or 0:.1f} LUFS (range {self.loudness_range_lu or 0:.1f} LU)",
            ),
            line("peak", self.peak_dbfs, f"{self.peak_dbfs or 0:.1f} dBFS (sample peak)"),
            f"{'silence':<11}{self.silence_start_s:.2f} s at the start, {self.silence_end_s:.2f} s at the end",
            f"{'clipping':<11}{self.clipped_ratio:.3%} of the samples",
            f"{'stereo':<11}{stereo}{'' if self.mono_compatible else ', out of phase'}",
            line("heard", self.tags, ", ".join(self.heard()) or "nothing confidently"),
        ]

    @classmethod
    def from_dict(cls, data: dict) -> AudioAnalysis:
        """The inverse of to_dict (for measurements read back from a store or a sidecar)."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["notes"] = tuple(values.get("notes") or ())
        if values.get("sound_spans") is not None:
            values["sound_spans"] = tuple((float(a), float(b)) for a, b in values["sound_spans"])
        return cls(**values)
