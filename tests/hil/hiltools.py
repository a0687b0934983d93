"""Small helpers shared by the HIL tests (imported as `hiltools`; tests/hil is on sys.path via rootdir conftest)."""
import json
import time
from pathlib import Path

from hushmic.protocol import wire

KNOWN_META = json.loads((Path(__file__).resolve().parents[2] / "host_tools" / "data" / "demo.json").read_text())


def read_until(conn, pred, seconds, into=None):
    """Read messages until pred(m) holds (returns m) or `seconds` pass (returns None). All messages go to `into`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for m in conn.read():
            if into is not None:
                into.append(m)
            if pred(m):
                return m
    return None


def ack_for(cmd):
    return lambda m: m.kind == "ack" and m.fields["about"] == cmd


def error_for(cmd, code=None):
    return lambda m: m.kind == "error" and m.fields["about"] == cmd and (code is None or m.fields["code"] == code)


def reply_to(cmd, code=None):
    """An ack or an error about `cmd`."""
    return lambda m: ack_for(cmd)(m) or error_for(cmd, code)(m)


def status(conn, seconds=3.0):
    conn.send("status")
    m = read_until(conn, lambda m: m.kind == "status", seconds)
    assert m is not None, "no status reply"
    return m.fields


CMD = {"hello": wire.CMD_HELLO, "ping": wire.CMD_PING, "status": wire.CMD_STATUS, "config": wire.CMD_CONFIG,
       "start": wire.CMD_START, "stop": wire.CMD_STOP}
