"""Status and config commands: fields, a valid change (acked, visible in status), invalid ones refused unchanged."""
import json

import pytest
from hiltools import CMD, ack_for, error_for, read_until, reply_to, status

from hushmic.protocol import wire


@pytest.fixture
def conn(board):
    c = board.connect()
    before = status(c)["config"]
    yield c
    c.send("config", {"sensitivity": before["sensitivity"], "codec": before["codec"]})  # leave the board as found
    read_until(c, reply_to(CMD["config"]), 3)


def test_status_fields(conn):
    st = status(conn)
    for k in ("state", "streaming", "muted", "mic_silent", "uptime_ms", "config", "frames_captured", "frames_sent",
              "drops", "overruns", "rx_errors"):
        assert k in st, k
    assert st["state"] in wire.STATE_NAMES
    assert set(st["config"]) >= {"shift", "sensitivity", "preroll_ms", "hangover_ms", "codec"}
    assert st["config"]["preroll_ms"] >= 250  # onsets are never clipped


def test_config_change_is_acked_and_applied(conn, board):
    if status(conn)["muted"]:
        pytest.skip("the board is muted: config is refused while the switch is on (turn it off)")
    cur = status(conn)["config"]["sensitivity"]
    new = 7 if cur != 7 else 3
    conn.send("config", {"sensitivity": new})
    m = read_until(conn, reply_to(CMD["config"]), 5)
    assert m is not None and m.kind == "ack", m
    assert json.loads(bytes(m.fields["data"]))["sensitivity"] == new
    assert status(conn)["config"]["sensitivity"] == new


@pytest.mark.parametrize("bad", [{"bogus": 1}, {"sensitivity": 99}, {"sensitivity": "high"}, {"codec": "mp3"},
                                 {"sensitivity": 2, "preroll_ms": -5}])
def test_bad_config_is_refused_and_changes_nothing(conn, bad):
    before = status(conn)["config"]
    conn.send("config", bad)
    m = read_until(conn, reply_to(CMD["config"]), 5)
    assert m is not None and m.kind == "error" and m.fields["code"] in (wire.ERR_BAD_ARG, wire.ERR_MUTED), m
    assert status(conn)["config"] == before


def test_bad_json_is_refused(conn):
    before = status(conn)["config"]
    conn.send("config", b"{not json")
    assert read_until(conn, error_for(CMD["config"]), 5) is not None
    assert status(conn)["config"] == before


def test_start_and_stop_are_acked(conn):
    if status(conn)["muted"]:
        pytest.skip("the board is muted")
    conn.send("start")
    assert read_until(conn, ack_for(CMD["start"]), 5) is not None
    assert status(conn)["streaming"] is True
    conn.send("stop")
    assert read_until(conn, ack_for(CMD["stop"]), 5) is not None
    assert status(conn)["streaming"] is False
