"""Regenerate tests/golden/wire_vectors.json (run once when the wire format changes on purpose, then review the diff).

The vectors are bytes on the wire. tests/test_protocol_golden.py checks the host against them in CPython and
tests/vm/golden_board.py checks the board's code against them inside the MicroPython VM.
"""
import array
import json
import math
import random
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "firmware"))
import adpcm  # noqa: E402
import wire  # noqa: E402


def frame(mtype, payload, seq, ts):
    body = bytearray(wire.HEADER_LEN + len(payload) + wire.CRC_LEN)
    wire.put_header(body, mtype, seq, ts)
    body[wire.HEADER_LEN:wire.HEADER_LEN + len(payload)] = payload
    n = wire.seal(body, len(payload))
    out = bytearray(n + n // 254 + 2)
    m = wire.cobs_encode(body, n, out)
    return bytes(out[:m])


def main():
    rnd = random.Random(20261125)
    vec = []

    def add(name, mtype, payload, seq, ts):
        vec.append({"name": name, "type": mtype, "seq": seq, "ts": ts, "payload": payload.hex(),
                    "wire": frame(mtype, payload, seq, ts).hex()})

    add("hello request", wire.CMD_HELLO, bytes([1, 0]), 0, 0)
    add("ping with zeros", wire.CMD_PING, b"\x00\x00\x03\x00", 1, 0)
    add("start", wire.CMD_START, b"", 2, 0)
    add("config", wire.CMD_CONFIG, b'{"sensitivity": 7, "codec": "pcm16"}', 3, 0)
    add("hello", wire.MSG_HELLO, b'{"firmware": "0.1.0", "protocol": "1.0"}', 0, 1234)
    add("segment start", wire.MSG_SEG_START, struct.pack("<HI", 7, 153), 65534, 0x3FFFFFFF)
    add("segment end truncated", wire.MSG_SEG_END, struct.pack("<HIB", 7, 366, 1), 65535, 5)
    add("mute", wire.MSG_MUTE, struct.pack("<BBIH", 1, 1, 500, 0), 0, 5000)
    add("heartbeat", wire.MSG_HEARTBEAT, struct.pack(wire.HEARTBEAT_FMT, 61000, 6100, 300, 0, 2, -655, 90000, 1), 42, 61000)
    add("error", wire.MSG_ERROR, bytes([wire.ERR_UNKNOWN, 0x7F]) + b"unknown message type 0x7f", 9, 10)
    add("all 0xFF run (COBS 254-byte blocks)", wire.MSG_LOG, bytes([1]) + b"\xff" * 300, 11, 12)
    # audio: a PCM frame and an ADPCM frame of a synthetic vowel with noise
    x = [int(9000 * math.sin(2 * math.pi * 220 * i / 16000) + 3000 * math.sin(2 * math.pi * 660 * i / 16000)
             + rnd.randint(-800, 800)) for i in range(480)]
    pcm = struct.pack("<160h", *x[:160])
    add("audio pcm16", wire.MSG_AUDIO, struct.pack("<IB", 1000, wire.CODEC_PCM16) + pcm, 100, 10000)
    state = [0, 0]
    adp = []
    for k in range(3):
        out = bytearray(adpcm.STATE_LEN + 80)
        adpcm.encode(array.array("h", x[160 * k:160 * (k + 1)]), 160, out, state)
        adp.append(bytes(out))
        add(f"audio adpcm {k}", wire.MSG_AUDIO, struct.pack("<IB", 1001 + k, wire.CODEC_ADPCM) + bytes(out), 101 + k, 10010)
    doc = {
        "format": "hushmic wire vectors; hex strings; see docs/protocol.md",
        "crc16_check": {"input": b"123456789".hex(), "crc": wire.crc16(b"123456789", 9)},
        "frames": vec,
        "adpcm": {"samples": x, "frames": [a.hex() for a in adp]},
    }
    (HERE / "wire_vectors.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
