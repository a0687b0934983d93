"""Host side of the wire protocol: golden vectors, decoder robustness (hypothesis), typed parsing."""
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hushmic import protocol
from hushmic.protocol import FrameDecoder, encode_frame, parse, wire

VECTORS = json.loads((Path(__file__).parent / "golden" / "wire_vectors.json").read_text())


@pytest.mark.parametrize("v", VECTORS["frames"], ids=lambda v: v["name"])
def test_host_encodes_golden_vectors(v):
    assert encode_frame(v["type"], bytes.fromhex(v["payload"]), v["seq"], v["ts"]).hex() == v["wire"]


@pytest.mark.parametrize("v", VECTORS["frames"], ids=lambda v: v["name"])
def test_host_decodes_golden_vectors(v):
    d = FrameDecoder()
    frames = d.feed(bytes.fromhex(v["wire"]))
    assert len(frames) == 1
    f = frames[0]
    assert (f.type, f.seq, f.ts, f.payload.hex()) == (v["type"], v["seq"], v["ts"], v["payload"])
    assert d.stats.crc_errors == d.stats.bad_frames == 0


def test_crc_is_ccitt_false():
    c = VECTORS["crc16_check"]
    data = bytes.fromhex(c["input"])
    assert wire.crc16(data, len(data)) == c["crc"] == 0x29B1


def test_adpcm_golden_frames_decode_identically_in_c_and_reference():
    x = np.array(VECTORS["adpcm"]["samples"], dtype=np.int16)
    for k, hx in enumerate(VECTORS["adpcm"]["frames"]):
        data = bytes.fromhex(hx)
        fast = protocol.decode_audio(wire.CODEC_ADPCM, data)
        ref = [0] * 160
        protocol.adpcm_ref.decode(data, len(data), ref)
        assert fast.tolist() == ref
        err = fast.astype(float) - x[160 * k:160 * (k + 1)]
        snr = 10 * np.log10(np.mean(x[160 * k:160 * (k + 1)].astype(float) ** 2) / np.mean(err ** 2))
        assert snr > 15, snr  # a broken codec fails this; IMA-ADPCM gives ~20-30 dB on this signal


def test_parse_typed_messages():
    d = FrameDecoder()
    wires = b"".join(bytes.fromhex(v["wire"]) for v in VECTORS["frames"])
    msgs = {m.kind: m for m in map(parse, d.feed(wires))}
    assert msgs["segment_end"].fields == {"segment": 7, "fno": 366, "truncated": True}
    assert msgs["mute"].fields["muted"] is True and msgs["mute"].fields["mic_silent"] is True
    assert msgs["heartbeat"].fields["noise_floor"] == -655 and msgs["heartbeat"].fields["state"] == "listening"
    assert msgs["audio"].fields["samples"].dtype == np.int16
    assert msgs["hello"].fields["protocol"] == "1.0"


def test_unknown_type_and_malformed_payload_are_reported_not_raised():
    d = FrameDecoder()
    f1, f2 = d.feed(encode_frame(0x7E, b"x", 1) + encode_frame(wire.MSG_AUDIO, b"\x01\x02", 2))
    assert parse(f1).kind == "unknown"
    assert parse(f2).kind == "malformed"


def test_version_mismatch_is_counted_and_refused():
    body = bytearray(bytes.fromhex(VECTORS["frames"][4]["wire"]))
    # re-encode a frame with major 2
    raw = bytearray(wire.HEADER_LEN + 2 + 2)
    wire.put_header(raw, wire.MSG_HELLO, 0, 0)
    raw[0] = 0x20
    raw[8:10] = b"{}"
    n = wire.seal(raw, 2)
    out = bytearray(64)
    m = wire.cobs_encode(raw, n, out)
    d = FrameDecoder()
    assert d.feed(bytes(out[:m]) + bytes(body)) and d.stats.version_errors == 1
    with pytest.raises(protocol.IncompatibleBoard, match="protocol 2.0"):
        protocol.check_hello({"protocol": "2.0"})


def test_oversized_frame_is_dropped_and_stream_recovers():
    d = FrameDecoder()
    good = encode_frame(wire.MSG_LOG, b"\x01hi", 5)
    got = d.feed(b"\x01" * 5000 + b"\x00" + good)
    assert [f.seq for f in got] == [5]
    assert d.stats.oversized == 1


def _valid_frames(draw_seq):
    return [encode_frame(wire.MSG_LOG, bytes([1]) + bytes(range(i % 50)), s) for i, s in enumerate(draw_seq)]


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=2000), seqs=st.lists(st.integers(0, 65535), min_size=1, max_size=5),
       chunk=st.integers(1, 97))
