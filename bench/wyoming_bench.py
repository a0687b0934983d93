#!/usr/bin/env python3
"""Wyoming speech-to-text latency: end of audio (AudioStop sent) -> Transcript received, through the socket, for a 3 s
and an 8 s utterance, for

- `hushmic wyoming` (redacted, the default): ASR + word alignment + redaction of text and audio;
- `hushmic wyoming --no-redact`: the same ASR, plain text;
- `wyoming-faster-whisper` 3.8.1 (Home Assistant's usual local STT) loading the SAME tiny.en model directory
  (hushmic's verified copy, int8, beam 5, same thread count, --local-files-only: nothing downloads), if installed
  (`pip install '.[bench-wyoming]'`); otherwise its row says why.

    .venv/bin/python -m bench.wyoming_bench [--repeats 5] [--json OUT.json]

The utterances are cut from the committed fixture tests/fixtures/redact/phone_sentence.wav (flite slt, 16 kHz):
3 s = "please call me at" (+ silence), 8 s = "please call me at five five five one two three four tomorrow" (+ silence).
The audio is sent as fast as the socket takes it (the client has it all), so the figure is what a Home Assistant
user waits after they stop speaking. The servers run side by side, each warmed up by one request, and take turns
request by request, so load from elsewhere on the machine hits them alike (only one request runs at a time).
Medians of `--repeats` runs. JSON on stdout, a table on stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "redact" / "phone_sentence.wav"
RATE = 16000
UTTERANCES = {"3s": (2.8, 3.0), "8s": (7.8, 8.0)}  # name: (seconds of the fixture kept, total with silence)


def utterances():
    with wave.open(str(FIXTURE)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    out = {}
    for name, (keep, total) in UTTERANCES.items():
        u = np.zeros(int(total * RATE), dtype="<i2")
        u[:int(keep * RATE)] = x[:int(keep * RATE)]
        out[name] = u.tobytes()
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, port, log, env=None, timeout=120):
    """Start a server and wait until its port accepts connections."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if p.poll() is not None:
            raise RuntimeError(f"exited {p.returncode}: {Path(log).read_text()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.2)
    p.kill()
    raise RuntimeError(f"not listening after {timeout} s")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


async def one_request(port, pcm, chunk=2048):
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient

    async with AsyncTcpClient("127.0.0.1", port) as c:
        await c.write_event(Transcribe(language="en").event())
        await c.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
        for i in range(0, len(pcm), chunk):
            await c.write_event(AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[i:i + chunk]).event())
        await c.write_event(AudioStop().event())
        t0 = time.perf_counter()
        while True:
            ev = await asyncio.wait_for(c.read_event(), 120)
            if ev is None:
                raise RuntimeError("the server closed the connection")
            if Transcript.is_type(ev.type):
                return time.perf_counter() - t0, Transcript.from_event(ev).text
            if ev.type == "error":
                raise RuntimeError(f"error event: {ev.data}")


