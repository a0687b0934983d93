"""Reconnect after a board reset: `hushmic listen`'s Listener notices, saves the cut utterance as truncated,
reconnects with backoff, and the next utterances arrive. Simulated board: the VM is killed and restarted (cable
pulled); real board: you press RESET or replug the cable."""
import time

import pytest

from hushmic.listen import Listener


@pytest.mark.realtime
def test_reconnect_after_reset(board):
    evs = []
    lst = Listener([("hil", board.port, None, None)], evs.append)
    b = lst.boards["hil"]
    try:
        lst.start()
        end = time.monotonic() + 15
        while time.monotonic() < end and not b.connected:
            lst.pump(0.05)
        assert b.connected, "no first connection"
        if not board.is_sim:
            board.play_known_audio()
        end = time.monotonic() + (10 if board.is_sim else board.timeout)
        while time.monotonic() < end and b.utt is None:  # reset in the middle of an utterance
            lst.pump(0.02)
        lst.pump(0.3)
        in_utterance = b.utt is not None
        board.reset()
        end = time.monotonic() + (15 if board.is_sim else board.timeout)
        while time.monotonic() < end and b.connects < 2:
            lst.pump(0.05)
        assert b.connects == 2, "did not reconnect"
        if not board.is_sim:
            board.play_known_audio()
        n_before = sum(1 for e in evs if e["event"] == "segment_start")
        end = time.monotonic() + (15 if board.is_sim else board.timeout)
        while time.monotonic() < end and sum(1 for e in evs if e["event"] == "segment_start") == n_before:
            lst.pump(0.05)
    finally:
        lst.shutdown()
    kinds = [e["event"] for e in evs]
    assert kinds.count("hello") == 2
    second_hello = max(i for i, k in enumerate(kinds) if k == "hello")
    assert "segment_start" in kinds[second_hello + 1:], "no utterance after the reconnect"
    if in_utterance:
        cut = [e for e in evs[:second_hello + 1] if e["event"] == "segment_end"]
        assert cut and cut[-1]["truncated"] is True, "the utterance cut by the reset was not saved as truncated"
