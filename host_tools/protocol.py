"""Host side of the wire protocol.

The format itself (constants, header, CRC, COBS) is defined once, in the board's `firmware/wire.py`, which this module
loads; docs/protocol.md is the prose spec and tests/golden/wire_vectors.json the bytes both sides must reproduce.

`FrameDecoder` turns a byte stream into `Frame`s. It never raises on garbage: it counts what it drops and resyncs at
the next 0x00 delimiter. `parse()` turns a frame into a typed message.
"""
import json
import struct
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from .paths import load_firmware_module


wire = load_firmware_module("wire")
adpcm_ref = load_firmware_module("adpcm")

try:  # IMA-ADPCM in C: the stdlib up to 3.12, the audioop-lts package from 3.13
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop as _audioop
except ImportError:  # pragma: no cover - depends on the interpreter
    _audioop = None


@dataclass
class Frame:
    type: int
    seq: int
    ts: int
    payload: bytes
    version: int = wire.VERSION_BYTE


@dataclass
class DecoderStats:
    frames: int = 0
    crc_errors: int = 0
    bad_frames: int = 0  # COBS errors and frames too short to hold a header and CRC
    oversized: int = 0
    version_errors: int = 0
    garbage_bytes: int = 0

    def as_dict(self):
        return dict(self.__dict__)


class FrameDecoder:
    """Incremental de-framer: feed() bytes, get complete, CRC-checked frames. Never raises on bad input."""

    def __init__(self):
        self._buf = bytearray()
        self._overflow = False
        self.stats = DecoderStats()

    def reset(self):
        """Drop any partial frame (after a reconnect); keep the statistics."""
        self._buf.clear()
        self._overflow = False

    def feed(self, data):
        out = []
        buf = self._buf
        start = 0
        while True:
            z = data.find(b"\x00", start)
            if z < 0:
                chunk = data[start:]
                if len(buf) + len(chunk) > wire.MAX_ENCODED:
                    self.stats.garbage_bytes += len(buf) + len(chunk)
                    if not self._overflow:
                        self.stats.oversized += 1
                    self._overflow = True
                    buf.clear()
                else:
                    buf += chunk
                break
            buf += data[start:z]
            start = z + 1
            if self._overflow:
                self._overflow = False
                self.stats.garbage_bytes += len(buf)
                buf.clear()
                continue
            if buf:
                f = self._decode(bytes(buf))
                buf.clear()
                if f is not None:
                    out.append(f)
        return out

    def _decode(self, enc):
        n = len(enc)
        if n > wire.MAX_ENCODED:
            self.stats.oversized += 1
            self.stats.garbage_bytes += n
            return None
        body = bytearray(n)
        k = wire.cobs_decode(enc, n, body)
        if k < wire.HEADER_LEN + wire.CRC_LEN:
            self.stats.bad_frames += 1
            self.stats.garbage_bytes += n
            return None
        crc = body[k - 2] | (body[k - 1] << 8)
        if wire.crc16(body, k - 2) != crc:
            self.stats.crc_errors += 1
            self.stats.garbage_bytes += n
            return None
        if body[0] >> 4 != wire.PROTO_MAJOR:
            self.stats.version_errors += 1
            return None
        self.stats.frames += 1
        seq = body[2] | (body[3] << 8)
        ts = body[4] | (body[5] << 8) | (body[6] << 16) | (body[7] << 24)
        return Frame(body[1], seq, ts, bytes(body[wire.HEADER_LEN:k - 2]), body[0])