def measure(servers, utts, repeats, workdir, env):
    """servers: [(name, cmd, port)]. All run at once and take turns request by request (round robin), so a change
    in the machine's load hits every server alike."""
    rows, procs = {}, {}
    try:
        for name, cmd, port in servers:
            try:
                procs[name] = start(cmd, port, Path(workdir) / f"{len(procs)}.log", env=env)
                asyncio.run(one_request(port, utts["3s"]))  # warm-up: the model loads
                rows[name] = {"server": name, "_lat": {u: [] for u in utts}, "_text": {}}
            except Exception as e:
                rows[name] = {"server": name, "error": str(e)}
        for _ in range(repeats):
            for u, pcm in utts.items():
                for name, _, port in servers:
                    r = rows[name]
                    if "error" in r:
                        continue
                    try:
                        s, text = asyncio.run(one_request(port, pcm))
                    except Exception as e:
                        r["error"] = str(e)
                        continue
                    r["_lat"][u].append(s)
                    r["_text"][u] = text
    finally:
        for p in procs.values():
            stop(p)
    out = []
    for name, _, _ in servers:
        r = rows[name]
        if "error" not in r:
            for u, lat in r["_lat"].items():
                r[u] = {"median_s": round(statistics.median(lat), 3), "min_s": round(min(lat), 3),
                        "max_s": round(max(lat), 3), "text": r["_text"][u]}
        r.pop("_lat", None)
        r.pop("_text", None)
        out.append(r)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", metavar="OUT.json", help="also write the JSON here")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        print("wyoming_bench: --repeats must be >= 1", file=sys.stderr)
        return 2
    from hushmic.asr import models

    model_dir = models.verified_model_dir()
    utts = utterances()
    load_before = os.getloadavg()[0]
    threads = str(int(os.environ.get("HUSHMIC_ASR_THREADS") or min(4, os.cpu_count() or 2)))
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="wyoming-bench-") as tmp:
        env = dict(os.environ, HUSHMIC_HOME=tmp, HF_HUB_OFFLINE="1")
        servers = []
        for name, extra in (("hushmic (redacted)", []), ("hushmic --no-redact", ["--no-redact"])):
            port = free_port()
            servers.append((name, [sys.executable, "-m", "hushmic", "wyoming", "--uri", f"tcp://127.0.0.1:{port}",
                                   *extra], port))
        fw = bindir / "wyoming-faster-whisper"
        name = "wyoming-faster-whisper 3.8.1"
        skipped = None
        if model_dir is None:
            skipped = {"server": name, "skipped": "no verified Whisper tiny.en model (hushmic models install)"}
        elif not fw.exists():
            skipped = {"server": name, "skipped": "not installed: pip install '.[bench-wyoming]' "
                                                  "(wyoming-faster-whisper==3.8.1, from PyPI)"}
        else:
            port = free_port()
            servers.append((name, [str(fw), "--uri", f"tcp://127.0.0.1:{port}", "--model", str(model_dir),
                                   "--data-dir", tmp, "--local-files-only", "--stt-library", "faster-whisper",
                                   "--language", "en", "--compute-type", "int8", "--beam-size", "5",
                                   "--cpu-threads", threads], port))
        rows = measure(servers, utts, args.repeats, tmp, env) + ([skipped] if skipped else [])
    out = {"bench": "wyoming", "repeats": args.repeats, "cpu_count": os.cpu_count(), "asr_threads": int(threads),
           "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after: the machine's state
           "model": str(model_dir) if model_dir else None,
           "utterances": {k: f"{v[1]:.0f} s" for k, v in UTTERANCES.items()}, "rows": rows}
    red = next((r for r in rows if r["server"] == "hushmic (redacted)" and "3s" in r), None)
    plain = next((r for r in rows if r["server"] == "hushmic --no-redact" and "3s" in r), None)
    if red and plain:  # what redaction adds to the wait (noise: compare with the min-max spread)
        out["redaction_cost_s"] = {u: round(red[u]["median_s"] - plain[u]["median_s"], 3) for u in UTTERANCES}
    base = next((r for r in rows if r["server"].startswith("wyoming-faster") and "3s" in r), None)
    for r in rows:
        if base is not None and "3s" in r:
            r["ratio_to_faster_whisper"] = {u: round(r[u]["median_s"] / base[u]["median_s"], 2) for u in UTTERANCES}
    print(f"load average (1 min) before/after: {out['load_avg_1m'][0]} / {out['load_avg_1m'][1]} on "
          f"{os.cpu_count()} cores", file=sys.stderr)
    print(f"{'server':<30} {'3 s: median (min-max)':>24} {'8 s: median (min-max)':>24}  ratio to f-w", file=sys.stderr)
    for r in rows:
        if "3s" not in r:
            print(f"{r['server']:<30} {r.get('error') or r.get('skipped')}", file=sys.stderr)
            continue
        cells = [f"{r[u]['median_s']:.2f} s ({r[u]['min_s']:.2f}-{r[u]['max_s']:.2f})" for u in UTTERANCES]
        ratio = r.get("ratio_to_faster_whisper")
        print(f"{r['server']:<30} {cells[0]:>24} {cells[1]:>24}  "
              f"{' / '.join(f'{v:.2f}' for v in ratio.values()) if ratio else ''}", file=sys.stderr)
    if "redaction_cost_s" in out:
        print("redaction cost (median redacted - median --no-redact): "
              + ", ".join(f"{u} {v:+.2f} s" for u, v in out["redaction_cost_s"].items()), file=sys.stderr)
    for r in rows:
        if "8s" in r:
            print(f"  {r['server']}: 8 s -> {r['8s']['text']!r}", file=sys.stderr)
    s = json.dumps(out, indent=1)
    print(s)
    if args.json:
        Path(args.json).write_text(s + "\n")
    return 0 if all("3s" in r or "skipped" in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
