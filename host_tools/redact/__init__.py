"""hushmic.redact: find personal data in spoken-form transcripts and remove it from text and audio.

    redact_text(text) -> [Span]                  sorted, non-overlapping, on whitespace-token boundaries
    apply_tags(text, spans) -> str               each span replaced by "[TYPE]"
    redact_audio(pcm, rate, words, spans, margin_ms=100, mode="tone") -> (out_pcm, audio_spans)
    audit_record(spans, audio_spans=None) -> dict   categories, counts and times only, never values
    redact_timed(pcm, rate, words, margin_ms=100) -> TimedRedaction   text + fail-closed doubt spans -> tags and audio

The detector is a registry of recognizers, one module per entity family (see recognizers/); no network, no models.
"""
import re
from dataclasses import dataclass

from .recognizers import ENTITY_TYPES, analyze


_LINE_BREAK = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class Span:
    start: int  # char offset into the text
    end: int  # exclusive
    type: str
    score: float = 1.0


def redact_text(text, min_score=0.5):
    """Spans of personal data in `text`: sorted, non-overlapping, each covering whole whitespace tokens."""
    if not isinstance(text, str):
        raise TypeError("redact_text expects a str")
    doc, results = analyze(text)
    if not results:
        return []
    # every token goes to the best-scoring finding that covers it (longer wins a tie)
    best = [None] * doc.n
    for r in sorted(results, key=lambda r: (r.score, r.j - r.i)):
        if r.score < min_score:
            continue
        for k in range(max(0, r.i), min(doc.n, r.j)):
            best[k] = r
    spans = []
    k = 0
    while k < doc.n:
        r = best[k]
        if r is None:
            k += 1
            continue
        m = k
        while m + 1 < doc.n and best[m + 1] is r and not _LINE_BREAK.search(text, doc.ends[m], doc.starts[m + 1]):
            m += 1  # a span never takes a line break: tags keep the text's lines
        spans.append(Span(doc.starts[k], doc.ends[m], r.type, round(float(r.score), 3)))
        k = m + 1
    return spans


def apply_tags(text, spans):
    """Replace each span with "[TYPE]". Spans may come in any order; overlapping ones are merged first."""
    out, pos = [], 0
    for s in _normalise(spans):
        if s.start < pos:
            continue
        out.append(text[pos:s.start])
        out.append(f"[{s.type}]")
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _normalise(spans):
    res = []
    for s in spans:
        if isinstance(s, dict):
            s = Span(int(s["start"]), int(s["end"]), str(s["type"]), float(s.get("score", 1.0)))
        res.append(s)
    return sorted(res, key=lambda s: (s.start, -s.end))


from .audio import audit_record, redact_audio  # noqa: E402  (audio needs Span)
from .timed import TimedRedaction, redact_timed  # noqa: E402

__all__ = ["Span", "redact_text", "apply_tags", "redact_audio", "audit_record", "redact_timed", "TimedRedaction",
           "ENTITY_TYPES"]
