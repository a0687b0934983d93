"""What happens to one utterance on the host: ASR (word timings) -> redaction of text and audio.

`listen` runs this in a worker thread so the serial reader never waits for it. It fails closed: if redaction is
unavailable or raises, no transcript text and no audio are released, only the fact that it failed.
"""
import logging
from dataclasses import dataclass, field

log = logging.getLogger("hushmic.pipeline")


@dataclass
class Result:
    backend: str = None
    text_redacted: str = None
    redacted_pcm: object = None
    audit: dict = field(default_factory=dict)
    error: str = None


class Pipeline:
    def __init__(self, backend=None, margin_ms=100, transcribe=True):
        self.backend = backend
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
        if not self.enabled or len(pcm) == 0:
            return Result()
        try:
            tr = self._asr.transcribe(pcm, rate, backend=self.backend)
            spans = self._redact.redact_text(tr.text)
            text = self._redact.apply_tags(tr.text, spans)
            out, audio_spans = self._redact.redact_audio(pcm, rate, tr.words, spans, margin_ms=self.margin_ms)
            audit = self._redact.audit_record(spans, audio_spans)
            return Result(tr.backend, text, out, audit)
        except Exception as e:  # fail closed: nothing of this utterance is released
            log.warning("utterance processing failed: %s", type(e).__name__)
            return Result(error=f"transcription/redaction failed ({type(e).__name__}); utterance withheld")
