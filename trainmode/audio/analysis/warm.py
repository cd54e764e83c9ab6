"""Imported by the forkserver of `analyze_many` before it forks any worker, so every worker
starts with essentia and the tagger already loaded (~1.6 s and ~180 MB shared, instead of
once per worker)."""

from trainmode.audio.analysis.measure import default_tagger
from trainmode.audio.analysis.music import essentia_standard
from trainmode.audio.tagger import TaggerError

essentia_standard()
try:
    default_tagger()
except TaggerError:  # no weights: each analysis says so in its notes
    pass
