"""pocketsphinx 5.1.1: the fallback recogniser and the forced aligner. Its en-us model ships in the wheel.

Decoders are created lazily, once per process, and guarded by locks (`listen` transcribes in a worker thread).
"""
from __future__ import annotations

import re
import threading

import numpy as np

from .base import BackendUnavailable, Word

NAME = "pocketsphinx"
FRAME_S = 0.01          # pocketsphinx's frame rate is 100 frames/s
RATE = 16000

_lock = threading.Lock()
_decoders: dict = {}


def available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except Exception:
        return False
    return True


# The aligner inserts silence more readily than the default (silprob 0.005): with the default, short pauses are
# absorbed into the neighbouring words, starting stops and fricatives up to ~200 ms early. Measured on words
# synthesised one by one (bench/asr_bench.py): coverage at +-100 ms went from 0.73-0.85 to 0.85-1.0.
ALIGN_CONFIG = {"silprob": 0.5}
# The recogniser caps its search (active HMMs and word exits per frame). On noisy speech the default search
# explodes (2.3 CPU-seconds per second of 10 dB SNR audio); these caps cut that to ~1.0 and clean speech from 0.61
# to 0.44, with the same WER on the benchmark's sentences (bench/asr_bench.py).
RECOGNISE_CONFIG = {"maxhmmpf": 3000, "maxwpf": 10}


def _new_decoder(**config):
    try:
        from pocketsphinx import Decoder
    except Exception as e:  # pragma: no cover - depends on the install
        raise BackendUnavailable(f"pocketsphinx is not installed ({e}); pip install 'hushmic[asr]'") from None
    return Decoder(loglevel="FATAL", **config)


def decoder(kind="recognise"):
    """The process-wide decoder of one kind: 'recognise' (language model) or 'align' (forced alignment)."""
    with _lock:
        d = _decoders.get(kind)
        if d is None:
            d = _decoders[kind] = _new_decoder(**(ALIGN_CONFIG if kind == "align" else RECOGNISE_CONFIG))
        return d


def decoder_lock():
    return _lock


_ALT = re.compile(r"\(\d+\)$")


def clean_token(tok: str) -> str | None:
    """A recogniser token in spoken form, or None for non-words (<s>, </s>, <sil>, [NOISE], ++FILLER++)."""
    if not tok or tok[0] in "<[+":
        return None
    tok = _ALT.sub("", tok).lower()
    if tok.endswith(".") and len(tok) == 2:   # spelled letters are "a." .. "z." in cmudict
        tok = tok[0]
    tok = tok.replace(".", "")
    return tok or None


def _pcm_bytes(pcm):
    x = np.asarray(pcm)
    if x.dtype != np.int16:
        x = np.clip(np.round(x.astype(np.float64)), -32768, 32767).astype(np.int16)
    return x.astype("<i2").tobytes()


def decode(d, raw: bytes):
    """One full-utterance decode. A first feature-only pass sets the cepstral mean from this utterance itself, so
    the result does not depend on what the decoder heard before (a fresh decoder otherwise mis-times the first
    utterance's start). Call with the decoder lock held."""
    d.start_utt()
    d.process_raw(raw, no_search=True, full_utt=True)
    d.end_utt()
    d.start_utt()
    d.process_raw(raw, no_search=False, full_utt=True)
    d.end_utt()


def transcribe(pcm, rate=RATE):
    """Decode with the bundled language model; words carry pocketsphinx's own times and posterior."""
    if rate != RATE:
        from ..audio_io import resample
        pcm = resample(pcm, rate, RATE)
    d = decoder("recognise")
    with _lock:
        decode(d, _pcm_bytes(pcm))
        segs = [(s.word, s.start_frame, s.end_frame, s.prob) for s in d.seg()] if d.hyp() is not None else []
    words = []
    for tok, f0, f1, prob in segs:
        w = clean_token(tok)
        if w is None:
            continue
        parts = [p for p in re.split(r"[^a-z']+", w) if p]
        t0, t1 = f0 * FRAME_S, (f1 + 1) * FRAME_S
        conf = float(min(1.0, max(0.0, prob)))
        total = sum(len(p) for p in parts)
        pos = 0
        for p in parts:   # "e-mail" -> "e" "mail", splitting the span by letters
            a = t0 + (t1 - t0) * pos / total
            pos += len(p)
            words.append(Word(p, round(a, 3), round(t0 + (t1 - t0) * pos / total, 3), conf, True))
    return words
