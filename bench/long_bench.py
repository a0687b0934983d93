"""Long files and batches: throughput, speed-up per worker, peak memory, and the time for one 60-minute file, beside
faster-whisper alone on the same audio in the same run (what the ASR itself costs; the rest is VAD, alignment and
redaction).

    python -m bench.long_bench                    # everything: batch at 1, 2 and all cores; a 60-minute file
    python -m bench.long_bench --minutes 10 --skip-batch     # a shorter single file only

Audio: the four e2e dev sessions (../shared/eval/e2e, 4.2 min), copied `--copies` times for the batch, and
concatenated to `--minutes` for the long file (built in a temp folder, never in git). Every hushmic figure is a real
`hushmic redact` process (the CLI users run); peak memory is the largest resident set among its processes (the command
and its workers; os.wait4 on each), in MiB. Throughput = audio seconds / wall seconds. faster-whisper alone: the same
model hushmic uses by default (hash-checked), on the same session audio, whole files, in this process.
Table on stderr, JSON on stdout.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
E2E = REPO.parent / "shared" / "eval" / "e2e"
RATE = 16000


def sessions(n=4):
    out = [E2E / f"session_{k}.wav" for k in range(1, n + 1)]
    missing = [p for p in out if not p.exists()]
    if missing:
        sys.exit(f"long_bench: {missing[0]} not found (the e2e dev set, ../shared/eval/e2e)")
    return out


def read(p):
    with wave.open(str(p)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def write(p, x):
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.asarray(x, "<i2").tobytes())


def long_file(path, minutes, files):
    """The sessions one after another, written block by block, up to `minutes`."""
    parts = [read(p) for p in files]
    total, n, k = int(minutes * 60 * RATE), 0, 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        while n < total:
            x = parts[k % len(parts)][: total - n]
            w.writeframes(x.tobytes())
            n += len(x)
            k += 1
    return n / RATE


def _tree_peak_rss(pid, stop, peak):
    """Poll /proc for the largest RSS of pid and its descendants (MiB), until stop is set."""
    def children(p):
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                return [int(c) for c in f.read().split()]
        except OSError:
            return []

    while not stop.is_set():
        todo, seen = [pid], []
        while todo:
            p = todo.pop()
            seen.append(p)
            todo += children(p)
        for p in seen:
            try:
                with open(f"/proc/{p}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            peak[p] = max(peak.get(p, 0), int(line.split()[1]) / 1024)
            except OSError:
                pass
        stop.wait(0.2)


def run(cmd, env):
    """(wall s, peak RSS MiB of the largest process, rc, stderr tail)."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    stop, peak = threading.Event(), {}
    th = threading.Thread(target=_tree_peak_rss, args=(p.pid, stop, peak), daemon=True)
    th.start()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    stop.set()
    th.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    rss = max([ru.ru_maxrss / 1024] + list(peak.values()))
    return wall, rss, p.returncode, err.decode("utf-8", "replace").strip().splitlines()[-2:]


def whisper_alone(files):
    """faster-whisper with hushmic's default, hash-checked model on whole files: audio s per wall s."""
    from hushmic.asr import whisper_backend
    whisper_backend.load()            # model loading is not counted (hushmic loads it once per process too)
    audio, wall = 0.0, 0.0
    for f in files:
        x = read(f)
        t = time.monotonic()
        whisper_backend.recognise(x, RATE)   # faster-whisper's transcribe with hushmic's settings, no alignment
        wall += time.monotonic() - t
        audio += len(x) / RATE
    return {"audio_s": round(audio, 1), "wall_s": round(wall, 2), "throughput": round(audio / wall, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long file (default 60)")
    ap.add_argument("--copies", type=int, default=2, help="copies of the 4 sessions in the batch (default 2)")
    ap.add_argument("--sessions", type=int, default=4, choices=range(1, 5), metavar="1-4",
                    help="e2e sessions used (default all 4; fewer for a quick check)")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-long", action="store_true")
    a = ap.parse_args(argv)
    hush = [sys.executable, "-m", "hushmic"]
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="hushmic-long-bench-"))
    env = dict(os.environ, HUSHMIC_HOME=str(work / "home"))
    out = {"cores": cores}
    try:
        files = sessions(a.sessions)
        out["whisper_alone"] = whisper_alone(files)
        if not a.skip_batch:
            batch = work / "batch"
            copies = max(a.copies, -(-max(2, cores) // len(files)))   # at least one file per worker, or no speed-up
            for c in range(copies):
                for f in files:
                    (batch / f"copy{c}").mkdir(parents=True, exist_ok=True)
                    shutil.copy(f, batch / f"copy{c}" / f.name)
            audio = copies * sum(len(read(f)) for f in files) / RATE
            rows = []
            for jobs in sorted({1, 2, cores}):
                od = work / f"out{jobs}"
                wall, rss, rc, err = run(hush + ["redact", str(batch), "--out-dir", str(od), "--jobs", str(jobs)], env)
                if rc != 0:
                    raise RuntimeError(f"batch --jobs {jobs} failed: {err}")
                rows.append({"jobs": jobs, "audio_s": round(audio, 1), "wall_s": round(wall, 1),
                             "throughput": round(audio / wall, 2), "peak_rss_mib": round(rss)})
            base = rows[0]["throughput"]
            for r in rows:
                r["speedup"] = round(r["throughput"] / base, 2)
                r["speedup_per_worker"] = round(r["throughput"] / base / r["jobs"], 2)
            out["batch"] = rows
        if not a.skip_long:
            singles = []
            one = work / "one.wav"
            write(one, read(files[0]))
            for name, path, secs in (("1 session", one, len(read(files[0])) / RATE),
                                     (f"{a.minutes:g} min", work / "long.wav", None)):
                if secs is None:
                    secs = long_file(path, a.minutes, files)
                wall, rss, rc, err = run(hush + ["redact", str(path), "--out", str(work / ("red-" + path.name))], env)
                if rc != 0:
                    raise RuntimeError(f"redact {name} failed: {err}")
                singles.append({"file": name, "audio_s": round(secs, 1), "wall_s": round(wall, 1),
                                "throughput": round(secs / wall, 2), "peak_rss_mib": round(rss),
                                "summary": next((e for e in err if "turn(s)" in e), "")})
            out["single"] = singles
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(out), file=sys.stderr)
    print(json.dumps(out))
    return 0


def table(r):
    lines = [f"long_bench on {r['cores']} core(s); throughput = audio s per wall s"]
    w = r.get("whisper_alone")
    if w:
        lines.append(f"  faster-whisper alone (default model, whole sessions): {w['throughput']:6.2f}x "
                     f"({w['audio_s']} s in {w['wall_s']} s)")
    for b in r.get("batch", []):
        lines.append(f"  batch --jobs {b['jobs']}: {b['throughput']:6.2f}x, speed-up {b['speedup']:.2f} "
                     f"({b['speedup_per_worker']:.2f} per worker), peak RSS {b['peak_rss_mib']} MiB")
    for s in r.get("single", []):
        lines.append(f"  one file, {s['file']:>8}: {s['audio_s']:7.1f} s audio in {s['wall_s']:7.1f} s = "
                     f"{s['throughput']:5.2f}x real time, peak RSS {s['peak_rss_mib']} MiB")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
