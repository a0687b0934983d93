"""Turn-level processing (host_tools/turns.py, pipeline.Pipeline.process_turn, the Listener's use of them) and the
fail-closed guarantees of the listener: a pipeline that raises releases nothing of its turn.

No board and no ASR model are needed: the Listener is fed protocol messages by hand, and the recogniser is replaced by
a fake that "hears" a known text with word times, so these tests run everywhere and fast."""
import types

import numpy as np
import pytest

from hushmic import pipeline as pl
from hushmic.listen import Listener, Utterance
from hushmic.protocol import Message
from hushmic.turns import TurnAssembler

RATE = 16000


# ---------------------------------------------------------------------------------------------- TurnAssembler
def _utt(start, end, board="b", truncated=False, seg=[0]):
    seg[0] += 1
    u = Utterance(board, seg[0], int(round(start * 100)), 0.0)
    u.end_fno = int(round(end * 100))
    u.truncated = truncated
    return u


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_segments_a_short_pause_apart_form_one_turn_and_a_long_pause_closes_it():
    closed = []
    ta = TurnAssembler(closed.append, gap_s=1.0, clock=Clock())
    ta.add(_utt(0.0, 2.0))
    ta.add(_utt(2.6, 4.0))      # 0.6 s pause: same turn
    assert closed == [] and len(ta.pending("b").segments) == 2
    ta.tick("b", 4.9)           # 0.9 s of silence on the board's timeline: still open
    assert closed == []
    ta.tick("b", 5.0)           # 1.0 s: closed
    assert [len(t.segments) for t in closed] == [2] and ta.pending("b") is None
    ta.add(_utt(7.0, 8.0))
    ta.segment_starting("b", 9.5)  # the next segment starts 1.5 s later: the open turn closes first
    assert [len(t.segments) for t in closed] == [2, 1]


def test_a_truncated_segment_closes_its_turn_and_boards_are_separate():
    closed = []
    ta = TurnAssembler(closed.append, gap_s=1.0, clock=Clock())
    ta.add(_utt(0.0, 1.0, board="a"))
    ta.add(_utt(0.0, 1.0, board="b"))
    ta.add(_utt(1.2, 2.0, board="a", truncated=True))  # cut by a mute: nothing after it may join
    assert [(t.board, len(t.segments)) for t in closed] == [("a", 2)]
    ta.close_all()
    assert [(t.board, len(t.segments)) for t in closed] == [("a", 2), ("b", 1)]


def test_the_host_clock_closes_a_turn_when_the_board_goes_quiet():
    closed, clock = [], Clock()
    ta = TurnAssembler(closed.append, gap_s=1.0, clock=clock)
    ta.add(_utt(0.0, 1.0))
    clock.t += 0.99
    ta.tick_wall()
    assert closed == []
    clock.t += 0.02
    ta.tick_wall()
    assert len(closed) == 1


def test_a_turn_closes_at_its_maximum_length():
    closed = []
    ta = TurnAssembler(closed.append, gap_s=1.0, max_s=10.0, clock=Clock())
    for k in range(4):
        ta.add(_utt(k * 4.0, k * 4.0 + 3.5))  # 3.5 s segments 0.5 s apart
    assert [len(t.segments) for t in closed] == [2]  # the third would have made 10.5 s
    assert all(t.audio_s() <= 10.0 for t in closed)


# ---------------------------------------------------------------------------------------------- Pipeline.process_turn
def _tone(seconds, hz=300.0, level=8000):
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


class FakeASR:
    """Hears `text` in whatever audio it is given: word k at starts[k] (default one every 0.2 s), 0.15 s long."""

    def __init__(self, text, starts=None):
        self.text = text
        self.starts = starts or [0.05 + 0.2 * k for k in range(len(text.split()))]
        self.calls = []

    def transcribe(self, pcm, rate, backend=None, **kw):
        from hushmic.asr.base import Word, make_transcript
        self.calls.append(len(pcm))
        words = [Word(w, t, t + 0.15, 0.95) for w, t in zip(self.text.split(), self.starts)]
        return make_transcript("fake", words)


def _pipeline(text, starts=None, **kw):
    p = pl.Pipeline(**kw)
    p._asr = FakeASR(text, starts)
    return p


