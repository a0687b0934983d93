"""Redaction of a timed transcript: one set of spans decides both what the text hides and what the audio bleeps.

    red = redact_timed(pcm, rate, words, margin_ms=100, mode="tone")
    red.text, red.spans, red.redacted, red.pcm, red.audio_spans, red.audit()

The spans are the text detector's (`redact_text`) plus the fail-closed doubt spans (doubt.py), merged so they do not
overlap. The same spans give the `[TYPE]` tags and the bleeped audio, so a word is never hidden in one and kept in the
other. `listen` (per turn, pipeline.py), `redact` and the other file commands all go through here.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class TimedRedaction:
    words: list
    text: str
    spans: list                 # Span, sorted, non-overlapping, character offsets into text
    redacted: str               # text with each span replaced by [TYPE]
    pcm: np.ndarray             # the bleeped audio, the input's length
    audio_spans: list = field(default_factory=list)  # {"type", "t0", "t1", "start", "end"} per redacted stretch

    def word_offsets(self):
        from .audio import word_offsets
        return word_offsets(self.words)

    def span_index_per_word(self):
        """For each word, the index into `spans` of the span that covers it, or None."""
        out = []
        offs = self.word_offsets()
        i = 0
        for a, b in offs:
            while i < len(self.spans) and self.spans[i].end <= a:
                i += 1
            out.append(i if i < len(self.spans) and self.spans[i].start < b else None)
        return out

    def audit(self):
        from .audio import audit_record
        return audit_record(self.spans, self.audio_spans)


def merge_spans(spans, text, span_cls):
    """Sorted, non-overlapping spans: overlapping ones, and same-type ones only white space apart, become one (the type
    of the first, which for equal starts is the text detector's)."""
    out = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if out:
            p = out[-1]
            if s.start < p.end or (s.type == p.type and not text[p.end:s.start].strip()):
                if s.end > p.end:
                    out[-1] = span_cls(p.start, s.end, p.type, max(p.score, s.score))
                continue
        out.append(s)
    return out


def redact_timed(pcm, rate, words, margin_ms=100, mode="tone"):
    from . import Span, apply_tags, redact_text
    from .audio import redact_audio
    from .doubt import doubt_spans

    words = list(words or [])
    text = " ".join(w.word for w in words)
    found = redact_text(text)
    spans = merge_spans(found + doubt_spans(words, found, Span), text, Span)
    out, audio_spans = redact_audio(pcm, rate, words, spans, margin_ms=margin_ms, mode=mode)
    return TimedRedaction(words, text, spans, apply_tags(text, spans), out, audio_spans)
