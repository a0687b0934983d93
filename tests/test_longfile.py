"""Long files (host_tools/longfile.py): block resampling, turns cut by the firmware VAD, per-turn fail-closed redaction,
the output on the input's timeline, memory bounded by the turn and not by the file, atomic output, progress."""
import io
import wave

import numpy as np
import pytest

from hushmic import longfile
from hushmic.asr.base import Word, make_transcript
from hushmic.audio_io import resample
from hushmic.pipeline import Pipeline
from test_vad_cli import needs_vm, speechlike, write_wav

PII_WORDS = "my number is five five five one two three four".split()


class FakeAsr:
    """Stands in for hushmic.asr in a real Pipeline: the same words spread over each turn's joined audio.
    fail_at: turn numbers (1-based) whose ASR raises (the pipeline must fail closed over that turn only)."""

    def __init__(self, fail_at=()):
        self.calls = 0
        self.fail_at = set(fail_at)

    def transcribe(self, pcm, rate=16000, backend=None, model_dir=None):
        self.calls += 1
        if self.calls in self.fail_at:
            raise RuntimeError("alignment blew up")
        dur = len(pcm) / rate
        step = (dur - 0.2) / len(PII_WORDS)
        words = [Word(w, round(0.1 + k * step, 3), round(0.1 + (k + 0.9) * step, 3), 0.9)
                 for k, w in enumerate(PII_WORDS)]
        return make_transcript("fake", words)

    def default_backend(self):
        return "fake"


def fake_pipeline(fail_at=()):
    p = Pipeline(backend=None, margin_ms=100)
    p._asr = FakeAsr(fail_at)
    return p


RAMP = 80   # redact.audio fades over 5 ms at each end of a stretch: the original is fully gone inside


def masks(bleeped, n, rate):
    """(removed, inside): the samples of the bleeped stretches, and the same without their fade ramps."""
    removed, inside = np.zeros(n, bool), np.zeros(n, bool)
    ramp = RAMP * rate // 16000
    for a, b in bleeped:
        i, j = int(np.floor(a * rate)), int(np.ceil(b * rate))
        removed[i:j] = True
        inside[i + ramp:j - ramp] = True
    return removed, inside


def bursts(seconds, seed=0):
    """speechlike() bursts repeated: two bursts every 6 s."""
    one = speechlike(seconds=6.0, seed=seed)
    k = int(np.ceil(seconds / 6.0))
    return np.tile(one, k)[: int(seconds * 16000)]


def read(path):
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate(), w.getnchannels()


@pytest.mark.parametrize("rate", [48000, 44100, 22050, 8000])
def test_block_resampling_is_the_whole_file_resampling(rate):
    rng = np.random.default_rng(rate)
    x = rng.normal(0, 3000, rate * 2 + 17).astype(np.int16)
    for block in (777, 12345, len(x)):
        rs = longfile.Resampler(rate, 16000, len(x))
        y = np.concatenate([rs.push(x[a:a + block], a + block >= len(x)) for a in range(0, len(x), block)])
        assert np.array_equal(y, resample(x, rate, 16000)), (rate, block)