def test_a_cue_in_one_segment_covers_the_value_in_the_next():
    # "my pin is" | pause | "four two": alone, the second segment has no cue and "four two" stays readable
    text = "my pin is four two"
    part1, part2 = _tone(0.65), _tone(0.5)
    gap = 0.8
    from hushmic.redact import redact_text
    assert redact_text("four two") == []  # the premise: without its cue the value is not found
    # joined: part 1 is 0-0.65 s, then 0.3 s of silence, part 2 from 0.95 s: "four two" is heard in part 2
    p = _pipeline(text, [0.05, 0.25, 0.45, 1.0, 1.2])
    r1, r2 = p.process_turn([part1, part2], [0.0, gap])
    assert p._asr.calls == [len(part1) + int(pl.JOIN_GAP_MAX_S * RATE) + len(part2)]  # one ASR run for the turn
    assert r1.text_redacted == "my pin is" and r2.text_redacted == "[PASSWORD]"
    assert r1.backend == r2.backend == "fake"
    # each part's audio comes from the turn's redacted audio: part 2 is bleeped, part 1 untouched
    assert len(r1.redacted_pcm) == len(part1) and len(r2.redacted_pcm) == len(part2)
    np.testing.assert_array_equal(r1.redacted_pcm, part1)
    assert not np.array_equal(r2.redacted_pcm, part2)
    assert r2.audit["categories"] == {"PASSWORD": 1} and r1.audit["entities"] == 0


def test_process_turn_fails_closed_on_any_error():
    p = _pipeline("anything")

    def boom(*a, **k):
        raise RuntimeError("model exploded")
    p._asr.transcribe = boom
    res = p.process_turn([_tone(0.5), _tone(0.5)], [0.0, 0.3])
    assert len(res) == 2 and all(r.error and r.text_redacted is None and r.redacted_pcm is None for r in res)


# ---------------------------------------------------------------------------------------------- Listener
class RaisingPipeline:
    def process_turn(self, parts, gaps=None, rate=16000):
        raise RuntimeError("boom")

    def process(self, pcm, rate=16000):
        raise RuntimeError("boom")


class ErrorPipeline:
    def process_turn(self, parts, gaps=None, rate=16000):
        return [pl.Result(error="transcription/redaction failed (X); utterance withheld") for _ in parts]


class FakeStore:
    def __init__(self):
        self.added = []

    def open_session(self, board, info):
        return "s1"

    def add_utterance(self, *a, **kw):
        self.added.append((a, kw))
        return "u%d" % len(self.added)

    def add_mute(self, *a):
        pass

    def close_session(self, *a):
        pass


def _listener(pipeline, store=None, gap=1.0, save_len=None):
    events = []
    lst = Listener([("sim0", "/nonexistent/port", lambda: 0.0, None)], events.append, pipeline=pipeline,
                   store=store, save_audio_len=save_len, turn_gap_s=gap)
    b = lst.boards["sim0"]
    b.reader.request = lambda *a, **k: False  # never started: nothing to send to
    lst.handle(b, Message("connected", 0, 0, {"hello": {"firmware": "t", "muted": False}, "offset": 0.0}))
    return lst, b, events


def _speak(lst, b, start_fno, n_frames, level=6000):
    lst.handle(b, Message("segment_start", 0, 0, {"fno": start_fno}))
    for k in range(n_frames):
        lst.handle(b, Message("audio", 0, 0, {"fno": start_fno + k, "samples": np.full(160, level, np.int16)}))
    lst.handle(b, Message("segment_end", 0, 0, {"fno": start_fno + n_frames, "truncated": False}))


@pytest.mark.parametrize("pipeline", [RaisingPipeline(), ErrorPipeline()], ids=["raises", "returns-error"])
def test_a_failing_pipeline_releases_nothing_of_its_turn(pipeline):
    store = FakeStore()
    lst, b, events = _listener(pipeline, store=store, save_len=5 * RATE)
    _speak(lst, b, 10, 50)
    _speak(lst, b, 80, 50)   # 0.3 s later: the same turn
    lst.shutdown()
    kinds = [e["event"] for e in events]
    assert "transcript" not in kinds
    assert any(e["event"] == "error" for e in events)
    assert store.added == []                       # nothing stored, not even raw audio
    assert not lst.audio_out.any()                 # nothing written to --save-audio


