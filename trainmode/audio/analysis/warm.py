"""Imported by the forkserver of `analyze_many` before it forks any worker, so every worker
starts with essentia already loaded (~1 s and ~150 MB shared, instead of once per worker)."""

from trainmode.audio.analysis.music import essentia_standard

essentia_standard()
