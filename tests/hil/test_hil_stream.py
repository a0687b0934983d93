"""Streaming a known recording: speech segments where the recording has speech, audio intact, nothing lost.

Simulated board: it hears host_tools/data/demo.wav (10x real time). Every sentence must be covered by a segment,
and the decoded audio must match the recording (ADPCM is lossy: SNR, not bit identity).
Real board: a person plays the same recording near the mic (tests/hil/README.md); then at least three segments with
speech-level audio must arrive, without lost frames or CRC errors."""
import time

import numpy as np
from hiltools import CMD, KNOWN_META, ack_for, read_until, status

from hushmic import audio_io
from hushmic.protocol import wire


def _stream(conn, seconds, until_fno=None):
    """Start streaming and collect (segments, {fno: samples}) for `seconds` (or until frame `until_fno`)."""
    conn.send("start")
    msgs = []
    assert read_until(conn, ack_for(CMD["start"]), 5, into=msgs) is not None
    end = time.monotonic() + seconds
    last = 0
    while time.monotonic() < end:
        for m in conn.read():
            msgs.append(m)
            if m.kind == "heartbeat":
                last = max(last, m.fields["uptime_ms"] // 10)
        if until_fno is not None and last >= until_fno:
            break
    conn.send("stop")
    read_until(conn, ack_for(CMD["stop"]), 3, into=msgs)
    segs, audio, open_at = [], {}, None
    for m in msgs:
        if m.kind == "segment_start":
            open_at = m.fields["fno"]
        elif m.kind == "segment_end" and open_at is not None:
            segs.append((open_at, m.fields["fno"]))
            open_at = None
        elif m.kind == "audio":
            audio[m.fields["fno"]] = m.fields["samples"]
    return segs, audio


def test_known_recording_streams_intact(board):
    conn = board.connect()
    board.play_known_audio()
    dur = KNOWN_META["duration"]
    segs, audio = _stream(conn, seconds=dur + 15 if board.is_sim else 40,
                          until_fno=int((dur - 1.0) * 100) if board.is_sim else None)
    assert conn.seq_lost == 0, f"{conn.seq_lost} frame(s) missing in the sequence"
    assert conn.decoder.stats.crc_errors == 0 and conn.decoder.stats.bad_frames == 0
    assert audio, "no audio frames"
    st = status(conn)  # nothing lost on the board either: paced output (the UART0 mirror) keeps the mic's ring drained
    assert st["drops"] == 0 and st["overruns"] == 0 and st["tx_dropped"] == 0, st
    if st.get("tx_limit_bps"):
        assert 0 < st["tx_queued_max"] <= 6144, st  # pre-roll bursts waited in the queue, and it never overflowed
    if board.is_sim:
        # every sentence lies inside one segment (pre-roll and hangover around it)
        for s in KNOWN_META["sentences"]:
            a, b = int(s["t0"] * 100) + 5, int(s["t1"] * 100) - 5
            assert any(x <= a and b <= y for x, y in segs), (s["text"], segs)
        # the audio is the recording's (fno = 10 ms frames since boot = the recording's timeline on a fresh board)
        wav = audio_io.read_wav_strict(board.sim.wav).astype(np.float64)
        got, ref = [], []
        for fno, s in sorted(audio.items()):
            if (fno + 1) * 160 <= len(wav):
                got.append(s.astype(np.float64))
                ref.append(wav[fno * 160:(fno + 1) * 160])
        got, ref = np.concatenate(got), np.concatenate(ref)
        snr = 10 * np.log10(np.sum(ref ** 2) / max(1.0, np.sum((got - ref) ** 2)))
        assert snr > 15, f"decoded audio differs from the recording: SNR {snr:.1f} dB"
    else:
        assert len(segs) >= 3, f"expected the recording's sentences as segments, got {segs}"
        rms = np.sqrt(np.mean(np.concatenate(list(audio.values())).astype(np.float64) ** 2))
        assert 20 * np.log10(max(rms, 1) / 32768) > -50, "speech is very quiet: check the profile's shift (hushmic calibrate)"


def test_pcm16_codec(board):
    """The uncompressed codec streams when the board's output can carry it (config codec=pcm16), and the board goes
    back to ADPCM afterwards. An ESP32_GENERIC_S3 build mirrors stdout to UART0 at 115200 baud (hello's
    tx_limit_bps, 11520): PCM16 needs 33800 bytes/s there, so the board must refuse it with the reason, not stream
    it and lose two thirds of the audio."""
    conn = board.connect()
    limit = conn.hello.get("tx_limit_bps") or 0
    conn.send("config", {"codec": "pcm16"})
    if limit and limit < wire.PCM16_WIRE_BPS:
        m = read_until(conn, lambda m: m.kind in ("error", "ack"), 5)
        assert m is not None and m.kind == "error", f"a board capped at {limit} B/s accepted pcm16: {m}"
        assert "adpcm" in m.fields.get("message", ""), m.fields
        return
    assert read_until(conn, ack_for(CMD["config"]), 5) is not None
    try:
        board.play_known_audio()
        msgs = []
        conn.send("start")
        m = read_until(conn, lambda m: m.kind == "audio", 30, into=msgs)
        assert m is not None, f"no audio frame; got {[x.kind for x in msgs][:30]}, " + (
            f"simulator events {board.sim.events()[:10]}" if board.is_sim else "")
        assert m.fields["codec"] == wire.CODEC_PCM16 and len(m.fields["samples"]) == 160
    finally:
        conn.send("stop")
        conn.send("config", {"codec": "adpcm"})
        read_until(conn, ack_for(CMD["config"]), 5)
