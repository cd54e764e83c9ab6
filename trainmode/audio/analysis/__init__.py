"""Audio truth: listen to a render and check it belongs to its set.

analyze_mp3(path) -> AudioAnalysis            measure one MP3 (AudioError if it is not one)
analyze_many(paths, max_workers=None)         the same for many files, in parallel processes
compare(analysis, set_bpm=, set_key=, set_seconds=) -> Verdict   matches | doubtful | mismatch
audio_warnings(analysis) -> list[str]         silence at the ends, clipping, too quiet, out of phase
rank_candidates(analysis, [Candidate]) -> [Ranked]   order candidate sets for pairing, with a "why"
"""

from trainmode.audio.analysis.measure import analyze_mp3
from trainmode.audio.analysis.parallel import analyze_many
from trainmode.audio.analysis.rank import Candidate, Ranked, rank_candidates
from trainmode.audio.analysis.result import AudioAnalysis
from trainmode.audio.analysis.verdict import Verdict, audio_warnings, compare, parse_key

__all__ = [
    "AudioAnalysis",
    "Candidate",
    "Ranked",
    "Verdict",
    "analyze_many",
    "analyze_mp3",
    "audio_warnings",
    "compare",
    "parse_key",
    "rank_candidates",
]
