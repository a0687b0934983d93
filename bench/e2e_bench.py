"""End to end on ../shared/eval/e2e: the recorded sessions through `hushmic listen --sim --fast`, scored by the set's own
scorer (score_e2e.py: PII spans bleeped, PII entities readable, non-PII speech removed), beside an anchor pipeline of
off-the-shelf parts in the same run.

    python -m bench.e2e_bench                     # all four dev sessions, hushmic and the anchor
    python -m bench.e2e_bench --sessions 1 --no-anchor --turn-gap 0    # one session, turns off
    python -m bench.e2e_bench --wav DIR           # unseen sessions laid out like the dev set (session_N.wav/.json)

Table on stderr, JSON on stdout. Targets (../shared/eval/e2e/README.md): bleeped >= 0.95, readable <= 0.05, non-PII
speech removed <= 0.08. The anchor: WebRTC VAD (mode 2, 30 ms, 300 ms pre-roll and hangover) -> faster-whisper tiny.en
on each segment (the same hash-checked model) -> Presidio (regex recognizers, or spaCy NER if installed) plus a
digit regex on Whisper's written text -> silence over Whisper's own word times +-100 ms. It needs the bench
extras (`pip install -e '.[bench,bench-pii]'`); without them only hushmic runs. The scorer needs `soundfile`.
The latency column is the end-of-turn -> stored median that the listener measured on one session played in real
time (--latency-session; --fast runs queue turns faster than ASR can take them, so they say nothing about latency).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
E2E = REPO.parent / "shared" / "eval" / "e2e"
RATE = 16000
TARGETS = {"bleeped": (">=", 0.95), "readable": ("<=", 0.05), "over_redaction": ("<=", 0.08)}


def load_scorer(e2e_dir):
    sys.path.insert(0, str(e2e_dir))
    try:
        import score_e2e
    finally:
        sys.path.pop(0)
    return score_e2e


def sessions(e2e_dir, which):
    out = []
    for n in which:
        gold, wav = Path(e2e_dir) / f"session_{n}.json", Path(e2e_dir) / f"session_{n}.wav"
        if gold.exists() and wav.exists():
            out.append((n, gold, wav))
    return out


# ---------------------------------------------------------------------------------------------- hushmic
def run_hushmic(wav, out_dir, turn_gap=None, extra=(), fast=True):
    """`hushmic listen --sim WAV --fast --json --save-audio`; returns (redacted wav, events jsonl, stats)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    red, events = out_dir / f"{wav.stem}.wav", out_dir / f"{wav.stem}.jsonl"
    cmd = [sys.executable, "-m", "hushmic", "listen", "--sim", str(wav), "--json", "--no-store",
           "--save-audio", str(red), *(["--fast"] if fast else []), *extra]
    if turn_gap is not None:
        cmd += ["--turn-gap", str(turn_gap)]
    env = dict(os.environ)
    env.setdefault("HUSHMIC_HOME", tempfile.mkdtemp(prefix="hushmic-e2e-"))
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    wall = time.monotonic() - t
    if p.returncode != 0:
        raise RuntimeError(f"hushmic listen failed on {wav.name}: {p.stderr.strip()[-500:]}")
    events.write_text(p.stdout)
    evs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    backends = sorted({e.get("backend") for e in evs if e["event"] == "transcript"} - {None})
    lat = [e.get("latency_median_s") for e in evs if e["event"] == "stats" and e.get("latency_median_s") is not None]
    return red, events, {"wall_s": round(wall, 2), "backends": backends, "latency_median_s": lat[-1] if lat else None}


# ---------------------------------------------------------------------------------------------- the anchor
def _webrtc_segments(pcm, mode=2, frame_ms=30, pad_ms=300):
    import webrtcvad
    vad = webrtcvad.Vad(mode)
    n = RATE * frame_ms // 1000
    flags = [vad.is_speech(pcm[i:i + n].tobytes(), RATE) for i in range(0, len(pcm) - n + 1, n)]
    pad = pad_ms // frame_ms
    segs, start, last = [], None, None
    for k, f in enumerate(flags):
        if f:
            if start is None:
                start = max(0, k - pad)
            last = k
        elif start is not None and k - last > pad:
            segs.append((start * n, min(len(pcm), (last + 1 + pad) * n)))
            start = None
    if start is not None:
        segs.append((start * n, len(pcm)))
    return segs




