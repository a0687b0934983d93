"""Shared types of the ASR layer: one word with its time span, one transcript, and the backend errors.

Every backend returns words in *spoken form* (`../shared/eval/pii/README.md`): lowercase, no digits, no punctuation
except the apostrophe, one whitespace-free token per Word. `Transcript.text` is the words joined by single spaces, so a
character offset into `text` maps to a word by position (see `word_at_char`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import HushmicError


@dataclass
class Word:
    word: str            # one spoken-form token, no whitespace
    t0: float            # start, seconds from the start of the audio
    t1: float            # end, seconds
    confidence: float    # 0..1 (the recogniser's word probability)
    aligned: bool = True  # False: the time span is a fail-closed estimate (e.g. the gap between aligned neighbours)


@dataclass
class Transcript:
    backend: str                  # which backend ran: "whisper", "pocketsphinx", "vosk"
    words: list = field(default_factory=list)
    text: str = ""                # == " ".join(w.word for w in words)
    warning: str = None           # set when the default chain fell back (why, and the fix): never quietly worse

    def __post_init__(self):
        if not self.text and self.words:
            self.text = " ".join(w.word for w in self.words)

    def to_json(self, with_aligned=False):
        """The `hushmic transcribe --json` object (docs/cli.md)."""
        words = []
        for w in self.words:
            d = {"word": w.word, "t0": round(float(w.t0), 3), "t1": round(float(w.t1), 3),
                 "confidence": round(float(w.confidence), 3)}
            if with_aligned:
                d["aligned"] = bool(w.aligned)
            words.append(d)
        out = {"backend": self.backend, "text": self.text, "words": words}
        if self.warning:
            out["asr_warning"] = self.warning
        return out

    def word_spans(self):
        """(start, end) character offsets of each word in `text`."""
        spans, pos = [], 0
        for w in self.words:
            spans.append((pos, pos + len(w.word)))
            pos += len(w.word) + 1
        return spans

    def word_at_char(self, offset):
        """Index of the word containing character `offset` of `text` (a space belongs to the word before it)."""
        pos = 0
        for i, w in enumerate(self.words):
            end = pos + len(w.word)
            if offset <= end:
                return i
            pos = end + 1
        return len(self.words) - 1 if self.words else None


class BackendUnavailable(HushmicError):
    """The backend cannot run here (package not installed, no verified model): exit 1 with the reason."""


def make_transcript(backend, words):
    words = [w for w in words if w.word]
    return Transcript(backend=backend, words=words, text=" ".join(w.word for w in words))
