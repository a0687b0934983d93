"""Offline speech recognition with word timings (package `hushmic.asr`).

    from hushmic.asr import transcribe, transcribe_file, available_backends, Word, Transcript
    t = transcribe(pcm_int16_mono, 16000)          # default chain: whisper if a verified model is present, else pocketsphinx
    t.backend, t.text, [(w.word, w.t0, w.t1, w.confidence, w.aligned) for w in t.words]

Backends:
- "whisper": faster-whisper + Whisper tiny.en from a local directory verified file by file against a pinned manifest
  (models.py); its words are normalised to spoken form (normalize.py) and re-timed by pocketsphinx forced alignment
  (align.py). Words the aligner could only guess (not in its dictionary) have aligned=False and span the gap between
  their aligned neighbours.
- "pocketsphinx": pocketsphinx 5.1.1 with the en-us model in its wheel; its own word times.
- "vosk": optional, with a user-supplied model directory ($HUSHMIC_VOSK_MODEL).

Words are single whitespace-free spoken-form tokens (lowercase, number words, "at"/"dot"); Transcript.text is the words
joined by single spaces. Nothing here opens a network connection, on import or ever.
"""
from __future__ import annotations

import sys

import numpy as np

from ..errors import BadInput
from .base import BackendUnavailable, Transcript, Word, make_transcript

__all__ = ["Word", "Transcript", "transcribe", "transcribe_file", "available_backends", "BACKENDS",
           "BackendUnavailable", "default_backend"]

BACKENDS = ("whisper", "pocketsphinx", "vosk")


def available_backends() -> list:
    """Backends that can run now, default first."""
    from . import sphinx_backend, vosk_backend, whisper_backend
    out = []
    if whisper_backend.available():
        out.append("whisper")
    if sphinx_backend.available():
        out.append("pocketsphinx")
    if vosk_backend.available():
        out.append("vosk")
    return out


def default_backend() -> str:
    av = available_backends()
    if not av:
        raise BackendUnavailable("no ASR backend available: pip install 'hushmic[asr]' "
                                 "(pocketsphinx works with no model download)")
    return av[0]


def _check_pcm(pcm, rate):
    if rate is None or int(rate) <= 0:
        raise BadInput(f"invalid sample rate {rate!r}")
    x = np.asarray(pcm)
    if x.ndim == 2:
        if 1 in x.shape:
            x = x.reshape(-1)
        else:   # (n, channels)
            x = x.astype(np.int32).mean(axis=1).astype(np.int16) if x.shape[1] <= 8 else None
    if x is None or x.ndim != 1:
        raise BadInput("audio must be mono: a 1-D int16 array")
    if x.dtype != np.int16:
        if np.issubdtype(x.dtype, np.floating) and x.size and np.max(np.abs(x)) <= 1.0:
            x = x * 32767.0
        x = np.clip(np.round(x.astype(np.float64)), -32768, 32767).astype(np.int16)
    if int(rate) != 16000:
        from ..audio_io import resample
        x = resample(x, int(rate), 16000)
    return x


def transcribe(pcm, rate=16000, backend=None, *, model_dir=None) -> Transcript:
    """Transcribe mono int16 PCM. backend None = the default chain (whisper if a verified model is available, else
    pocketsphinx). `model_dir` overrides the Whisper (or Vosk) model directory. Transcript.backend names what ran."""
    x = _check_pcm(pcm, rate)
    if backend is not None and backend not in BACKENDS:
        raise BadInput(f"unknown ASR backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if len(x) < 1600 or int(np.max(np.abs(x.astype(np.int32)))) < 8:
        # under 0.1 s, or digital silence (peak below -72 dBFS): nothing to recognise, and recognisers
        # hallucinate words on pure silence. An explicitly requested backend must still be usable.
        name = backend or _quiet_default(model_dir)
        _require(name, model_dir)
        return make_transcript(name, [])
    if backend is None:
        from . import whisper_backend
        if whisper_backend.available(model_dir):
            try:
                return make_transcript("whisper", whisper_backend.transcribe(x, 16000, model_dir=model_dir))
            except BackendUnavailable:
                pass
            except Exception as e:   # a broken model must not leave the user without a transcript
                print(f"hushmic: whisper failed ({type(e).__name__}: {e}); falling back to pocketsphinx",
                      file=sys.stderr)
        backend = "pocketsphinx"
    if backend == "whisper":
        from . import whisper_backend
        return make_transcript("whisper", whisper_backend.transcribe(x, 16000, model_dir=model_dir))
    if backend == "pocketsphinx":
        from . import sphinx_backend
        if not sphinx_backend.available():
            raise BackendUnavailable("pocketsphinx is not installed: pip install 'hushmic[asr]'")
        return make_transcript("pocketsphinx", sphinx_backend.transcribe(x, 16000))
    from . import vosk_backend
    return make_transcript("vosk", vosk_backend.transcribe(x, 16000, model_dir))


def _require(name, model_dir=None):
    from . import sphinx_backend, vosk_backend, whisper_backend
    if name == "whisper" and not whisper_backend.available(model_dir):
        raise BackendUnavailable(whisper_backend.why_unavailable(model_dir))
    if name == "pocketsphinx" and not sphinx_backend.available():
        raise BackendUnavailable("pocketsphinx is not installed: pip install 'hushmic[asr]'")
    if name == "vosk" and not vosk_backend.available(model_dir):
        raise BackendUnavailable(vosk_backend.why_unavailable(model_dir))


def _quiet_default(model_dir=None):
    from . import whisper_backend
    return "whisper" if whisper_backend.available(model_dir) else "pocketsphinx"


def transcribe_file(path, backend=None, *, model_dir=None) -> Transcript:
    """Transcribe a WAV file (any PCM16 WAV: stereo is mixed down, other rates resampled; bad files -> BadInput)."""
    import struct

    from ..audio_io import load_speech
    try:
        pcm = load_speech(path)
    except (RuntimeError, ValueError, struct.error, EOFError, MemoryError) as e:
        # the stdlib wave module raises these on some malformed chunk headers
        raise BadInput(f"{path}: not a readable PCM WAV file ({type(e).__name__}{': ' + str(e) if str(e) else ''})") \
            from None
    return transcribe(pcm, 16000, backend, model_dir=model_dir)