def test_fuzz_garbage_then_valid_frames_are_all_recovered(garbage, seqs, chunk):
    d = FrameDecoder()
    stream = garbage + b"\x00" + b"".join(_valid_frames(seqs))
    got = []
    for i in range(0, len(stream), chunk):  # arbitrary split points: the decoder is incremental
        got += d.feed(stream[i:i + chunk])
    tail = got[len(got) - len(seqs):]
    assert [f.seq for f in tail] == seqs
    assert all(f.type == wire.MSG_LOG for f in tail)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300), flips=st.lists(st.integers(0, 10**6), min_size=1, max_size=3, unique=True))
def test_fuzz_bit_flips_are_never_accepted(payload, flips):
    """Flip 1-3 bits of a frame's body: CRC-16/CCITT detects every such error, so no corrupt frame gets through."""
    body = bytearray(wire.HEADER_LEN + len(payload) + 2)
    wire.put_header(body, wire.MSG_LOG, 9, 0)
    body[8:8 + len(payload)] = payload
    n = wire.seal(body, len(payload))
    bits = sorted({f % (8 * n) for f in flips})
    for b in bits:
        body[b // 8] ^= 1 << (b % 8)
    out = bytearray(n + n // 254 + 2)
    m = wire.cobs_encode(body, n, out)
    d = FrameDecoder()
    good = encode_frame(wire.MSG_LOG, b"\x01ok", 10)
    got = d.feed(bytes(out[:m]) + good)
    assert [f.payload for f in got] == [b"\x01ok"]
    assert d.stats.crc_errors + d.stats.bad_frames + d.stats.version_errors == 1


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4000))
def test_fuzz_arbitrary_bytes_never_raise(data):
    d = FrameDecoder()
    for f in d.feed(data):
        parse(f)  # whatever survives the CRC parses without raising
    s = d.stats
    assert s.frames + s.crc_errors + s.bad_frames + s.oversized + s.version_errors >= 0


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(1, 60))
def test_truncated_frame_then_valid_frame(cut):
    f = encode_frame(wire.MSG_AUDIO, struct.pack("<IB", 3, 0) + bytes(320), 1)
    good = encode_frame(wire.MSG_LOG, b"\x01hi", 2)
    d = FrameDecoder()
    got = d.feed(f[:cut] + b"\x00" + good)
    assert [g.seq for g in got] == [2]


def test_open_port_sets_dtr_only_on_the_native_usb(monkeypatch, tmp_path):
    """Bridges: DTR/RTS off (no auto-reset). Native S3 USB: DTR on (MicroPython sends only then), RTS off."""
    import serial

    from hushmic import link

    opened = []

    def fake_open(self):
        opened.append((self.port, self.dtr, self.rts, self.exclusive))

    monkeypatch.setattr(serial.Serial, "open", fake_open)
    dev = tmp_path / "ttyACM0"
    dev.write_text("")
    for vid, want_dtr in ((0x303A, True), (0x10C4, False), (None, False)):
        monkeypatch.setattr(link, "usb_vid", lambda p, v=vid: v)
        link.open_port(str(dev))
        assert opened[-1] == (str(dev), want_dtr, False, True)


@pytest.mark.parametrize("chunk", [1, 64, 700])
def test_oversized_run_fed_in_chunks_is_dropped_and_the_next_frame_recovers(chunk):
    """A run of non-zero bytes longer than any frame, arriving in pieces (as serial reads deliver it), must be
    counted once and dropped; the frame after the next delimiter decodes (issue 12: 'never recovered' went unseen)."""
    d = FrameDecoder()
    good = encode_frame(wire.MSG_LOG, b"\x01hi", 7)
    stream = b"\x55" * (3 * wire.MAX_ENCODED) + good + encode_frame(wire.MSG_LOG, b"\x01ok", 8)
    got = []
    for i in range(0, len(stream), chunk):
        got += d.feed(stream[i:i + chunk])
    # the first good frame has no delimiter before it, so it is part of the garbage run; the next one decodes
    assert [f.seq for f in got] == [8]
    assert d.stats.oversized == 1 and d.stats.garbage_bytes >= 3 * wire.MAX_ENCODED


class _FakeSerial:
    def __init__(self, data):
        self.data = bytearray(data)
        self.in_waiting = len(data)

    def read(self, n):
        out = bytes(self.data[:n])
        del self.data[:n]
        self.in_waiting = len(self.data)
        return out


@pytest.mark.parametrize("seqs, lost", [
    ([1, 2, 3, 4], 0),
    ([1, 2, 5, 6], 2),               # two frames missing on the line
    ([65533, 65535, 0, 3], 3),       # across the 16-bit wrap: 65534, 1, 2
    ([10, 11, 11, 12], 0),           # a repeat is not a loss
])
def test_sequence_gaps_are_counted_as_lost_frames(seqs, lost):
    from hushmic.link import BoardConnection

    c = BoardConnection("/dev/null")
    c.ser = _FakeSerial(b"".join(encode_frame(wire.MSG_LOG, b"\x01x", s) for s in seqs))
    msgs = []
    while c.ser.in_waiting:
        msgs += c.read()
    assert [m.seq for m in msgs] == seqs
    assert c.seq_lost == lost
