"""Whisper tiny.en through faster-whisper (CTranslate2), from a local, hash-verified model directory only.

The model is loaded with `local_files_only=True` and HF_HUB_OFFLINE=1, from a directory that passed the pinned
manifest check (models.py); nothing is ever fetched. It is loaded once per process per directory.
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


def available(model_dir=None) -> bool:
    return installed() and models.verified_model_dir(model_dir) is not None


def why_unavailable(model_dir=None) -> str:
    if not installed():
        return "faster-whisper is not installed (pip install 'hushmic[asr]')"
    v = models.verify(model_dir)
    return f"no verified Whisper model at {v.model_dir}: " + "; ".join(v.problems[:3])


def load(model_dir=None, threads=None):
    """The WhisperModel for a verified directory (cached). Raises BackendUnavailable with the reason."""
    d = models.verified_model_dir(model_dir)
    if d is None or not installed():
        raise BackendUnavailable(why_unavailable(model_dir))
    threads = int(threads or os.environ.get("HUSHMIC_ASR_THREADS") or min(4, os.cpu_count() or 2))
    key = (str(d.resolve()), threads)
    with _lock:
        m = _models.get(key)
        if m is None:
            _offline_env()
            from faster_whisper import WhisperModel
            m = _models[key] = WhisperModel(str(d), device="cpu", compute_type="int8", cpu_threads=threads,
                                            num_workers=1, local_files_only=True)
        return m


def recognise(pcm, rate=RATE, model_dir=None, beam_size=5):
    """Whisper alone: (segments as lists of (text, start, end, prob) words, duration in seconds)."""
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
    x = np.asarray(pcm)
    audio = (x.astype(np.float32) / 32768.0) if x.dtype == np.int16 else x.astype(np.float32)
    m = load(model_dir)
    with _lock:   # one decode at a time per process: CTranslate2 already uses every thread it was given
        segs, _info = m.transcribe(audio, language="en", beam_size=beam_size, word_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=False, without_timestamps=False)
        out = []
        for s in segs:
            out.append([(w.word, float(w.start), float(w.end), float(w.probability)) for w in (s.words or [])])
    return out, len(x) / RATE


def transcribe(pcm, rate=RATE, model_dir=None, align=True):
    """Spoken-form Words: Whisper's text, normalised, re-timed by pocketsphinx forced alignment."""
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
        rate = RATE
    segments, dur = recognise(pcm, rate, model_dir)
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
