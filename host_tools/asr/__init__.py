"""Offline speech recognition with word timings (package `hushmic.asr`).

    from hushmic.asr import transcribe, transcribe_file, available_backends, Word, Transcript
    t = transcribe(pcm_int16_mono, 16000)          # default chain: whisper if a verified model is present, else pocketsphinx
    t.backend, t.text, [(w.word, w.t0, w.t1, w.confidence, w.aligned) for w in t.words]

Backends:
- "whisper": faster-whisper + the default Whisper model (manifest.DEFAULT_WHISPER: base) from a local directory
  verified file by file against a pinned manifest (models.py; found on an ordered search path); its words are normalised to spoken form (normalize.py) and re-timed by pocketsphinx forced alignment
  (align.py). Words the aligner could only guess (not in its dictionary) have aligned=False and span the gap between
  their aligned neighbours.
- "pocketsphinx": pocketsphinx 5.1.1 with the en-us model in its wheel; its own word times.
- "whisper-base", "whisper-tiny.en": the same with that pinned Whisper model named explicitly (manifest.MANIFESTS).
- "vosk": optional, with a user-supplied model directory ($HUSHMIC_VOSK_MODEL).

Never quietly worse: when the default chain cannot use its Whisper model (not installed, fails verification, or
raises), it falls back to pocketsphinx AND says so: once per process on stderr ("hushmic: WARNING: ASR DEGRADED ...",
with the exact fix command), and in Transcript.warning (the "asr_warning" field of the JSON outputs).

Words are single whitespace-free spoken-form tokens (lowercase, number words, "at"/"dot"); Transcript.text is the words
joined by single spaces. Nothing here opens a network connection, on import or ever.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from ..errors import BadInput
from .base import BackendUnavailable, Transcript, Word, make_transcript
from .manifest import DEFAULT_WHISPER, MANIFESTS

__all__ = ["Word", "Transcript", "transcribe", "transcribe_file", "available_backends", "BACKENDS",
           "BackendUnavailable", "default_backend", "degraded_warning"]

# backend name -> the Whisper model it runs (None: the default model)
WHISPER_BACKENDS = {"whisper": None, **{name: name for name in MANIFESTS}}
BACKENDS = (*WHISPER_BACKENDS, "pocketsphinx", "vosk")

_warned: set = set()
_warn_lock = threading.Lock()


def available_backends() -> list:
    """Backends that can run now, default first ("whisper" is the default model; the named Whisper models are not
    listed: checking them would hash every installed model at every start-up)."""
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
    """The backend the default chain uses now. When that is not Whisper, warns once per process on stderr."""
    av = available_backends()
    if not av:
        raise BackendUnavailable("no ASR backend available: pip install 'hushmic[asr]' "
                                 "(pocketsphinx works with no model download)")
    if av[0] != "whisper":
        warn(degraded_warning())
    return av[0]


def degraded_warning(model_dir=None, error=None) -> str:
    """One line: the default Whisper model is not used (why), what runs instead, and the exact fix."""
    from . import whisper_backend
    why = (f"it failed ({type(error).__name__}: {error})" if error is not None
           else whisper_backend.why_unavailable(model_dir))
    return (f"ASR DEGRADED: the default recogniser, Whisper {DEFAULT_WHISPER}, is not used, so transcripts come "
            f"from the pocketsphinx fallback, which mishears far more names and numbers and leaves more personal "
            f"data readable. {why}")


def warn(message):
    """Print `hushmic: WARNING: message` on stderr, once per process per message."""
    with _warn_lock:
        if message in _warned:
            return
        _warned.add(message)
    print(f"hushmic: WARNING: {message}", file=sys.stderr, flush=True)


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
    """Transcribe mono int16 PCM. backend None = the default chain (Whisper's default model if a verified copy is
    found, else pocketsphinx, with a warning: see the module docstring). `model_dir` overrides the Whisper (or
    Vosk) model directory. Transcript.backend names what ran; Transcript.warning says why it is a fallback."""
    x = _check_pcm(pcm, rate)
    if backend is not None and backend not in BACKENDS:
        raise BadInput(f"unknown ASR backend {backend!r}; choose from {', '.join(BACKENDS)}")
    from . import whisper_backend
    warning, chain = None, backend is None
    if chain:
        if whisper_backend.available(model_dir):
            backend = "whisper"
        else:
            backend, warning = "pocketsphinx", degraded_warning(model_dir)
            warn(warning)
    if len(x) < 1600 or int(np.max(np.abs(x.astype(np.int32)))) < 8:
        # under 0.1 s, or digital silence (peak below -72 dBFS): nothing to recognise, and recognisers
        # hallucinate words on pure silence. The backend must still be usable.
        _require(backend, model_dir)
        return _with_warning(make_transcript(backend, []), warning)
    if backend in WHISPER_BACKENDS:
        model = WHISPER_BACKENDS[backend]
        try:
            return make_transcript(backend, whisper_backend.transcribe(x, 16000, model_dir=model_dir, model=model))
        except Exception as e:   # a broken model must not leave the user without a transcript (but say so)
            if not chain:
                raise
            backend, warning = "pocketsphinx", degraded_warning(model_dir, error=e)
            warn(warning)
    if backend == "pocketsphinx":
        from . import sphinx_backend
        if not sphinx_backend.available():
            raise BackendUnavailable("pocketsphinx is not installed: pip install 'hushmic[asr]'")
        return _with_warning(make_transcript("pocketsphinx", sphinx_backend.transcribe(x, 16000)), warning)
    from . import vosk_backend
    return make_transcript("vosk", vosk_backend.transcribe(x, 16000, model_dir))


def _with_warning(t, warning):
    t.warning = warning
    return t


def _require(name, model_dir=None):
    from . import sphinx_backend, vosk_backend, whisper_backend
    if name in WHISPER_BACKENDS and not whisper_backend.available(model_dir, model=WHISPER_BACKENDS[name]):
        raise BackendUnavailable(whisper_backend.why_unavailable(model_dir, model=WHISPER_BACKENDS[name]))
    if name == "pocketsphinx" and not sphinx_backend.available():
        raise BackendUnavailable("pocketsphinx is not installed: pip install 'hushmic[asr]'")
    if name == "vosk" and not vosk_backend.available(model_dir):
        raise BackendUnavailable(vosk_backend.why_unavailable(model_dir))


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
