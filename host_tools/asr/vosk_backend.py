"""Vosk (optional): a user-supplied Kaldi model directory, given by --model-dir or $HUSHMIC_VOSK_MODEL.

hushmic ships no Vosk model and verifies none: the user chose it. Its output is already in spoken form."""
from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np

from .base import BackendUnavailable, Word
from .models import ENV_VOSK_MODEL
from .normalize import normalize_words, items_to_words

NAME = "vosk"
RATE = 16000
_lock = threading.Lock()
_models: dict = {}


def model_dir(explicit=None):
    d = explicit or os.environ.get(ENV_VOSK_MODEL)
    return Path(d).expanduser() if d else None


def available(explicit=None) -> bool:
    d = model_dir(explicit)
    return importlib.util.find_spec("vosk") is not None and d is not None and d.is_dir()


def why_unavailable(explicit=None) -> str:
    if importlib.util.find_spec("vosk") is None:
        return "vosk is not installed (optional: pip install vosk, and give a model directory)"
    d = model_dir(explicit)
    if d is None:
        return f"no Vosk model directory: pass --model-dir or set {ENV_VOSK_MODEL}"
    return f"{d}: not a directory"


def transcribe(pcm, rate=RATE, model_dir_=None):
    if not available(model_dir_):
        raise BackendUnavailable(why_unavailable(model_dir_))
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
    import vosk
    vosk.SetLogLevel(-1)
    d = str(model_dir(model_dir_).resolve())
    with _lock:
        m = _models.get(d)
        if m is None:
            m = _models[d] = vosk.Model(d)
        rec = vosk.KaldiRecognizer(m, RATE)
        rec.SetWords(True)
        data = np.asarray(pcm, dtype=np.int16).astype("<i2").tobytes()
        results = []
        for i in range(0, len(data), 32000):
            if rec.AcceptWaveform(data[i:i + 32000]):
                results.append(json.loads(rec.Result()))
        results.append(json.loads(rec.FinalResult()))
    raw = [(" " + r["word"], float(r["start"]), float(r["end"]), float(r.get("conf", 1.0)))
           for res in results for r in res.get("result", [])]
    return [Word(w.word, w.t0, w.t1, w.confidence, True) for w in items_to_words(normalize_words(raw))]
