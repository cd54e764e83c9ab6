"""The audio a listening caption model hears: at most 30 s of the render or clip, as base64.

    part = input_audio_part(path_or_bytes)   # {"type": "input_audio", "input_audio": {"data", "format"}}

OpenAI's chat completions take "mp3" or "wav" input audio. An MP3 longer than MAX_SECONDS is
cut at a frame boundary without re-encoding (trainmode.audio.frames); a WAV is cut at a
sample frame. Only the first MAX_SECONDS are sent: what a model hears first is where a track
shows its sound, and a clip is already one section.
"""

from __future__ import annotations

import base64
import hashlib
import io
import wave
from dataclasses import dataclass
from pathlib import Path

from trainmode.audio import frames
from trainmode.errors import ValidationError, WriterError

MAX_SECONDS = 30.0
AudioSource = bytes | str | Path


@dataclass(frozen=True)
class Excerpt:
    data: bytes
    format: str  # "mp3" | "wav"
    seconds: float  # how much is sent (never more than MAX_SECONDS)

    def part(self) -> dict:
        """The chat-completions content part (openai.types.chat.ChatCompletionContentPartInputAudioParam)."""
        return {
            "type": "input_audio",
            "input_audio": {"data": base64.b64encode(self.data).decode(), "format": self.format},
        }

    def provenance(self) -> dict:
        return {
            "format": self.format,
            "seconds": round(self.seconds, 2),
            "sha256": hashlib.sha256(self.data).hexdigest(),
        }


def excerpt(audio: AudioSource, max_seconds: float = MAX_SECONDS) -> Excerpt:
    """The first `max_seconds` of an MP3 or WAV (bytes or a file path)."""
    data = Path(audio).read_bytes() if isinstance(audio, str | Path) else bytes(audio)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav(data, max_seconds)
    try:
        return _mp3(data, max_seconds)
    except ValidationError as exc:
        raise WriterError(f"The audio for a listening caption must be an MP3 or a WAV file ({exc})") from None


def _wav(data: bytes, max_seconds: float) -> Excerpt:
    try:
        with wave.open(io.BytesIO(data)) as source:
            rate, keep = source.getframerate(), min(source.getnframes(), int(max_seconds * source.getframerate()))
            params, samples = source.getparams(), source.readframes(keep)
    except (wave.Error, EOFError) as exc:
        raise WriterError(f"The WAV for a listening caption cannot be read: {exc}") from None
    if keep >= params.nframes:
        return Excerpt(data, "wav", keep / rate)  # short enough already
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(samples)
    return Excerpt(out.getvalue(), "wav", keep / rate)


def _mp3(data: bytes, max_seconds: float) -> Excerpt:
    source = io.BytesIO(data)
    index = frames.scan(source)
    if index.duration_s <= max_seconds:
        return Excerpt(data, "mp3", index.duration_s)
    last = max(1, int(max_seconds / index.frame_seconds))  # whole frames, never past max_seconds
    return Excerpt(b"".join(frames.clip(source, index, 0, last)), "mp3", last * index.frame_seconds)
