"""The mic stream's timeline (hushmic.wyoming_server.BoardFeed) on a fake clock, without a board: exact zeros between
segments, a segment's pre-roll in place, late audio never dropped, nothing between a mute and its unmute, no burst
after a jump. The real-peer tests (test_wyoming.py) run the same code against the simulated board."""
import numpy as np
import pytest

pytest.importorskip("wyoming")
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402

from hushmic import wyoming_server as ws  # noqa: E402

F = 160  # samples per 10 ms frame


class Feed:
    def __init__(self):
        self.events = []
        self.f = ws.BoardFeed("b", lambda board, ev: self.events.append(ev))
        self.t0 = self.now = 100.0

    def frames(self, k0, n, value=1000):
        for k in range(k0, k0 + n):
            self.f.frame(k, np.full(F, value + (k % 7), dtype=np.int16), self.now)

    def advance(self, seconds, step=0.02, heartbeats=True):
        """Time passes; the board reports its uptime once a second (its heartbeat), as a quiet board does."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now += step
            k = round((self.now - self.t0) * 100)
            if heartbeats and k % 100 == 0:
                self.f.heartbeat(k, self.now)
            self.f.fill(self.now)
            self.f.flush()

    def stream(self):
        """({timeline frame (10 ms) -> the value of its first sample} for every frame sent, event kinds in order)"""
        out, kinds = {}, []
        for ev in self.events:
            kinds.append(ev.type)
            if AudioChunk.is_type(ev.type):
                c = AudioChunk.from_event(ev)
                x = np.frombuffer(c.audio, dtype="<i2")
                a = round(c.timestamp * 16)  # ms -> samples (chunks are 1024 samples: not on the 10 ms grid)
                assert abs(c.timestamp * 16 - a) <= 8
                for i in range(len(x)):
                    if (a + i) % F == 0:
                        assert (a + i) // F not in out, "a frame sent twice"
                        out[(a + i) // F] = int(x[i])
        return out, kinds


def test_silence_between_segments_is_exact_zeros_and_the_preroll_fits():
    fd = Feed()
    fd.f.start(fd.now, k=0)
    fd.advance(2.0)                     # 2 s of room silence: zeros go out, 0.6 s behind
    sent, _ = fd.stream()
    assert 200 - 60 - 7 <= max(sent) <= 200 - 60 - 1 and set(sent.values()) == {0}  # (whole 1024-sample chunks)
    # speech detected at frame 200 (now); the board sends its pre-roll (45 frames back) and goes on
    fd.frames(155, 46)
    fd.f.flush(whole=True)
    sent, kinds = fd.stream()
    assert kinds[0] == "audio-start"
    assert [sent[k] for k in range(0, 155)] == [0] * 155          # silence up to the pre-roll, no gap, no overlap
    assert [sent[k] for k in range(155, 201)] == [1000 + k % 7 for k in range(155, 201)]
    assert fd.f.late == 0


def test_late_audio_is_sent_anyway_and_the_lag_grows(caplog):
    fd = Feed()
    fd.f.start(fd.now, k=0)
    fd.advance(3.0)                     # silence sent up to frame 240
    fd.frames(200, 10)                  # audio from 0.4 s before the silence already sent: late
    sent, _ = fd.stream()
    fd.f.flush(whole=True)
    sent, _ = fd.stream()
    assert [sent[k] for k in range(240, 250)] == [1000 + k % 7 for k in range(200, 210)]  # not dropped: appended
    assert fd.f.lag > fd.f.lag0
    assert sum("after the silence for its time was sent" in r.getMessage() for r in caplog.records) == 1


def test_mute_stops_the_stream_and_unmute_restarts_it_at_the_switch_time():
    fd = Feed()
    fd.f.connected = True
    fd.f.start(fd.now, k=0)
    fd.advance(1.0)
    fd.f.on_event({"event": "mute", "t": 1.0, "muted": True}, None, fd.now)
    fd.advance(2.0)
    fd.f.frame(150, np.ones(F, dtype=np.int16), fd.now)  # arriving after the mute: never sent
    fd.f.on_event({"event": "mute", "t": 3.05, "muted": False}, None, fd.now)
    fd.advance(1.0)
    fd.f.flush(whole=True)
    sent, kinds = fd.stream()
    i = kinds.index("audio-stop")
    assert kinds[i + 1:i + 4] == ["hushmic-mute", "hushmic-mute", "audio-start"]
    assert AudioStart.from_event(fd.events[i + 3]).timestamp == 3050
    assert not [k for k in sent if 100 <= k < 305]   # nothing stamped while muted
    assert 305 in sent and fd.f.dropped == 1
    assert AudioStop.is_type(fd.events[i].type)


def test_a_jump_in_the_timeline_skips_ahead_instead_of_a_burst():
    fd = Feed()
    fd.f.start(fd.now, k=0)
    fd.advance(1.0)
    fd.f.heartbeat(1000, fd.now)        # the board says it is 9 s further than we thought
    fd.f.fill(fd.now)
    fd.f.flush(whole=True)
    sent, _ = fd.stream()
    assert len(sent) < 200 and fd.f.jumps == 1 and fd.f.pos == 1000 - fd.f.lag


def test_silence_stops_when_the_board_stops_reporting():
    fd = Feed()
    fd.f.start(fd.now, k=0)
    fd.advance(10.0, heartbeats=False)  # no frame, no heartbeat for 10 s
    sent, _ = fd.stream()
    assert max(sent) < (ws.MAX_EXTRAPOLATE_S - ws.SILENCE_LAG_S) * 100 + 1
