"""VAD benchmark: the firmware detector (run in the MicroPython VM, as `hushmic vad` does) beside WebRTC VAD,
earshot and Silero, on the same files in the same run.

    python -m bench.vad_bench [--corpus DIR ...] [--no-cost] [--json-out FILE]

Prints a table on stderr and one JSON object on stdout. Needs the `bench` extra for the baselines
(`pip install -e '.[bench]'`): webrtcvad-wheels, earshot (pinned: its API changed), silero-vad (only its ONNX
file is used, through onnxruntime; no torch). A baseline whose package is missing is reported as skipped.

Metrics (pooled over all frames of the corpus; `frames` is scored, i.e. after hysteresis, before the endpointer):
  F1         frame F1 of speech
  FA         false-alarm rate = detected frames / non-speech frames (babble is labelled non-speech)
  ..-nb      the same without the babble clips
  onsets     labelled speech segments whose first frame is transmitted (`sent`), among those the detector found
             (some detected frame inside) and that are transmitted. The others are missed, not clipped, and are
             counted apart: never detected (even if a neighbour's pre-roll or hangover sends part of it), or
             detected only in blips shorter than min_speech (which by design start no segment)
  end lag    per labelled segment, end of the transmitted segment minus end of the labelled speech, ms:
             median and 90th percentile; target <= hangover + 50 ms
Cost: VM microseconds per 10 ms frame of Vad.process (+ Endpointer.step), median of repeated runs over a real
clip, for the viper kernel and the plain twin, and a chip estimate = VM time x factor (see CHIP_FACTOR).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hushmic.audio_io import read_wav_strict  # noqa: E402
from hushmic.vad_runner import FIRMWARE_DIR, find_vm, run_vad, runs  # noqa: E402

DEV = REPO.parent / "shared" / "eval" / "vad"
# The brief: interpreted MicroPython on the ESP32-S3 (240 MHz LX7) is ~75x slower than the x86 unix port.
# Viper code is native code; the same 75x is applied to it as a conservative bound: the clock ratio is ~15x
# (240 MHz vs ~3.5 GHz) and an in-order single-issue core loses a further ~2-3x to an out-of-order x86,
# so native-to-native is ~30-45x; the interpreter ratio (75x) is the worse of the two, and it also covers the
# interpreted call into the kernel.
CHIP_FACTOR_PLAIN = 75
CHIP_FACTOR_VIPER = 75


# --------------------------------------------------------------------------- corpus and metrics
def load(dirs):
    clips = []
    for d in dirs:
        for js in sorted(glob.glob(os.path.join(d, "*.json"))):
            if js.endswith("manifest.json"):
                continue
            meta = json.load(open(js))
            lab = np.frombuffer(meta["frame_labels"].encode(), np.uint8) - ord("0")
            clips.append(dict(id=meta["id"], meta=meta, wav=js[:-5] + ".wav", lab=lab.astype(bool)))
    return clips


def prf(clips, key, exclude_babble=False):
    tp = fp = fn = neg = 0
    for c in clips:
        if exclude_babble and c["meta"].get("noise_kind") == "babble":
            continue
        lab, dec = c["lab"], c[key]
        tp += int((lab & dec).sum())
        fp += int((~lab & dec).sum())
        fn += int((lab & ~dec).sum())
        neg += int((~lab).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1), fp / max(neg, 1)


def onset_and_lag(clips, hangover_ms):
    """Onsets: labelled segments whose first frame is in `sent`. End lag: for each transmitted segment, its end
    minus the end of the last labelled speech inside it (ms); segments with no labelled speech are false starts."""
    found = clipped = missed = blips = false_segs = 0
    lags = []
    for c in clips:
        lab, dec, sent = c["lab"], c["fw"], c["sent"]
        for a, b in runs("".join("1" if v else "0" for v in lab)):
            if not dec[a:b].any():
                missed += 1
                continue
            if not sent[a:b].any():
                blips += 1
                continue
            found += 1
            if not sent[a]:
                clipped += 1
        for s, e in runs("".join("1" if v else "0" for v in sent)):
            idx = np.flatnonzero(lab[s:e])
            if len(idx) == 0:
                false_segs += 1
                continue
            if e < len(lab):   # a segment cut by the end of the file has no end to measure
                lags.append((e - (s + idx[-1] + 1)) * 10)
    lags = np.array(lags) if lags else np.zeros(1)
    return dict(segments_found=found, segments_missed=missed + blips, segments_missed_blips_only=blips,
                onsets_clipped=clipped, sent_segments_without_speech=false_segs,
                end_lag_ms_median=float(np.median(lags)), end_lag_ms_p90=float(np.percentile(lags, 90)),
                end_lag_within_target=float(np.mean(lags <= hangover_ms + 50)))


def to_frames(chunk_dec, chunk, n):
    """Map decisions on chunks of `chunk` samples to 10 ms frames by each frame's centre sample."""
    idx = np.minimum((np.arange(n) * 160 + 80) // chunk, len(chunk_dec) - 1)
    return np.asarray(chunk_dec, bool)[idx] if len(chunk_dec) else np.zeros(n, bool)


# --------------------------------------------------------------------------- detectors
def run_firmware(clips, sensitivity=5):
    def one(c):
        x = read_wav_strict(c["wav"])
        r = run_vad(x, sensitivity=sensitivity)
        return (np.frombuffer(r.frames.encode(), np.uint8) == 49, np.frombuffer(r.sent.encode(), np.uint8) == 49,
                r.kernel, r.settings)
    with ThreadPoolExecutor(max_workers=2) as ex:
        res = list(ex.map(one, clips))
    for c, (f, s, k, st) in zip(clips, res):
        c["fw"], c["sent"] = f, s
    return res[0][2], res[0][3]


def run_webrtc(clips, mode):
    import webrtcvad
    v = webrtcvad.Vad(mode)
    for c in clips:
        x = read_wav_strict(c["wav"])
        n = len(x) // 160
        b = x[: n * 160].astype("<i2").tobytes()
        c[f"webrtc{mode}"] = np.array([v.is_speech(b[i * 320:(i + 1) * 320], 16000) for i in range(n)], bool)


def run_earshot(clips):
    import earshot
    for c in clips:
        det = earshot.Detector()
        x = read_wav_strict(c["wav"])
        n = len(x) // 160
        m = len(x) // 256
        sc = [det.predict_i16(x[i * 256:(i + 1) * 256]) for i in range(m)]
        c["earshot"] = to_frames(np.array(sc) > 0.5, 256, n)


def silero_model():
    """(session, kind): Silero's ONNX through onnxruntime, no torch. From the silero-vad wheel if installed (its
    package imports torch, so only its data file is read), else the copy that faster-whisper ships (asr extra)."""
    import importlib.util

    import onnxruntime
    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    for pkg, rel, kind in (("silero_vad", "data/silero_vad.onnx", "state"),
                           ("faster_whisper", "assets/silero_vad_v6.onnx", "hc")):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if path.exists():
            sess = onnxruntime.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            return sess, kind, f"{pkg}/{rel}"
    raise ModuleNotFoundError("no Silero ONNX model (install silero-vad --no-deps, or the asr extra)")


def run_silero(clips):
    sess, kind, src = silero_model()
    sr = np.array(16000, dtype=np.int64)
    for c in clips:
        x = read_wav_strict(c["wav"]).astype(np.float32) / 32768.0
        n = len(x) // 160
        m = len(x) // 512
        probs = []
        if kind == "state":
            state = np.zeros((2, 1, 128), np.float32)
            ctx = np.zeros((1, 64), np.float32)
            for i in range(m):
                chunk = np.concatenate([ctx, x[None, i * 512:(i + 1) * 512]], axis=1)
                out, state = sess.run(None, {"input": chunk, "state": state, "sr": sr})
                ctx = chunk[:, -64:]
                probs.append(float(np.ravel(out)[0]))
        else:   # faster-whisper's export: a batch of 512-sample chunks, each with the previous 64 samples
            b = x[: m * 512].reshape(m, 512)
            ctx = np.zeros((m, 64), np.float32)
            ctx[1:] = b[:-1, -64:]
            h = np.zeros((1, 1, 128), np.float32)
            cc = np.zeros((1, 1, 128), np.float32)
            out, h, cc = sess.run(None, {"input": np.concatenate([ctx, b], 1), "h": h, "c": cc})
            probs = list(np.ravel(out)[:m]) if m else []
        c["silero"] = to_frames(np.array(probs) > 0.5, 512, n)
    return src


# --------------------------------------------------------------------------- cost
COST_SCRIPT = r"""
import sys, time, array
sys.path.append(%(fw)r)
import vad, endpoint
raw = open(%(raw)r, 'rb').read()
nfr = len(raw) // 320
frames = [array.array('h', raw[i * 320:(i + 1) * 320]) for i in range(nfr)]
kinds = [vad.kernel_kind()] + (['plain'] if vad.kernel_kind() == 'viper' else [])
for kind in kinds:
    reps = []
    v = vad.Vad(kernel=kind)
    nrep = 9 if kind == 'viper' else 3
    for r in range(nrep):
        v.reset()
        t0 = time.ticks_us()
        for fr in frames:
            v.process(fr)
        reps.append(time.ticks_diff(time.ticks_us(), t0) / nfr)
    print(kind, ' '.join('%%.3f' %% t for t in reps))
ep = endpoint.Endpointer()
d = array.array('b', [1 if (i // 37) %% 3 else 0 for i in range(nfr)])
reps = []
for r in range(5):
    ep.reset()
    t0 = time.ticks_us()
    for i in range(nfr):
        ep.step(d[i])
    reps.append(time.ticks_diff(time.ticks_us(), t0) / nfr)
print('endpoint', ' '.join('%%.3f' %% t for t in reps))
"""


def measure_cost(wav):
    vm = find_vm()
    x = read_wav_strict(wav)
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / "a.raw"
        raw.write_bytes(x[: len(x) // 160 * 160].astype("<i2").tobytes())
        scr = Path(td) / "cost.py"
        scr.write_text(COST_SCRIPT % dict(fw=str(FIRMWARE_DIR), raw=str(raw)))
        env = dict(os.environ, MICROPYPATH=f"{FIRMWARE_DIR}{os.pathsep}.frozen")
        p = subprocess.run([vm, "-X", "heapsize=8M", str(scr)], capture_output=True, text=True, env=env, timeout=600)
    if p.returncode:
        raise RuntimeError(p.stderr)
    out = {}
    for line in p.stdout.strip().split("\n"):
        k, *vals = line.split()
        out[k] = round(statistics.median(float(v) for v in vals), 3)
        out[k + "_min"] = round(min(float(v) for v in vals), 3)
    cost = {"vm_us_per_frame": out, "chip_factor_plain": CHIP_FACTOR_PLAIN, "chip_factor_viper": CHIP_FACTOR_VIPER}
    if "viper" in out:
        cost["chip_us_per_frame_viper"] = round((out["viper"] + out["endpoint"]) * CHIP_FACTOR_VIPER, 1)
        # the minimum over repetitions is the run least disturbed by other processes on a shared machine
        cost["chip_us_per_frame_viper_from_min"] = round((out["viper_min"] + out["endpoint_min"]) * CHIP_FACTOR_VIPER, 1)
    if "plain" in out:
        cost["chip_us_per_frame_plain"] = round((out["plain"] + out["endpoint"]) * CHIP_FACTOR_PLAIN, 1)
    cost["budget_us_per_frame"] = 1000
    return cost


# --------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", nargs="+", default=[str(DEV)], help="labelled corpus folder(s) (default: the dev set)")
    ap.add_argument("--sensitivity", type=int, default=5)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--no-cost", action="store_true")
    ap.add_argument("--json-out", help="also write the JSON object to this file")
    a = ap.parse_args(argv)

    clips = load(a.corpus)
    if not clips:
        print("no labelled clips found in " + ", ".join(a.corpus), file=sys.stderr)
        return 2
    t0 = time.time()
    kernel, settings = run_firmware(clips, a.sensitivity)
    timing = {"hushmic": time.time() - t0}
    dets = [("hushmic", "fw")]
    skipped = {}
    versions = {}
    if not a.no_baselines:
        for name, key, fn in (("webrtc mode 2", "webrtc2", lambda: run_webrtc(clips, 2)),
                              ("webrtc mode 3", "webrtc3", lambda: run_webrtc(clips, 3)),
                              ("earshot", "earshot", lambda: run_earshot(clips)),
                              ("silero (onnx)", "silero", lambda: versions.__setitem__("silero_model", run_silero(clips)))):
            t0 = time.time()
            try:
                fn()
                dets.append((name, key))
                timing[name] = time.time() - t0
            except Exception as e:  # a missing optional package or model: report, go on
                skipped[name] = f"{type(e).__name__}: {e}"
    res = {"corpus": [str(Path(d)) for d in a.corpus], "clips": len(clips),
           "frames": int(sum(len(c["lab"]) for c in clips)), "kernel": kernel, "settings": settings,
           "sensitivity": a.sensitivity, "detectors": {}, "skipped": skipped}
    for name, key in dets:
        f1, fa = prf(clips, key)
        f1n, fan = prf(clips, key, exclude_babble=True)
        res["detectors"][name] = {"f1": round(f1, 4), "fa": round(fa, 4), "f1_no_babble": round(f1n, 4),
                                  "fa_no_babble": round(fan, 4), "seconds": round(timing.get(name, 0), 2)}
    res["endpoint"] = onset_and_lag(clips, settings.get("hangover_ms", 300))
    for mod in ("webrtcvad", "earshot", "onnxruntime", "silero_vad"):
        try:
            from importlib.metadata import version
            versions[mod] = version({"webrtcvad": "webrtcvad-wheels", "silero_vad": "silero-vad"}.get(mod, mod))
        except Exception:
            pass
    res["versions"] = versions
    if not a.no_cost:
        longest = max(clips, key=lambda c: len(c["lab"]))
        res["cost"] = measure_cost(longest["wav"])
        res["cost"]["clip"] = longest["id"]

    # table
    w = sys.stderr.write
    w(f"\nVAD benchmark: {res['clips']} clips, {res['frames']} frames of 10 ms ({', '.join(res['corpus'])})\n")
    w(f"{'detector':16s} {'F1':>7s} {'FA':>7s} {'F1-nb':>7s} {'FA-nb':>7s}\n")
    for name, d in res["detectors"].items():
        w(f"{name:16s} {d['f1']:7.3f} {100 * d['fa']:6.1f}% {d['f1_no_babble']:7.3f} {100 * d['fa_no_babble']:6.1f}%\n")
    for name, why in skipped.items():
        w(f"{name:16s} skipped ({why})\n")
    e = res["endpoint"]
    w(f"\nendpointer (hushmic, pre-roll {settings.get('preroll_ms')} ms, hangover {settings.get('hangover_ms')} ms): "
      f"onsets clipped {e['onsets_clipped']}/{e['segments_found']} detected and sent segments "
      f"({e['segments_missed']} segments missed, {e['segments_missed_blips_only']} of them detected only "
      f"in blips shorter than min_speech; {e['sent_segments_without_speech']} sent segments "
      f"without speech); end lag median {e['end_lag_ms_median']:.0f} ms, "
      f"p90 {e['end_lag_ms_p90']:.0f} ms, {100 * e['end_lag_within_target']:.0f}% within hangover + 50 ms\n")
    if "cost" in res:
        c = res["cost"]
        vm = c["vm_us_per_frame"]
        w("cost per 10 ms frame in the VM (x86 unix port, median): " +
          ", ".join(f"{k} {v:.2f} us" for k, v in vm.items() if not k.endswith("_min")) +
          "  (min: " + ", ".join(f"{k[:-4]} {v:.2f}" for k, v in vm.items() if k.endswith("_min")) + ")\n")
        if "chip_us_per_frame_viper" in c:
            w(f"chip estimate (viper + endpointer) x{CHIP_FACTOR_VIPER}: {c['chip_us_per_frame_viper']:.0f} us "
              f"from the median, {c['chip_us_per_frame_viper_from_min']:.0f} us from the least disturbed run, "
              f"of the 1000 us budget\n")
        if "chip_us_per_frame_plain" in c:
            w(f"chip estimate (plain twin + endpointer) x{CHIP_FACTOR_PLAIN}: {c['chip_us_per_frame_plain']:.0f} us\n")
    out = json.dumps(res)
    print(out)
    if a.json_out:
        Path(a.json_out).write_text(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
