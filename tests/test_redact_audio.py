"""Audio redaction on a committed synthesised sentence with a phone number (tests/fixtures/redact/README.md)."""
import json
import types
import wave
from pathlib import Path

import numpy as np
import pytest

from hushmic.redact import audit_record, redact_audio, redact_text, redact_timed
from hushmic.redact.audio import SURE_MARGIN_MS

FIX = Path(__file__).resolve().parent / "fixtures" / "redact"


class W:  # the hushmic.asr Word shape, built by hand so this test needs no ASR backend
    def __init__(self, word, t0, t1, confidence=1.0, aligned=True):
        self.word, self.t0, self.t1, self.confidence, self.aligned = word, t0, t1, confidence, aligned


@pytest.fixture(scope="module")
def fixture():
    meta = json.loads((FIX / "phone_sentence.json").read_text())
    with wave.open(str(FIX / "phone_sentence.wav")) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    words = [W(d["word"], d["t0"], d["t1"], d["confidence"]) for d in meta["words"]]
    return meta, pcm, words


def rms(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def seg(x, t0, t1, rate=16000):
    return x[int(t0 * rate):int(t1 * rate)]


def pii_window(meta):
    a, b = meta["pii"]["words"]
    return meta["words"][a]["t0"], meta["words"][b - 1]["t1"]


def test_phone_number_audio_is_removed_and_the_rest_kept(fixture):
    meta, pcm, words = fixture
    text = " ".join(w.word for w in words)
    assert text == meta["text"]
    spans = redact_text(text)
    assert [(text[s.start:s.end], s.type) for s in spans] == [("five five five one two three four", "PHONE")]
    for mode in ("silence", "tone"):
        out, aspans = redact_audio(pcm, 16000, words, spans, margin_ms=100, mode=mode)
        assert out.dtype == np.int16 and len(out) == len(pcm)
        t0, t1 = pii_window(meta)
        assert len(aspans) == 1 and aspans[0]["type"] == "PHONE"
        # the fixture's words are aligned and confidently heard: their timing is sure, so the margin is the tight one
        sure = SURE_MARGIN_MS / 1000.0
        assert aspans[0]["t0"] == pytest.approx(t0 - sure, abs=1e-3) and aspans[0]["t1"] == pytest.approx(t1 + sure, abs=1e-3)
        assert text[aspans[0]["start"]:aspans[0]["end"]] == "five five five one two three four"
        orig, red = seg(pcm, t0, t1), seg(out, t0, t1)
        assert rms(orig) > 300  # there was speech to remove
        if mode == "silence":
            assert rms(red) < 1.0
        else:
            # the output inside the span is the tone, with nothing of the original speech left in it
            tone_free = red.astype(np.float64)
            o = orig.astype(np.float64) - orig.mean()
            corr = abs(float(np.dot(tone_free - tone_free.mean(), o))) / (np.linalg.norm(tone_free) * np.linalg.norm(o))
            assert corr < 0.05
            spec = np.abs(np.fft.rfft(red.astype(np.float64)))
            assert abs(np.argmax(spec) * 16000 / len(red) - 1000) < 20
        # every non-PII word is untouched, sample for sample
        a, b = meta["pii"]["words"]
        for k, w in enumerate(meta["words"]):
            if not a <= k < b:
                np.testing.assert_array_equal(seg(out, w["t0"], w["t1"]), seg(pcm, w["t0"], w["t1"]))
                assert rms(seg(out, w["t0"], w["t1"])) > 100


def test_unaligned_pii_word_fails_closed(fixture):
    meta, pcm, words = fixture
    words = [W(w.word, w.t0, w.t1, w.confidence, w.aligned) for w in words]
    # the middle digit could not be timed: the recogniser's guess is wrong (points at "please")
    words[7].aligned = False
    words[7].t0, words[7].t1 = 0.3, 0.4
    text = " ".join(w.word for w in words)
    out, aspans = redact_audio(pcm, 16000, words, redact_text(text), margin_ms=100, mode="silence")
    # bleeped from the end of the last aligned word before it to the start of the next aligned word after it
    assert rms(seg(out, words[6].t1, words[8].t0)) < 1.0
    np.testing.assert_array_equal(seg(out, 0.3, 0.4), seg(pcm, 0.3, 0.4))  # the bogus time is not trusted either


def test_missing_times_fail_closed(fixture):
    meta, pcm, words = fixture
    words = [W(w.word, w.t0, w.t1) for w in words]
    words[4].t0 = words[4].t1 = None
    text = " ".join(w.word for w in words)
    out, _ = redact_audio(pcm, 16000, words, redact_text(text), mode="silence")
    assert rms(seg(out, words[3].t1, words[5].t0)) < 1.0


def test_uncertain_timing_gets_the_full_margin(fixture):
    meta, pcm, words = fixture
    ws = [W(w.word, w.t0, w.t1, w.confidence) for w in words]
    a, b = meta["pii"]["words"]
    ws[a].confidence = 0.2  # the first digit was barely heard: its aligned time is not to be trusted
    text = " ".join(w.word for w in ws)
    _, aspans = redact_audio(pcm, 16000, ws, redact_text(text), margin_ms=100)
    assert aspans[0]["t0"] == pytest.approx(ws[a].t0 - 0.1, abs=1e-3)
    assert aspans[0]["t1"] == pytest.approx(ws[b - 1].t1 + SURE_MARGIN_MS / 1000.0, abs=1e-3)
    # and without sure margins every word gets margin_ms
    _, aspans = redact_audio(pcm, 16000, words, redact_text(text), margin_ms=100, sure_margin_ms=None)
    assert aspans[0]["t1"] == pytest.approx(ws[b - 1].t1 + 0.1, abs=1e-3)


def test_low_confidence_stretch_after_a_cue_is_redacted_in_text_and_audio(fixture):
    meta, pcm, words = fixture
    # the recogniser heard the number as words the detector cannot read, with low confidence
    garbled = ["please", "call", "me", "at", "fight", "fife", "fire", "won", "chew", "tree", "floor", "tomorrow",
               "morning"]
    ws = [W(g, w.t0, w.t1, 0.3 if 4 <= k < 11 else 0.95) for k, (g, w) in enumerate(zip(garbled, words))]
    assert redact_text(" ".join(w.word for w in ws)) == []  # the text detector alone sees nothing
    red = redact_timed(pcm, 16000, ws, mode="silence")
    t0, t1 = pii_window(meta)
    assert rms(seg(red.pcm, t0, t1)) < 1.0
    assert red.audio_spans and all(a["type"] == "PHONE" for a in red.audio_spans)
    np.testing.assert_array_equal(seg(red.pcm, ws[11].t0, ws[11].t1), seg(pcm, ws[11].t0, ws[11].t1))
    # the text hides exactly what the audio bleeps
    assert red.redacted == "please call me at [PHONE] tomorrow morning"


def test_ramps_no_clicks():
    rate = 16000
    t = np.arange(rate) / rate
    pcm = (10000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16)
    words = [W("my", 0.0, 0.2), W("pin", 0.25, 0.4), W("is", 0.45, 0.5), W("four", 0.55, 0.7), W("two", 0.72, 0.8)]
    spans = redact_text("my pin is four two")
    for mode in ("silence", "tone"):
        out, _ = redact_audio(pcm, rate, words, spans, margin_ms=20, mode=mode)
        max_step_in = np.max(np.abs(np.diff(pcm.astype(np.int32))))
        max_step_out = np.max(np.abs(np.diff(out.astype(np.int32))))
        assert max_step_out <= max(max_step_in, 2 * np.pi * 1000 / rate * 0.2 * 32767) * 1.2


def test_audit_record_has_no_values(fixture):
    meta, pcm, words = fixture
    text = " ".join(w.word for w in words)
    spans = redact_text(text)
    _, aspans = redact_audio(pcm, 16000, words, spans)
    rec = audit_record(spans, aspans)
    blob = json.dumps(rec)
    assert rec["categories"] == {"PHONE": 1} and rec["entities"] == 1 and rec["audio"]["stretches"] == 1
    for w in ("five", "one", "two", "three", "four"):
        assert w not in blob
    assert '"start"' not in blob and '"end"' not in blob


def test_redact_command_writes_audio_and_json(fixture, tmp_path, monkeypatch, capsys):
    """`hushmic redact` end to end, with the recogniser replaced by the fixture's known words."""
    from hushmic import asr
    from hushmic.cli import main

    meta, pcm, words = fixture

    def fake(x, rate=16000, backend=None, **kw):   # a turn (frame-aligned cut of the file): the fixture's words in it
        a = next(k for k in range(0, len(pcm) - len(x) + 1, 160) if np.array_equal(pcm[k:k + len(x)], x))
        dt = a / 16000
        ws = [type(w)(w.word, w.t0 - dt, w.t1 - dt, w.confidence, w.aligned) for w in words
              if 0 <= w.t0 - dt and w.t1 - dt <= len(x) / 16000]
        return types.SimpleNamespace(backend="fixture", words=ws, text=" ".join(w.word for w in ws))
    monkeypatch.setattr(asr, "transcribe", fake)
    out = tmp_path / "out.wav"
    rc = main(["redact", str(FIX / "phone_sentence.wav"), "--out", str(out), "--json", "--mode", "silence"])
    assert rc == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["backend"] == "fixture" and obj["text"] == meta["text"] and obj["margin_ms"] == 100
    assert obj["redacted"] == "please call me at [PHONE] tomorrow morning"
    [s] = obj["spans"]
    assert set(s) == {"type", "t0", "t1", "start", "end"} and s["type"] == "PHONE"
    with wave.open(str(out)) as w:
        assert w.getframerate() == 16000 and w.getnframes() == len(pcm)
        red = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    t0, t1 = pii_window(meta)
    assert rms(seg(red, t0, t1)) < 1.0


def test_redact_command_bad_input(tmp_path, capsys):
    from hushmic.cli import main

    assert main(["redact", str(tmp_path / "nope.wav"), "--out", str(tmp_path / "o.wav")]) == 2
    assert main(["redact", str(FIX / "phone_sentence.wav"), "--out", str(tmp_path / "o.wav"), "--margin-ms", "-5"]) == 2
