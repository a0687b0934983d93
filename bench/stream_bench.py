"""Link soak: a real-time simulated stream through `hushmic listen`'s Listener, with host memory sampled.

    python -m bench.stream_bench                 # 10 minutes (the issue's figure); prints a table, then one JSON line
    python -m bench.stream_bench --seconds 60    # the CI version (tests/test_listen.py calls run_stream(60))

The simulated board (the real firmware in the MicroPython VM, behind a pty) plays a WAV made by concatenating the VAD
dev clips (speech with pauses, noise) at real-time pace. The host side is the same code `hushmic listen` runs:
BoardReader thread -> Listener (utterance assembly, mute checks) -> pipeline worker -> store (transcription is off:
ASR speed is measured elsewhere; this measures the link and the host's steady state).

Figures: frames sent (the board's own counter) / received / lost, CRC errors, utterances stored; host RSS at start
(after warm-up), end and max; Python heap growth after warm-up (tracemalloc); decode time per 10 ms frame (COBS +
CRC in FrameDecoder.feed, plus parse + ADPCM decode) and the Listener's handling time per message, against the 10 ms
real-time budget.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VAD_DIRS = [Path("/work/shared/eval/vad"), REPO.parent / "shared" / "eval" / "vad"]
WARMUP_S = 5.0


def _vad_dir():
    for d in VAD_DIRS:
        if d.is_dir():
            return d
    raise SystemExit("the VAD dev corpus (shared/eval/vad) is needed for the stream benchmark")


def make_wav(path, seconds):
    """Concatenate the dev clips (repeating) into exactly `seconds` of 16 kHz mono PCM16."""
    clips = sorted(_vad_dir().glob("dev_*.wav"))
    need = int(seconds * 16000)
    parts, have = [], 0
    i = 0
    while have < need:
        with wave.open(str(clips[i % len(clips)])) as w:
            a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        parts.append(a[:need - have])
        have += len(parts[-1])
        i += 1
    from hushmic.audio_io import write_wav

    write_wav(path, np.concatenate(parts).astype(np.int16), 16000)
    return path


def rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r


class _Timed:
    """Wraps a callable and accumulates the time spent in it."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *a, **kw):
        t = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            dt = time.perf_counter() - t
            with self.lock:
                self.seconds += dt
                self.calls += 1


