"""Board output through the UART0 mirror: what pacing costs and what it saves (issue 12 item 1).

    python -m bench.board_output_bench              # 120 s of the VAD dev clips (speech, pauses, noise)
    python -m bench.board_output_bench --seconds 30

The real firmware runs in the MicroPython VM on the simulated board's fakes, in fast mode (virtual time, so the
figures do not depend on this machine's load), with stdout mirrored to a 115200-baud UART0 that holds each write
until the 128-byte FIFO has taken it (host_tools/sim/fakes/_stdout.py), as ESP32_GENERIC_S3 does. Two variants in the
same run: the firmware's frames written as soon as they exist (the baseline, as before pacing) and paced to the
UART's rate with the rest queued (now). Figures per variant: segments, audio frames delivered, frames the I2S DMA ring
dropped (the mic's audio lost), holes inside segments, output bytes/s, the queue's high-water mark, and per segment
the delay from the end of its audio to its SEG_END leaving the board (median, max) and from a pre-roll frame's
capture to its write (median, max).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKES = REPO / "host_tools" / "sim" / "fakes"
FIRMWARE = REPO / "firmware"

SCRIPT = r"""
import sys, time, profile, app, wire, _stdout
prof = profile.validate(%(prof)r)
out = open("wire.bin", "wb")      # a real file, so the fake UART0 sees the bytes
logf = open("log.txt", "w")        # the writes, one line each (not UART time: reported to the fake as its own)
class Sink:
    def write(self, buf, off, n):
        b = link.body
        if n and off == 0:   # a frame's first write
            f = -1
            if b[1] == wire.MSG_AUDIO:
                f = b[8] | (b[9] << 8) | (b[10] << 16)
            elif b[1] == wire.MSG_SEG_END:
                f = b[10] | (b[11] << 8) | (b[12] << 16)
            if b[1] in (wire.MSG_AUDIO, wire.MSG_SEG_START, wire.MSG_SEG_END):
                _stdout.own(logf.write("W %%d %%d %%d\n" %% (time.ticks_ms(), b[1], f)))
        return out.write(memoryview(buf)[off:off + n])
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink(), tx_bytes_per_s=%(rate)d)
a = app.App(prof, link)
a.streaming = True
a._start_capture()
class Done(Exception): pass
class W:
    def feed(self):
        if time.ticks_ms() > %(run_ms)d: raise Done()
try:
    a.run(W())
except Done:
    pass
ms = time.ticks_ms()
logf.close()
print("SUMMARY", a.segment, a.cap.i2s.dropped // 160, _stdout.bytes_out * 1000 // ms, link.q_max, a.status()["drops"])
"""


def run_variant(wav, seconds, rate):
    from hushmic.sim.launcher import vm_path

    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d) / "sim.json"
        cfg.write_text(json.dumps({"wav": str(wav), "fast": True, "mute_pin": 7, "uart_mirror_baud": 115200}))
        script = Path(d) / "t.py"
        script.write_text(SCRIPT % {"prof": prof, "rate": rate, "run_ms": int(seconds * 1000)})
        env = dict(os.environ, MICROPYPATH=f"{FAKES}:{FIRMWARE}:.frozen", HUSHMIC_SIM=str(cfg))
        r = subprocess.run([vm_path(), "-X", "heapsize=256K", str(script)], capture_output=True, text=True, cwd=d,
                           env=env, timeout=1800)
        log = (Path(d) / "log.txt").read_text() if (Path(d) / "log.txt").exists() else ""
    if r.returncode != 0:
        raise SystemExit(f"the VM failed: {r.stdout[-1500:]}{r.stderr[-1500:]}")
    from hushmic.protocol import wire

    summary = None
    writes = []
    for line in (r.stdout + log).splitlines():
        if line.startswith("SUMMARY"):
            summary = [int(x) for x in line.split()[1:]]
        elif line.startswith("W "):
            writes.append(tuple(int(x) for x in line.split()[1:]))
    segs, dropped, bps, qmax, drops = summary
    holes = 0
    prev = None
    preroll_delay, end_delay = [], []
    first_of_seg = False
    for t, k, f in writes:
        if k == wire.MSG_SEG_START:
            prev, first_of_seg = None, True
        elif k == wire.MSG_AUDIO:
            if prev is not None and f != prev + 1:
                holes += f - prev - 1
            if first_of_seg:
                preroll_delay.append(t - f * 10)  # the oldest pre-roll frame: captured at f*10 ms (+10)
                first_of_seg = False
            prev = f
        elif k == wire.MSG_SEG_END:
            end_delay.append(t - f * 10)
    audio = sum(1 for w in writes if w[1] == wire.MSG_AUDIO)

    def med(x):
        return round(statistics.median(x)) if x else None

    return {"paced": bool(rate), "tx_limit_bps": rate, "segments": segs, "audio_frames_delivered": audio,
            "frames_lost_dma": dropped, "holes_in_segments": holes, "board_drops": drops, "output_bps": bps,
            "queue_max_bytes": qmax, "seg_end_delay_ms_median": med(end_delay),
            "seg_end_delay_ms_max": max(end_delay) if end_delay else None,
            "preroll_delay_ms_median": med(preroll_delay),
            "preroll_delay_ms_max": max(preroll_delay) if preroll_delay else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="seconds of audio (default 120)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from bench.stream_bench import make_wav

    with tempfile.TemporaryDirectory() as d:
        wav = make_wav(Path(d) / "clips.wav", args.seconds + 2)
        rows = [run_variant(wav, args.seconds, 0), run_variant(wav, args.seconds, 11520)]
    cols = list(rows[0])
    print("  ".join(f"{c:>24}" for c in ["metric", "baseline (unpaced)", "paced (now)"]), file=sys.stderr)
    for c in cols[1:]:
        print("  ".join(f"{str(v):>24}" for v in [c, rows[0][c], rows[1][c]]), file=sys.stderr)
    print(json.dumps({"bench": "board_output", "seconds": args.seconds, "uart_mirror_baud": 115200,
                      "variants": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