def test_no_transcript_before_the_turn_closes_and_each_segment_gets_its_part():
    p = _pipeline("my pin is four two", [0.05, 0.25, 0.45, 1.0, 1.2])
    lst, b, events = _listener(p, gap=1.0)
    _speak(lst, b, 0, 65)      # "my pin is"
    _speak(lst, b, 145, 50)    # 0.8 s later: "four two"
    lst.pump(0.01)
    for f in lst.pending:
        f.result(timeout=10)
    assert [e for e in events if e["event"] == "transcript"] == []  # the turn is still open
    assert lst.turns.pending("sim0") is not None
    lst.handle(b, Message("heartbeat", 0, 0, {"uptime_ms": 3000, "frames_sent": 115, "noise_floor": 0, "state": 0}))
    lst.pump(0.01)   # 1 s of board time after the last segment: the turn closes
    lst.shutdown()
    tr = [e for e in events if e["event"] == "transcript"]
    assert [(e["segment"], e["text"]) for e in tr] == [(1, "my pin is"), (2, "[PASSWORD]")]


def test_no_transcribe_stores_no_audio_under_a_redacted_name():
    store = FakeStore()
    lst, b, events = _listener(None, store=store)
    _speak(lst, b, 0, 30)
    lst.shutdown()
    [(args, kw)] = store.added
    assert kw["redacted_pcm"] is None and kw["text_redacted"] is None and kw["raw_pcm"] is not None


def test_a_mute_closes_the_turn():
    p = _pipeline("hello there")
    lst, b, events = _listener(p, gap=5.0)
    _speak(lst, b, 0, 30)
    assert lst.turns.pending("sim0") is not None
    lst.handle(b, Message("mute", 0, 0, {"fno": 40, "muted": True, "mic_silent": True}))
    assert lst.turns.pending("sim0") is None
    lst.shutdown()
    assert [e["segment"] for e in events if e["event"] == "transcript"] == [1]


def test_seven_digits_with_no_cue_are_redacted_end_to_end():
    p = _pipeline("so that's four one five two two nine eight thanks")
    res = p.process(_tone(2.0))
    assert res.text_redacted.count("[") == 1 and not any(
        w in res.text_redacted for w in ("one", "two", "four", "five", "nine", "eight"))


def test_a_session_that_vanishes_is_reopened_and_nothing_is_dropped():
    from hushmic.store import SessionGone

    class VanishingStore(FakeStore):
        opened = 0

        def open_session(self, board, info):
            self.opened += 1
            return f"s{self.opened}"

        def add_utterance(self, sid, *a, **kw):
            if sid == "s1":
                raise SessionGone(sid)
            return super().add_utterance(sid, *a, **kw)

    store = VanishingStore()
    lst, b, events = _listener(None, store=store)
    _speak(lst, b, 0, 30)
    lst.shutdown()
    assert store.opened == 2 and len(store.added) == 1
    assert any(e["event"] == "error" and "vanished" in e["message"] for e in events)


def test_a_fast_simulated_board_closes_turns_only_on_its_own_timeline():
    p = _pipeline("hello there")
    lst, b, events = _listener(p, gap=1.0)
    lst.realtime = False
    _speak(lst, b, 0, 30)
    lst.turns.open["sim0"].last_end_wall -= 60   # the host was busy for a minute: says nothing about the board's pause
    lst.pump(0.01)
    assert lst.turns.pending("sim0") is not None
    lst.realtime = True                          # a real-time board: the host's clock counts
    lst.pump(0.01)
    assert lst.turns.pending("sim0") is None
    lst.shutdown()


def test_no_raw_audio_is_saved_when_transcription_was_wanted_but_is_unavailable():
    # ASR missing: the listener runs without a pipeline, but the user asked for redacted audio: none is released
    lst, b, events = _listener(None, save_len=2 * RATE)
    lst.release_raw = False
    _speak(lst, b, 10, 30)
    lst.shutdown()
    assert not lst.audio_out.any()
    # --no-transcribe: the user asked for the received audio as it is
    lst, b, events = _listener(None, save_len=2 * RATE)
    assert lst.release_raw is True
    _speak(lst, b, 10, 30)
    lst.shutdown()
    assert lst.audio_out.any()


def test_a_store_that_fails_is_counted_so_listen_does_not_exit_0():
    class BrokenStore(FakeStore):
        def add_utterance(self, *a, **kw):
            raise OSError("disk full")

    lst, b, events = _listener(None, store=BrokenStore())
    _speak(lst, b, 0, 30)
    lst.shutdown()
    assert lst.store_failures == 1
    assert any(e["event"] == "error" and "not saved" in e["message"] for e in events)
