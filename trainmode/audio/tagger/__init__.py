"""Music tagging on CPU: genre, mood/theme, instruments and vocals, with a probability per tag.

    tagger = open_tagger()                      # TRAINMODE_TAGGER or "musicnn"
    tagging = tagger.tag(samples, 44100, spans=[(0.0, 30.0), (30.0, 62.5)])
    tagging.whole.genre, tagging.spans[0].vocals, tagging.to_dict()

Default model, "musicnn": the MagnaTagATune and Million Song Dataset musicnn models by
Jordi Pons and Xavier Serra (Music Technology Group, Universitat Pompeu Fabra), run by a
numpy port of their TensorFlow graph. Weights come from the ``musicnn`` 0.1.0 wheel on
PyPI (ISC licence: use, copy, modify and distribute for any purpose, including
internal company use, keeping the copyright notice), installed with ``pip install
--no-deps musicnn==0.1.0``; nothing is downloaded at run time and TensorFlow is not used.

Stronger models can be switched on with TRAINMODE_TAGGER once someone wires them up;
today they only raise ``TaggerError`` saying what they would need:

* "essentia-discogs": Essentia's Discogs-EffNet genre/style (400 styles) and mood
  heads. Needs ``essentia-tensorflow`` and the .pb weights from essentia.upf.edu/models
  (CC BY-NC-SA 4.0: not for commercial use without a licence from the MTG).
* "clap": LAION-CLAP zero-shot tagging against free-text prompts. Needs torch and the
  checkpoint from the Hugging Face hub (CC0/Apache-2.0 weights; ~600 MB, slow on CPU).
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from trainmode.audio.tagger.result import Tagging, Tags, VocalsVerdict
from trainmode.errors import TrainModeError

__all__ = ["Tagger", "TaggerError", "Tagging", "Tags", "VocalsVerdict", "open_tagger", "TAGGERS"]

ENV = "TRAINMODE_TAGGER"
DEFAULT = "musicnn"
TAGGERS = {
    "musicnn": "musicnn MTT + MSD (ISC), weights from the musicnn wheel on PyPI; the default",
    "essentia-discogs": "Essentia Discogs-EffNet; needs essentia-tensorflow and weights from essentia.upf.edu/models "
    "(CC BY-NC-SA 4.0)",
    "clap": "LAION-CLAP zero-shot; needs torch and a checkpoint from the Hugging Face hub",
}


class TaggerError(TrainModeError):
    """A tagger cannot be opened or run (unknown name, weights missing, model not wired up)."""


class Tagger(Protocol):
    name: str
    version: str

    def tag(self, samples: np.ndarray, sample_rate: int, spans: list[tuple[float, float]] | None = None) -> Tagging: ...


def open_tagger(name: str | None = None) -> Tagger:
    """The tagger called ``name``, else $TRAINMODE_TAGGER, else musicnn."""
    chosen = (name or os.environ.get(ENV) or DEFAULT).strip().lower()
    if chosen == "musicnn":
        from trainmode.audio.tagger.engine import MusicnnTagger
        from trainmode.audio.tagger.musicnn import MusicnnMissing

        try:
            return MusicnnTagger()
        except MusicnnMissing as exc:
            raise TaggerError(f"tagger 'musicnn' cannot load its weights: {exc}") from exc
    if chosen in TAGGERS:
        raise TaggerError(
            f"tagger {chosen!r} is not available in this build: {TAGGERS[chosen]}. "
            f"Unset {ENV} (or set it to 'musicnn') to use the default tagger."
        )
    raise TaggerError(
        f"unknown tagger {chosen!r} (from {'the argument' if name else ENV}); choose one of: {', '.join(TAGGERS)}"
    )
