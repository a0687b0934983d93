"""Handshake: hello fields, version refusal, ping echo, garbage on the line (the board answers, never crashes)."""
from hiltools import CMD, ack_for, read_until, status

from hushmic.protocol import encode_frame, wire


def test_hello_describes_the_board(board):
    conn = board.connect()
    h = conn.hello
    assert h["protocol"].split(".")[0] == str(wire.PROTO_MAJOR)
    assert h["rate"] == 16000 and h["frame_ms"] == 10
    assert h["codec"] in h["codecs"] and set(h["codecs"]) >= {"pcm16", "adpcm"}
    assert isinstance(h["firmware"], str) and h["firmware"]
    assert isinstance(h["profile"], str) and h["profile"]
    assert isinstance(h["muted"], bool)


def _frame_of_major(major, mtype):
    body = bytearray(wire.HEADER_LEN + wire.CRC_LEN)
    wire.put_header(body, mtype, 0, 0)
    body[0] = (major << 4) | (body[0] & 0x0F)
    n = wire.seal(body, 0)
    out = bytearray(n + n // 254 + 2)
    return bytes(out[:wire.cobs_encode(body, n, out)])


def test_frame_of_another_protocol_major_is_refused(board):
    conn = board.connect(handshake=False)
    conn.send_raw(_frame_of_major((wire.PROTO_MAJOR + 1) & 0x0F, wire.CMD_HELLO))
    m = read_until(conn, lambda m: m.kind in ("error", "hello"), 5)
    assert m is not None and m.kind == "error" and m.fields["code"] == wire.ERR_VERSION, m


def test_ping_is_echoed(board):
    conn = board.connect()
    conn.send("ping", b"hil-ping-123")
    m = read_until(conn, ack_for(CMD["ping"]), 5)
    assert m is not None and m.fields["data"] == b"hil-ping-123"


def test_garbage_gets_an_error_frame_and_the_board_keeps_answering(board):
    conn = board.connect()
    # a corrupt frame (bad CRC), bytes that are not a frame at all, and 0x03 (Ctrl-C) inside them
    good = bytearray(encode_frame(wire.CMD_PING, b"x", 1))
    good[3] ^= 0x55
    conn.send_raw(bytes(good) + b"\x11\x22\x03\x33 not a frame \x03\x00" + bytes(range(4, 250)) + b"\x00")
    m = read_until(conn, lambda m: m.kind == "error", 5)
    assert m is not None and m.fields["code"] == wire.ERR_BAD_FRAME, m
    assert status(conn)["rx_errors"] >= 1  # still the app, still answering, and it counted the bad frame
    # (not uptime > 0: the simulated clock starts only when the stream does, and the board now drains the
    # garbage at once instead of one byte per 10 ms loop)
    conn.send("ping", b"after")
    assert read_until(conn, ack_for(CMD["ping"]), 5).fields["data"] == b"after"
