"""Whisper (base by default, or tiny.en) through faster-whisper (CTranslate2), from a local, hash-verified model
directory only.

The model is loaded with `local_files_only=True` and HF_HUB_OFFLINE=1, from a directory that passed the pinned
manifest check (models.py); nothing is ever fetched. It is loaded once per process per directory. `model` names the
pinned model (manifest name or alias; None = the default, manifest.DEFAULT_WHISPER); an explicit `model_dir` must
verify as that model.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from . import align as _align
from . import models
from .base import BackendUnavailable
from .normalize import items_to_words, normalize_words

NAME = "whisper"
RATE = 16000
ALIGN_WHOLE_MAX_S = 40.0    # longer audio is aligned segment by segment
# Whisper's encoder always runs on a 30 s window, zero-padded; CTranslate2 also accepts a shorter one. For the models
# in SHORT_WINDOW, audio under 19 s is encoded in a window of its length + WINDOW_PAD_S rounded up to WINDOW_STEP_S
# (20 s), which cuts base's CPU time per 3 s utterance from 1.47 to 0.79 s at the same entities readable on the e2e dev
# set (0.021; spans bleeped 0.957 vs 0.979). Measured and rejected: a 10 s window (a surname heard as "i can quail",
# 0.936 bleeped), a 5 s one (temperature fallback: 5-15 s per utterance), and short windows for tiny.en (more
# non-PII speech removed, 0.153 vs 0.081). $HUSHMIC_WHISPER_WINDOW=full|short overrides (bench/asr_bench.py).
SHORT_WINDOW = frozenset({"whisper-base"})
WINDOW_STEP_S = 20.0
WINDOW_PAD_S = 1.0
MEL_FRAMES_PER_S = 100

_lock = threading.Lock()
_models: dict = {}


def _offline_env():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")


def installed() -> bool:
    try:
        import importlib.util
        return importlib.util.find_spec("faster_whisper") is not None
    except Exception:
        return False


def _manifest(model_dir, model):
    if model is None and model_dir is not None:
        return models.identify(model_dir)
    return models.manifest_for(model)


def available(model_dir=None, model=None) -> bool:
    return installed() and models.verified_model_dir(model_dir, _manifest(model_dir, model)) is not None


def why_unavailable(model_dir=None, model=None) -> str:
    """One line: why this Whisper model cannot run, where it was looked for, and the exact fix."""
    if not installed():
        return "faster-whisper is not installed; fix: `pip install -e '.[asr]'` in the hushmic checkout"
    m = _manifest(model_dir, model)
    if model_dir is None:
        return models.diagnose(m)
    v = models.verify(model_dir, m)
    return (f"no verified {m['name']} model at {v.model_dir}: " + "; ".join(v.problems[:3])
            + f". Fix: `{models.fix_command(m)} --model-dir {v.model_dir}`")


def load(model_dir=None, threads=None, model=None):
    """The WhisperModel for a verified directory (cached). Raises BackendUnavailable with the reason."""
    d = models.verified_model_dir(model_dir, _manifest(model_dir, model))
    if d is None or not installed():
        raise BackendUnavailable(why_unavailable(model_dir, model))
    threads = int(threads or os.environ.get("HUSHMIC_ASR_THREADS") or min(4, os.cpu_count() or 2))
    key = (str(d.resolve()), threads)
    with _lock:
        m = _models.get(key)
        if m is None:
            _offline_env()
            m = _models[key] = _windowed_model_class()(str(d), device="cpu", compute_type="int8", cpu_threads=threads,
                                            num_workers=1, local_files_only=True)
        return m


def _windowed_model_class():
    from faster_whisper import WhisperModel

    class WindowedWhisperModel(WhisperModel):
        """WhisperModel whose encoder sees at most `window_frames` mel frames (None: the usual 30 s)."""
        window_frames = None

        def encode(self, features):
            if self.window_frames is not None and features.shape[-1] > self.window_frames:
                features = features[..., :self.window_frames]
            return super().encode(features)

    return WindowedWhisperModel


def window_frames(duration_s, model=None):
    """The encoder window (mel frames) for audio of this length, or None for the full 30 s."""
    mode = os.environ.get("HUSHMIC_WHISPER_WINDOW")
    if mode == "full" or (mode != "short" and models.manifest_for(model)["name"] not in SHORT_WINDOW):
        return None
    steps = -(-(duration_s + WINDOW_PAD_S) // WINDOW_STEP_S)
    frames = int(steps * WINDOW_STEP_S * MEL_FRAMES_PER_S)
    return frames if frames < 30 * MEL_FRAMES_PER_S else None


def recognise(pcm, rate=RATE, model_dir=None, beam_size=5, model=None):
    """Whisper alone: (segments as lists of (text, start, end, prob) words, duration in seconds)."""
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
    x = np.asarray(pcm)
    audio = (x.astype(np.float32) / 32768.0) if x.dtype == np.int16 else x.astype(np.float32)
    m = load(model_dir, model=model)
    with _lock:   # one decode at a time per process: CTranslate2 already uses every thread it was given
        m.window_frames = window_frames(len(x) / RATE, _manifest(model_dir, model)["name"])
        segs, _info = m.transcribe(audio, language="en", beam_size=beam_size, word_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=False, without_timestamps=False)
        out = []
        for s in segs:
            out.append([(w.word, float(w.start), float(w.end), float(w.probability)) for w in (s.words or [])])
    return out, len(x) / RATE


def transcribe(pcm, rate=RATE, model_dir=None, align=True, model=None):
    """Spoken-form Words: Whisper's text, normalised, re-timed by pocketsphinx forced alignment."""
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
        rate = RATE
    segments, dur = recognise(pcm, rate, model_dir, model=model)
    if not align:
        return items_to_words(normalize_words([w for s in segments for w in s]))
    if dur <= ALIGN_WHOLE_MAX_S:
        items = normalize_words([w for s in segments for w in s])
        return _align.align(pcm, items)
    words = []
    for s in segments:
        items = normalize_words(s)
        if not items:
            continue
        a = max(0.0, min(it.t0 for it in items) - 0.5)
        b = min(dur, max(it.t1 for it in items) + 0.5)
        words.extend(_align.align(pcm[int(a * RATE):int(b * RATE)], items, offset=a))
    return words