def encode_frame(mtype, payload=b"", seq=0, ts=0):
    """One frame as bytes on the wire (COBS body + 0x00)."""
    if len(payload) > wire.MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {wire.MAX_PAYLOAD}")
    body = bytearray(wire.HEADER_LEN + len(payload) + wire.CRC_LEN)
    wire.put_header(body, mtype, seq & wire.SEQ_MASK, ts & wire.TS_MASK)
    body[wire.HEADER_LEN:wire.HEADER_LEN + len(payload)] = payload
    n = wire.seal(body, len(payload))
    out = bytearray(n + n // 254 + 2)
    m = wire.cobs_encode(body, n, out)
    return bytes(out[:m])


# ---- typed messages -------------------------------------------------------------------------------------------
@dataclass
class Message:
    kind: str
    seq: int
    ts: int
    fields: dict = field(default_factory=dict)


def decode_audio(codec, data):
    """Codec payload -> int16 samples. Raises ValueError on a malformed payload."""
    if codec == wire.CODEC_PCM16:
        if len(data) != 2 * wire.FRAME_SAMPLES:
            raise ValueError(f"PCM frame of {len(data)} bytes")
        return np.frombuffer(data, dtype="<i2").astype(np.int16)
    if codec == wire.CODEC_ADPCM:
        if len(data) != adpcm_ref.STATE_LEN + wire.FRAME_SAMPLES // 2:
            raise ValueError(f"ADPCM frame of {len(data)} bytes")
        pred = struct.unpack_from("<h", data, 0)[0]
        index = data[2]
        if index > 88:
            raise ValueError("ADPCM step index out of range")
        if _audioop is not None:
            pcm, _ = _audioop.adpcm2lin(bytes(data[adpcm_ref.STATE_LEN:]), 2, (pred, index))
            return np.frombuffer(pcm, dtype=np.int16 if sys.byteorder == "little" else ">i2").astype(np.int16)
        out = [0] * wire.FRAME_SAMPLES
        adpcm_ref.decode(data, len(data), out)
        return np.array(out, dtype=np.int16)
    raise ValueError(f"unknown codec {codec}")


_KINDS = {
    wire.MSG_HELLO: "hello", wire.MSG_AUDIO: "audio", wire.MSG_SEG_START: "segment_start", wire.MSG_SEG_END: "segment_end",
    wire.MSG_MUTE: "mute", wire.MSG_HEARTBEAT: "heartbeat", wire.MSG_LOG: "log", wire.MSG_ERROR: "error",
    wire.MSG_STATUS: "status", wire.MSG_ACK: "ack",
}
_HB_FIELDS = ("uptime_ms", "frames_captured", "frames_sent", "drops", "overruns", "noise_floor", "free_heap", "state")


def parse(frame):
    """Frame -> Message. Unknown types and malformed payloads become kind "unknown"/"malformed" (never raise)."""
    kind = _KINDS.get(frame.type)
    p = frame.payload
    if kind is None:
        return Message("unknown", frame.seq, frame.ts, {"type": frame.type})
    try:
        if kind in ("hello", "status"):
            f = json.loads(p.decode("utf-8"))
            if not isinstance(f, dict):
                raise ValueError("not an object")
        elif kind == "audio":
            fno, codec = struct.unpack_from("<IB", p, 0)
            f = {"fno": fno, "codec": codec, "samples": decode_audio(codec, p[wire.AUDIO_HDR:])}
        elif kind == "segment_start":
            seg, fno = struct.unpack_from("<HI", p, 0)
            f = {"segment": seg, "fno": fno}
        elif kind == "segment_end":
            seg, fno, flags = struct.unpack_from("<HIB", p, 0)
            f = {"segment": seg, "fno": fno, "truncated": bool(flags & 1)}
        elif kind == "mute":
            muted, silent, fno, peak = struct.unpack_from("<BBIH", p, 0)
            f = {"muted": bool(muted), "mic_silent": {0: False, 1: True}.get(silent), "fno": fno, "probe_peak": peak}
        elif kind == "heartbeat":
            vals = struct.unpack_from(wire.HEARTBEAT_FMT, p, 0)
            f = dict(zip(_HB_FIELDS, vals))
            f["state"] = wire.STATE_NAMES[f["state"]] if f["state"] < len(wire.STATE_NAMES) else "unknown"
        elif kind == "log":
            f = {"level": p[0], "message": p[1:].decode("utf-8", "replace")}
        elif kind == "error":
            f = {"code": p[0], "about": p[1], "message": p[2:].decode("utf-8", "replace")}
        elif kind == "ack":
            t, seq = struct.unpack_from("<BH", p, 0)
            f = {"about": t, "about_seq": seq, "data": p[3:]}
        else:  # pragma: no cover
            f = {}
    except (ValueError, struct.error, UnicodeDecodeError, IndexError) as e:
        return Message("malformed", frame.seq, frame.ts, {"type": frame.type, "reason": str(e)})
    return Message(kind, frame.seq, frame.ts, f)


def command(name, payload=b""):
    """(type, payload) for a host command by name: hello, ping, status, config, start, stop, leave."""
    t = {
        "hello": wire.CMD_HELLO, "ping": wire.CMD_PING, "status": wire.CMD_STATUS, "config": wire.CMD_CONFIG,
        "start": wire.CMD_START, "stop": wire.CMD_STOP, "leave": wire.CMD_LEAVE,
    }[name]
    if name == "hello" and not payload:
        payload = bytes([wire.PROTO_MAJOR, wire.PROTO_MINOR])
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    return t, payload


class IncompatibleBoard(Exception):
    pass


def check_hello(fields):
    """Refuse a board whose protocol major differs from ours, with a clear message."""
    proto = str(fields.get("protocol", "?"))
    try:
        major = int(proto.split(".")[0])
    except ValueError:
        raise IncompatibleBoard(f"board reports an unreadable protocol version {proto!r}") from None
    if major != wire.PROTO_MAJOR:
        raise IncompatibleBoard(
            f"board speaks protocol {proto}, this hushmic speaks {wire.PROTO_MAJOR}.{wire.PROTO_MINOR}: "
            f"redeploy the firmware with `hushmic deploy` (or upgrade hushmic)"
        )
