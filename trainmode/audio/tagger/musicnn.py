"""musicnn (Pons & Serra, 2019) in plain numpy: log-mel front end and the model's forward pass.

Model: "musicnn", a musically motivated CNN -- vertical timbral filters and horizontal
temporal filters over a 96-band log-mel spectrogram, a dense 1-D CNN mid-end and a
max+mean pooled dense back-end -- trained on MagnaTagATune (``MTT_musicnn``) and the
Million Song Dataset (``MSD_musicnn``), 50 sigmoid tags each, on 3 s patches.

Licence and weights: the ``musicnn`` wheel on PyPI (version 0.1.0, ISC licence,
Copyright (c) Music Technology Group, Universitat Pompeu Fabra) ships the trained
TensorFlow 1 checkpoints. We locate the installed package with ``find_spec`` (its own
modules import tensorflow and librosa, so they are never imported) and read the
variables with :mod:`.checkpoint`. Install it without its obsolete pins:
``pip install --no-deps musicnn==0.1.0``. Nothing is downloaded at run time.

Preprocessing follows ``musicnn/extractor.py``: 16 kHz mono, librosa's mel spectrogram
(n_fft 512, hop 256, Hann, centred frames with reflect padding as in the librosa 0.7
era musicnn was trained with, Slaney mel scale and area normalisation), cast to float16
and compressed with log10(10000 x + 1). One deliberate difference: musicnn does the
compression in float16, which overflows to inf for loud bins (mel power > 6.55, common
in mastered music) and then yields NaN-like garbage from TensorFlow; we compress such
bins in float32 instead and stay bit-compatible everywhere else.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trainmode.audio.tagger.checkpoint import read_checkpoint

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH = 187  # frames in 3 s: librosa.time_to_frames(3, sr=16000, hop_length=256) + 1
FRAME_CHUNK = 48  # frames per im2col product in the front end (4 chunks per patch)
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization default
F16_SAFE = 6.5  # 10000 * x overflows float16 (max 65504) above ~6.55

MTT_LABELS = tuple(
    "guitar|classical|slow|techno|strings|drums|electronic|rock|fast|piano|ambient|beat|violin|vocal|"
    "synth|female|indian|opera|male|singing|vocals|no vocals|harpsichord|loud|quiet|flute|woman|"
    "male vocal|no vocal|pop|soft|sitar|solo|man|classic|choir|voice|new age|dance|male voice|"
    "female vocal|beats|harp|cello|no voice|weird|country|metal|female voice|choral".split("|")
)
MSD_LABELS = tuple(
    "rock|pop|alternative|indie|electronic|female vocalists|dance|00s|alternative rock|jazz|beautiful|"
    "metal|chillout|male vocalists|classic rock|soul|indie rock|Mellow|electronica|80s|folk|90s|chill|"
    "instrumental|punk|oldies|blues|hard rock|ambient|acoustic|experimental|female vocalist|guitar|"
    "Hip-Hop|70s|party|country|easy listening|sexy|catchy|funk|electro|heavy metal|Progressive rock|60s|"
    "rnb|indie pop|sad|House|happy".split("|")
)
LABELS = {"MTT_musicnn": MTT_LABELS, "MSD_musicnn": MSD_LABELS}


class MusicnnMissing(Exception):
    """The musicnn wheel (its checkpoints) is not installed."""


def package_dir() -> Path:
    """Folder of the installed ``musicnn`` package, found without importing it."""
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise MusicnnMissing("the musicnn package is not installed: pip install --no-deps musicnn==0.1.0")
    return Path(next(iter(spec.submodule_search_locations)))


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, log above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=512, n_mels=96) with Slaney area norm, shape (257, 96)."""
    fft_freqs = np.linspace(0, SR / 2, N_FFT // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.T.astype(np.float32)


def log_mel(audio16k: np.ndarray) -> np.ndarray:
    """musicnn's input representation of a whole 16 kHz signal, shape (frames, 96), float32."""
    y = np.pad(audio16k.astype(np.float32), N_FFT // 2, mode="reflect" if len(audio16k) > N_FFT // 2 else "constant")
    return frames_log_mel(sliding_window_view(y, N_FFT)[::HOP])


def frames_log_mel(frames: np.ndarray) -> np.ndarray:
    """Log-mel of already framed 16 kHz audio (frames, 512): power STFT -> mel -> float16 -> log10(10000x+1)."""
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    mel = np.empty((len(frames), N_MELS), dtype=np.float16)
    for start in range(0, len(frames), 2048):  # chunks keep the FFT buffers small (peak RSS)
        spec = np.fft.rfft(frames[start : start + 2048] * window, axis=1)
        mel[start : start + 2048] = (spec.real**2 + spec.imag**2) @ mel_filterbank()
    with np.errstate(over="ignore"):
        out = np.log10(np.float16(10000) * mel + np.float16(1)).astype(np.float32)  # what musicnn computes
    loud = mel > np.float16(F16_SAFE)
    if loud.any():  # where float16 overflows, compress the same float16 values in float32
        out[loud] = np.log10(10000 * mel[loud].astype(np.float32) + 1)
    return out


def _bn(weights: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm folded to (scale, shift): y = x * scale + shift."""
    scale = weights[f"{name}/gamma"] / np.sqrt(weights[f"{name}/moving_variance"] + BN_EPS)
    shift = weights[f"{name}/beta"] - weights[f"{name}/moving_mean"] * scale
    return scale.astype(np.float32), shift.astype(np.float32)


@dataclass(frozen=True)
class MusicnnWeights:
    """One musicnn checkpoint, laid out for matrix products (names follow models.py's layer order)."""

    labels: tuple[str, ...]
    layers: dict[str, tuple[np.ndarray, ...]]
    base: np.ndarray  # the output at the training-set mean of the penultimate layer (see vocab.py)

    @classmethod
    def load(cls, model: str, folder: Path | None = None) -> MusicnnWeights:
        w = read_checkpoint((folder or package_dir()) / model)
        conv = {
            i: (w[f"conv2d{'' if i == 0 else f'_{i}'}/kernel"], w[f"conv2d{'' if i == 0 else f'_{i}'}/bias"])
            for i in range(8)
        }
        bn = {i: _bn(w, f"batch_normalization{'' if i == 0 else f'_{i}'}") for i in range(11)}
        layers: dict[str, tuple[np.ndarray, ...]] = {"input_bn": bn[0]}
        for i, name in enumerate(("f74", "f77", "s1", "s2", "s3", "mid1", "mid2", "mid3"), start=0):
            kernel, bias = conv[i]
            layers[name] = (kernel.reshape(-1, kernel.shape[-1]), bias, *bn[i + 1])
        layers["dense"] = (w["dense/kernel"], w["dense/bias"], *bn[10])
        layers["pool_bn"] = bn[9]
        layers["out"] = (w["dense_1/kernel"], w["dense_1/bias"])
        base = _sigmoid(w["batch_normalization_10/beta"] @ w["dense_1/kernel"] + w["dense_1/bias"])
        return cls(labels=LABELS[model], layers=layers, base=base)


def _conv_block(cols: np.ndarray, layer: tuple[np.ndarray, ...]) -> np.ndarray:
    """conv (as im2col product) -> ReLU -> batch norm, as models.py orders them."""
    kernel, bias, scale, shift = layer
    return np.maximum(cols @ kernel + bias, 0) * scale + shift


def _pooled_block(windows: np.ndarray, layer: tuple[np.ndarray, ...], bins: int) -> np.ndarray:
    """_conv_block followed by a max over the ``bins`` frequency rows of each frame, done cheaply.

    ``windows`` is the im2col view shaped (PATCH, bins, ...); its rows are copied and multiplied
    FRAME_CHUNK frames at a time, which keeps the working memory at a few MB instead of ~40.
    ReLU and the batch norm are monotonic per channel (rising where the scale is positive,
    falling where it is negative), so the max of their output is taken from the max or the
    min of the raw convolution; only PATCH rows get the element-wise work.
    """
    kernel, bias, scale, shift = layer
    extremes = []
    for start in range(0, PATCH, FRAME_CHUNK):
        z = (windows[start : start + FRAME_CHUNK].reshape(-1, kernel.shape[0]) @ kernel).reshape(
            -1, bins, kernel.shape[1]
        )
        extremes.append(np.where(scale >= 0, z.max(axis=1), z.min(axis=1)))
    return np.maximum(np.concatenate(extremes) + bias, 0) * scale + shift


def _frontend(x: np.ndarray, w: MusicnnWeights) -> np.ndarray:
    """Timbral (7x38, 7x67) and temporal (128/64/32 x 1) blocks, each max-pooled over frequency: (187, 561)."""
    scale, shift = w.layers["input_bn"]
    x = x * scale + shift
    padded = np.pad(x, ((3, 3), (0, 0)))
    feats = []
    for name, width in (("f74", 38), ("f77", 67)):
        windows = sliding_window_view(padded, (7, width))  # (PATCH, bins, 7, width)
        feats.append(_pooled_block(windows, w.layers[name], N_MELS - width + 1))
    for name, length in (("s1", 128), ("s2", 64), ("s3", 32)):
        same = np.pad(x, (((length - 1) // 2, length // 2), (0, 0)))  # TF 'same' puts the extra row after
        feats.append(_pooled_block(sliding_window_view(same, length, axis=0), w.layers[name], N_MELS))
    return np.concatenate(feats, axis=1)


def _midend(front: np.ndarray, w: MusicnnWeights) -> list[np.ndarray]:
    """Three 7-frame 1-D convolutions over all features, the last two residual."""
    outs = [front]
    for name in ("mid1", "mid2", "mid3"):
        prev = outs[-1]
        cols = sliding_window_view(np.pad(prev, ((3, 3), (0, 0))), 7, axis=0).transpose(0, 2, 1).reshape(PATCH, -1)
        out = _conv_block(cols, w.layers[name])
        outs.append(out if name == "mid1" else out + prev)
    return outs


def forward(patch: np.ndarray, w: MusicnnWeights) -> np.ndarray:
    """Tag probabilities (50,) for one (187, 96) log-mel patch."""
    feats = np.concatenate(_midend(_frontend(patch, w), w), axis=1)  # (187, 753)
    pooled = np.stack([feats.max(axis=0), feats.mean(axis=0)], axis=1).reshape(-1)  # interleaved like TF's flatten
    scale, shift = w.layers["pool_bn"]
    kernel, bias, d_scale, d_shift = w.layers["dense"]
    hidden = np.maximum((pooled * scale + shift) @ kernel + bias, 0) * d_scale + d_shift
    out_kernel, out_bias = w.layers["out"]
    return _sigmoid(hidden @ out_kernel + out_bias)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