@needs_vm
def test_turns_redacted_on_the_input_timeline_and_non_speech_passes(tmp_path):
    x = bursts(30.0)
    wav = write_wav(tmp_path / "in.wav", x)
    out = tmp_path / "out.wav"
    res = longfile.process_file(str(wav), fake_pipeline(), out=str(out), mode="silence", block_s=2.0)
    y, rate, ch = read(out)
    assert (rate, ch, len(y)) == (16000, 1, len(x))
    assert res.turns == 5 and res.turns_failed == 0   # a burst pair 0.9 s apart is one turn; turns 6 s apart
    removed, inside = masks(res.bleeped, len(x), 16000)
    assert removed.any()
    assert np.array_equal(y[~removed], x[~removed])       # everything else is the input, sample for sample
    assert not y[inside].any()                              # silence over every redacted stretch
    # every span lies in a turn's speech (bursts at 1.5-2.7 and 3.6-4.8 s of every 6 s), on the file's timeline
    for s in res.spans:
        k = int(s["t0"] // 6)
        assert 6 * k + 1.0 <= s["t0"] < s["t1"] <= 6 * k + 5.3, s
    assert {s["type"] for s in res.spans} == {"PHONE"}
    assert res.text.count("my number is") == 5 and "[PHONE]" in res.json_redact()["redacted"]
    assert "five" not in res.json_redact()["redacted"]


@needs_vm
def test_a_failed_turn_is_withheld_alone(tmp_path):
    x = bursts(30.0, seed=1)
    wav = write_wav(tmp_path / "in.wav", x)
    out = tmp_path / "out.wav"
    res = longfile.process_file(str(wav), fake_pipeline(fail_at={2}), out=str(out), mode="silence")
    y, _, _ = read(out)
    assert res.turns == 5 and res.turns_failed == 1 and len(res.errors) == 1
    held = [s for s in res.spans if s["type"] == longfile.WITHHELD]
    assert held and all(6.0 <= s["t0"] < s["t1"] <= 12.0 for s in held)     # the second turn, whole
    for h in held:   # each of its segments (the pause between them is not speech and passes)
        a, b = int(h["t0"] * 16000), int(h["t1"] * 16000)
        assert b - a > 16000 and not y[a + RAMP:b - RAMP].any()
    assert res.text.count("my number is") == 4                               # its text is left out
    # the other turns are redacted as usual, not withheld
    assert len({s["start"] for s in res.spans if s["type"] == "PHONE"}) == 4   # one per turn (a span across two segments has two pieces)
    assert np.array_equal(y[:int(5.5 * 16000)][:int(res.spans[0]["t0"] * 16000)],
                          x[:int(res.spans[0]["t0"] * 16000)])


@needs_vm
def test_memory_is_bounded_by_a_turn_not_the_file(tmp_path, monkeypatch):
    """Ten minutes: the audio held at any time stays under one turn's worth plus a block, whatever the length."""
    peak = {"n": 0}
    real_append = longfile._Audio.append

    def append(self, x):
        real_append(self, x)
        peak["n"] = max(peak["n"], self.end - self.base)
    monkeypatch.setattr(longfile._Audio, "append", append)
    x = bursts(600.0, seed=2)
    wav = write_wav(tmp_path / "in.wav", x)
    res = longfile.process_file(str(wav), fake_pipeline(), out=str(tmp_path / "out.wav"))
    assert res.turns == 100
    assert peak["n"] <= 25 * 16000, peak["n"] / 16000     # seconds held, for 600 s of input


@needs_vm
def test_other_rates_and_channels_come_back_at_the_input_rate(tmp_path):
    x16 = bursts(12.0, seed=3)
    x = resample(x16, 16000, 48000)
    st = np.stack([x, x], axis=1).reshape(-1)
    wav = write_wav(tmp_path / "in.wav", st, rate=48000, ch=2)
    out = tmp_path / "out.wav"
    res = longfile.process_file(str(wav), fake_pipeline(), out=str(out), mode="silence")
    y, rate, ch = read(out)
    assert (rate, ch, len(y)) == (48000, 1, len(x)) and res.turns == 2
    removed, inside = masks(res.bleeped, len(x), 48000)
    assert removed.any() and not y[inside].any() and np.array_equal(y[~removed], x[~removed])


@needs_vm
def test_output_is_atomic_when_the_run_dies(tmp_path):
    x = bursts(24.0, seed=4)
    wav = write_wav(tmp_path / "in.wav", x)
    out = tmp_path / "out.wav"
    pipe = fake_pipeline()

    def boom(*a, **k):
        raise KeyboardInterrupt
    pipe._asr.calls = 0
    real = pipe._asr.transcribe
    pipe._asr.transcribe = lambda *a, **k: boom() if pipe._asr.calls >= 2 else real(*a, **k)
    with pytest.raises(KeyboardInterrupt):
        longfile.process_file(str(wav), pipe, out=str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]        # no OUT, no temp file


def test_progress_is_a_bar_on_a_tty_and_lines_otherwise():
    now = [0.0]
    s = io.StringIO()
    p = longfile.Progress("redact x.wav", 600.0, stream=s, tty=True, clock=lambda: now[0])
    for k in range(1, 7):
        now[0] = 10.0 * k
        p.update(100.0 * k)
    p.close()
    out = s.getvalue()
    assert "\r" in out and "[" in out and "ETA" in out and "elapsed" in out and "10.0x real time" in out
    s = io.StringIO()
    now[0] = 0.0
    p = longfile.Progress("redact x.wav", 600.0, stream=s, tty=False, every_s=30.0, clock=lambda: now[0])
    for k in range(1, 61):
        now[0] = float(k)
        p.update(10.0 * k)
    lines = s.getvalue().splitlines()
    assert "\r" not in s.getvalue() and 2 <= len(lines) <= 4 and all("ETA" in x for x in lines)
