"""What happens to one turn on the host: ASR (word timings) -> redaction of text and audio -> one result per segment.

A turn (host_tools/turns.py) is one or more segments of a board a short pause apart. They are joined with a short
silence and transcribed and redacted as one, so a cue in the first segment ("my account") still covers the value in
the next ("is four one one ..."), and the recogniser hears the whole sentence. Each segment then gets its own part of
the result: the words it holds (with `[TYPE]` tags) and its stretch of the redacted audio.

`listen` runs this in a worker thread so the serial reader never waits for it. It fails closed: if ASR or redaction
is unavailable or raises, no transcript text and no audio of the turn are released, only the fact that it failed.
"""
import logging
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("hushmic.pipeline")

JOIN_GAP_MAX_S = 0.3  # the silence put between a turn's segments: their real gap, at most this


@dataclass
class Result:
    backend: str = None
    text_redacted: str = None
    redacted_pcm: object = None
    audit: dict = field(default_factory=dict)
    error: str = None
    turn: object = None    # the whole turn's redact.TimedRedaction (words, text, spans), shared by its segments
    part: tuple = None     # (first sample, length) of this segment in the turn's joined audio


def join_parts(parts, gaps, rate=16000):
    """Join int16 arrays with min(gap, JOIN_GAP_MAX_S) of silence before each but the first.
    Returns (joined, [(first sample, length) of each part])."""
    pieces, where, pos = [], [], 0
    for i, p in enumerate(parts):
        p = np.asarray(p, dtype=np.int16)
        if i:
            g = int(round(max(0.0, min(float(gaps[i] if gaps else 0.0), JOIN_GAP_MAX_S)) * rate))
            if g:
                pieces.append(np.zeros(g, dtype=np.int16))
                pos += g
        pieces.append(p)
        where.append((pos, len(p)))
        pos += len(p)
    joined = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return joined, where


def split_result(red, where, rate=16000):
    """Cut a turn's redaction (redact.TimedRedaction) back into one (text, pcm, spans) per part.

    A word belongs to the part its midpoint falls in (or the nearest one, for a word in the joining silence); a run of
    words inside one redacted span becomes a single `[TYPE]` in each part it reaches."""
    words = red.words
    bounds = [(a / rate, (a + n) / rate) for a, n in where]

    def part_of(w):
        mid = (float(w.t0) + float(w.t1)) / 2.0 if w.t0 is not None and w.t1 is not None else None
        if mid is None:
            return None
        best, dist = 0, None
        for i, (a, b) in enumerate(bounds):
            d = 0.0 if a <= mid < b else min(abs(mid - a), abs(mid - b))
            if dist is None or d < dist:
                best, dist = i, d
        return best

    owner = []
    last = 0
    for w in words:
        p = part_of(w)
        last = last if p is None else p
        owner.append(last)
    span_of = red.span_index_per_word()
    texts = [[] for _ in where]
    part_spans = [[] for _ in where]
    prev = {}
    for k, w in enumerate(words):
        p = owner[k]
        s = span_of[k]
        if s is None:
            texts[p].append(w.word)
            prev[p] = None
        elif prev.get(p) != s:
            texts[p].append(f"[{red.spans[s].type}]")
            part_spans[p].append(red.spans[s])
            prev[p] = s
    return [(" ".join(t), red.pcm[a:a + n], sp) for t, (a, n), sp in zip(texts, where, part_spans)]


class Pipeline:
    def __init__(self, backend=None, margin_ms=100, transcribe=True, model_dir=None):
        self.backend = backend
        self.model_dir = model_dir
        self.margin_ms = margin_ms
        self.enabled = transcribe
        self._asr = None
        self._redact = None
        if transcribe:
            from . import asr, redact  # imported once, here, so a missing backend is reported at start-up

            self._asr = asr
            self._redact = redact

    def describe(self):
        if not self.enabled:
            return "transcription off"
        return f"ASR backend: {self.backend or self._asr.default_backend()}"

    def process(self, pcm, rate=16000):
        """One utterance on its own: a turn of one segment."""
        return self.process_turn([pcm], rate=rate)[0]

    def process_turn(self, parts, gaps=None, rate=16000):
        """Transcribe and redact the segments of one turn together; one Result per segment, in order.
        gaps[i]: seconds between segment i-1's end and segment i's start (gaps[0] is ignored)."""
        n = len(parts)
        if not self.enabled or n == 0:
            return [Result() for _ in range(n)]
        try:
            joined, where = join_parts(parts, gaps, rate)
            if len(joined) == 0:
                return [Result() for _ in range(n)]
            tr = self._asr.transcribe(joined, rate, backend=self.backend, model_dir=self.model_dir)
            red = self._redact.redact_timed(joined, rate, tr.words, margin_ms=self.margin_ms)
            out = []
            for (text, pcm, spans), (a, m) in zip(split_result(red, where, rate), where):
                t0, t1 = a / rate, (a + m) / rate
                audio_spans = [dict(s, t0=round(max(s["t0"], t0) - t0, 3), t1=round(min(s["t1"], t1) - t0, 3))
                               for s in red.audio_spans if s["t0"] < t1 and t0 < s["t1"]]
                out.append(Result(tr.backend, text, pcm, self._redact.audit_record(spans, audio_spans),
                                  turn=red, part=(a, m)))
            return out
        except Exception as e:  # fail closed: nothing of this turn is released
            log.warning("turn processing failed: %s", type(e).__name__)
            err = f"transcription/redaction failed ({type(e).__name__}); utterance withheld"
            return [Result(error=err) for _ in range(n)]