def run_stream(seconds=600, store_dir=None, fast=False, sample_every=5.0, progress=None):
    from hushmic import protocol
    from hushmic.listen import Listener
    from hushmic.sim.launcher import SimBoard
    from hushmic.store import Store

    work = Path(tempfile.mkdtemp(prefix="hushmic-streambench-"))
    wav = make_wav(work / "stream.wav", seconds)
    store = Store(store_dir or work / "store")
    sb = SimBoard(wav, fast=fast, name="sim0")
    sb.start()
    events = {"segment_end": 0, "error": 0}
    errors = []

    def emit(ev):
        if ev["event"] in events:
            events[ev["event"]] += 1
        if ev["event"] == "error":
            errors.append(ev["message"])

    lst = Listener([(sb.name, sb.port, lambda: sb.timeline_offset, None)], emit, store=store)
    b = lst.boards["sim0"]
    conn = b.reader.conn
    feed = _Timed(conn.decoder.feed)
    handle = _Timed(lst.handle)
    lst.handle = handle
    raw = []  # the line's bytes during warm-up: decode is timed on them afterwards, outside tracemalloc
    raw_n = [0]

    def keep_feed(data):
        if raw_n[0] < 200000 and time.monotonic() - t_start < WARMUP_S:
            raw.append(bytes(data))
            raw_n[0] += len(data)
        return feed(data)

    conn.decoder.feed = keep_feed
    samples = []
    t_start = time.monotonic()
    rss0 = heap0 = None
    rss_max = 0
    try:
        tracemalloc.start()
        lst.start()
        next_sample = t_start + WARMUP_S
        stop_sent = None
        while True:
            lst.pump(0.05)
            if lst.fatal:
                raise RuntimeError(lst.fatal)
            now = time.monotonic()
            if now >= next_sample:
                next_sample = now + sample_every
                r, (h, _) = rss_kb(), tracemalloc.get_traced_memory()
                if rss0 is None:
                    rss0, heap0 = r, h
                rss_max = max(rss_max, r)
                samples.append((round(now - t_start, 1), r, h))
                if progress:
                    progress(f"{now - t_start:6.0f} s  rx {b.frames_received}  rss {r / 1024:.1f} MB  "
                             f"heap {h / 1024:.0f} KB")
            if stop_sent is None and b.connected and b.uptime_ms / 1000.0 + b.offset >= seconds + 0.6:
                lst.stop_streams()
                lst.request_status()
                stop_sent = now
            if stop_sent is not None and now - stop_sent > 0.8:
                break
            if now - t_start > seconds * (0.2 if fast else 1.0) + 60:
                raise RuntimeError("the simulated stream did not finish in time")
        rss1, (heap1, _) = rss_kb(), tracemalloc.get_traced_memory()
        rss_max = max(rss_max, rss1)
    finally:
        tracemalloc.stop()
        lst.shutdown()
        sb.stop()
        store.close()
    wall = time.monotonic() - t_start
    # decode cost per frame, on this run's own bytes, without tracemalloc's overhead: best of 5 passes
    feed_best = parse_best = float("inf")
    frames = []
    for _ in range(5):
        dec = protocol.FrameDecoder()
        t = time.perf_counter()
        frames = [f for chunk in raw for f in dec.feed(chunk)]
        feed_best = min(feed_best, (time.perf_counter() - t) / max(1, len(frames)))
        t = time.perf_counter()
        for f in frames:
            protocol.parse(f)
        parse_best = min(parse_best, (time.perf_counter() - t) / max(1, len(frames)))
    st = lst.final_stats()
    feed_us, parse_us = feed_best * 1e6, parse_best * 1e6
    decode_us = feed_us + parse_us
    return {
        "seconds": seconds, "pace": "fast" if fast else "real-time", "wall_s": round(wall, 1),
        **st,
        "wire_frames": conn.decoder.stats.frames, "bad_frames": conn.decoder.stats.bad_frames,
        "utterances": events["segment_end"], "errors": events["error"], "error_messages": errors[:5],
        "rss_start_kb": rss0, "rss_end_kb": rss1, "rss_max_kb": rss_max, "rss_growth_kb": (rss1 - rss0) if rss0 else None,
        "py_heap_start_kb": round(heap0 / 1024, 1) if heap0 is not None else None,
        "py_heap_end_kb": round(heap1 / 1024, 1), "py_heap_growth_kb": round((heap1 - (heap0 or 0)) / 1024, 1),
        "decode_us_per_frame": round(decode_us, 1), "feed_us_per_frame": round(feed_us, 1),
        "parse_us_per_frame": round(parse_us, 1),
        "handle_us_per_message_traced": round(handle.seconds / max(1, handle.calls) * 1e6, 1),
        "decode_sample_frames": len(frames),
        "decode_x_realtime": round(10000.0 / decode_us, 0) if decode_us else None,
        "memory_samples": samples,
    }


def table(r):
    rows = [
        ("stream", f"{r['seconds']:.0f} s of audio, {r['pace']} ({r['wall_s']} s wall)"),
        ("frames sent / received / lost", f"{r['frames_sent']} / {r['frames_received']} / {r['frames_lost']}"),
        ("CRC errors / bad frames", f"{r['crc_errors']} / {r['bad_frames']}"),
        ("utterances stored", str(r["utterances"])),
        ("host RSS start / end / max", f"{r['rss_start_kb'] / 1024:.1f} / {r['rss_end_kb'] / 1024:.1f} / "
                                       f"{r['rss_max_kb'] / 1024:.1f} MB (growth {r['rss_growth_kb']} KB)"),
        ("Python heap after warm-up / end", f"{r['py_heap_start_kb']} / {r['py_heap_end_kb']} KB "
                                            f"(growth {r['py_heap_growth_kb']} KB)"),
        ("decode per 10 ms frame", f"{r['decode_us_per_frame']} us (feed {r['feed_us_per_frame']} + parse "
                                   f"{r['parse_us_per_frame']}) = {r['decode_x_realtime']:.0f}x real time"),
        ("Listener.handle per message", f"{r['handle_us_per_message_traced']} us (under tracemalloc)"),
    ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.stream_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600, help="length of the stream (default 600 = 10 min)")
    ap.add_argument("--fast", action="store_true", help="as fast as the VM runs (not the real-time figure)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    a = ap.parse_args(argv)
    os.environ.setdefault("HUSHMIC_HOME", tempfile.mkdtemp(prefix="hushmic-streambench-home-"))
    r = run_stream(a.seconds, fast=a.fast, progress=None if a.quiet else (lambda m: print(m, file=sys.stderr)))
    print(table(r), file=sys.stderr)
    print(json.dumps({k: v for k, v in r.items() if k != "memory_samples"} | {"memory_samples": r["memory_samples"]}))
    if r["frames_lost"] or r["crc_errors"]:
        raise SystemExit(1)  # `python -m bench` counts a SystemExit as a failed benchmark
    return 0


if __name__ == "__main__":
    sys.exit(main())