ANCHOR_WHISPER = "whisper-tiny.en"   # the anchor's recogniser, whatever hushmic's default Whisper model is


_WRITTEN_NUMBER = re.compile(r"\d[\d\s().-]{2,}\d")  # the off-the-shelf regex: any written run of 4+ digits


def run_anchor(wav, out_dir):
    """What an off-the-shelf pipeline does: Presidio (and a digit regex) on Whisper's WRITTEN text ("555-1234",
    "x@y.com", names capitalised), each hit mapped to Whisper's words, silenced over Whisper's own times +-100 ms."""
    from hushmic import audio_io
    from hushmic.asr.base import Word
    from hushmic.asr import whisper_backend
    from hushmic.redact import Span, redact_audio
    from hushmic.redact.presidio_adapter import analyzer

    find = analyzer("auto")
    pcm = audio_io.load_speech(str(wav))
    out = np.zeros_like(pcm)
    lines = []
    for a, b in _webrtc_segments(pcm):
        x = pcm[a:b]
        segs, _ = whisper_backend.recognise(x, RATE, model=ANCHOR_WHISPER)
        raw = [w for s in segs for w in s if w[0].strip()]
        words = [Word(t.strip(), t0, t1, p) for t, t0, t1, p in raw]
        text = " ".join(w.word for w in words)
        hits = [(r.start, r.end, r.entity_type) for r in find(text) if r.score >= 0.3]
        hits += [(m.start(), m.end(), "NUMBER") for m in _WRITTEN_NUMBER.finditer(text)]
        spans = [Span(c0, c1, typ) for c0, c1, typ in hits]
        red, _ = redact_audio(x, RATE, words, spans, margin_ms=100, mode="silence", sure_margin_ms=None)
        out[a:b] = red
        tagged, pos = [], 0
        for c0, c1, typ in sorted(hits):
            if c0 < pos:
                continue
            tagged += [text[pos:c0], f"[{typ}]"]
            pos = c1
        lines.append(json.dumps({"event": "transcript", "start": a / RATE, "end": b / RATE,
                                 "text": "".join(tagged) + text[pos:]}))
    out_dir.mkdir(parents=True, exist_ok=True)
    red_path, tr_path = out_dir / f"{wav.stem}.wav", out_dir / f"{wav.stem}.jsonl"
    with wave.open(str(red_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(out.astype("<i2").tobytes())
    tr_path.write_text("\n".join(lines) + "\n")
    return red_path, tr_path


def anchor_available():
    try:
        import presidio_analyzer  # noqa: F401
        import webrtcvad  # noqa: F401

        from hushmic.asr import whisper_backend
        return whisper_backend.available(model=ANCHOR_WHISPER)
    except ImportError:
        return False


# ---------------------------------------------------------------------------------------------- scoring
def summarise(summary):
    a, t = summary["audio"], summary["text"]
    return {"bleeped": a["bleeped_span_frac"], "readable": t["leaked_entity_frac"],
            "over_redaction": a["overredaction_frac"], "nopii_utts_touched": a.get("nopii_utts_touched"),
            "nopii_utts_with_tags": t.get("nopii_utts_with_tags"), "per_type_bleeped": a.get("per_type_bleeped"),
            "per_type_leaked": t.get("per_type_leaked")}


def details(results):
    out = []
    for r in results:
        for s in r.get("audio", {}).get("spans", []):
            if not s["bleeped"]:
                out.append(f"NOT BLEEPED {s['session']} {s['utt']} {s['type']} removed={s['removed_frac']}")
        for s in r.get("text", {}).get("spans", []):
            if s["leaked"]:
                out.append(f"LEAKED {s['session']} {s['utt']} {s['type']}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--e2e", default=str(E2E), help="folder with session_N.wav/.json and score_e2e.py (default: the dev set)")
    ap.add_argument("--sessions", default="1,2,3,4", help="comma-separated session numbers (default 1,2,3,4)")
    ap.add_argument("--turn-gap", type=float, default=None, help="passed to listen --turn-gap (default: listen's)")
    ap.add_argument("--no-anchor", action="store_true", help="hushmic only")
    ap.add_argument("--out", default=None, help="keep the outputs here (default: a temporary folder)")
    ap.add_argument("--details", action="store_true", help="list every span not bleeped or leaked on stderr")
    ap.add_argument("--latency-session", type=int, default=1,
                    help="play this session in real time to measure end-of-turn -> stored latency (0: skip)")
    args = ap.parse_args(argv)
    e2e = Path(args.e2e)
    scorer_dir = e2e if (e2e / "score_e2e.py").exists() else E2E
    if not (scorer_dir / "score_e2e.py").exists():
        print(f"e2e_bench: no score_e2e.py in {e2e} or {E2E}", file=sys.stderr)
        return 2
    try:
        scorer = load_scorer(scorer_dir)
    except ImportError as e:
        print(f"e2e_bench: the scorer needs numpy and soundfile ({e}): pip install soundfile", file=sys.stderr)
        return 2
    which = [int(x) for x in args.sessions.split(",") if x.strip()]
    sess = sessions(e2e, which)
    if not sess:
        print(f"e2e_bench: no sessions {which} in {e2e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    pipelines = {"hushmic": None}
    if not args.no_anchor:
        if anchor_available():
            pipelines["anchor"] = None
        else:
            print("e2e_bench: anchor skipped (needs the bench extras and the Whisper model)", file=sys.stderr)
    result = {"sessions": [n for n, _, _ in sess], "e2e": str(e2e), "targets": TARGETS}
    rows = []
    for name in pipelines:
        runs, info = [], []
        t0 = time.monotonic()
        for n, gold, wav in sess:
            print(f"  {name}: session_{n} ...", file=sys.stderr, flush=True)
            if name == "hushmic":
                red, tr, st = run_hushmic(wav, out / name, args.turn_gap)
                info.append(st)
            else:
                red, tr = run_anchor(wav, out / name)
            runs.append((str(gold), str(red), str(tr)))
        wall = time.monotonic() - t0
        summary, results = scorer.score(runs)
        res = summarise(summary)
        res["wall_s"] = round(wall, 1)
        if info:
            res["backends"] = sorted({b for i in info for b in i["backends"]})
            live = [(n, w) for n, _, w in sessions(e2e, [args.latency_session])] if args.latency_session else []
            if live:
                print(f"  {name}: session_{live[0][0]} in real time (latency) ...", file=sys.stderr, flush=True)
                _, _, st = run_hushmic(live[0][1], out / "realtime", args.turn_gap, fast=False)
                res["turn_to_stored_latency_median_s"] = st["latency_median_s"]
        res["misses"] = details(results)
        result[name] = res
        rows.append((name, res))
    print(f"\n{'pipeline':10s} {'bleeped':>8s} {'readable':>9s} {'over-red.':>9s} {'no-PII tagged':>14s} {'latency':>8s}",
          file=sys.stderr)
    for name, r in rows:
        lat = r.get("turn_to_stored_latency_median_s")
        print(f"{name:10s} {r['bleeped']:8.3f} {r['readable']:9.3f} {r['over_redaction']:9.3f} "
              f"{str(r['nopii_utts_with_tags']):>14s} {('%.2fs' % lat) if lat is not None else '-':>8s}", file=sys.stderr)
    print(f"{'target':10s} {'>=0.950':>8s} {'<=0.050':>9s} {'<=0.080':>9s}", file=sys.stderr)
    if args.details:
        for name, r in rows:
            for m in r["misses"]:
                print(f"  {name}: {m}", file=sys.stderr)
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
