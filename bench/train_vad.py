"""Train the firmware VAD's tiny MLP offline (numpy only) and write its integer weights into firmware/vad.py.

The features are NOT recomputed in CPython: the firmware's own kernel dumps them from inside the MicroPython VM
(host_tools/sim/vad_driver.py with a feature file), so training sees exactly what the chip computes.

Data: corpora built with shared/eval/make_vad_corpus.py --profile (other seeds, texts, and extra noise kinds),
written under /tmp, never committed. The dev set (shared/eval/vad) is used only to report, never to fit or to
pick thresholds, so dev numbers are an honest held-out measure.

    python bench/train_vad.py --train /tmp/vadgen/train --val /tmp/vadgen/val --dev ../shared/eval/vad [--write]

Validation splits: besides the separate validation corpus (other texts and seed), the training corpus is split
by voice (source) AND noise kind: a held-out group of noise kinds and of talker engines/voices never seen in fit.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NFEAT = 17
NH = 12
HCLIP = 16383


# --------------------------------------------------------------------------- data
def load_corpus(d, cache_dir="/tmp/hushmic-vad-feat"):
    """[(meta, labels uint8, MLP inputs int64 (n, 51))] for every clip in d: the 17 features come from the firmware
    kernel in the VM, then context() stacks them as the kernel's ring does."""
    from hushmic.audio_io import read_wav_strict
    from hushmic.vad_runner import run_vad

    vad_src = (REPO / "firmware" / "vad.py").read_text()
    ksrc = re.search(r'_KSRC = """(.*?)"""', vad_src, re.S).group(1)
    key = hashlib.sha1(ksrc.split("# --- temporal context")[0].encode()).hexdigest()[:12]   # features only
    cdir = Path(cache_dir) / key
    cdir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for js in sorted(glob.glob(os.path.join(d, "*.json"))):
        if js.endswith("manifest.json"):
            continue
        jobs.append(js)

    def one(js):
        meta = json.load(open(js))
        wav = js[:-5] + ".wav"
        lab = np.frombuffer(meta["frame_labels"].encode(), np.uint8) - ord("0")
        cf = cdir / (Path(d).name + "_" + meta["id"] + ".npy")
        if cf.exists():
            f = np.load(cf)
        else:
            x = read_wav_strict(wav)
            f = run_vad(x, features=True).features
            np.save(cf, f)
        return (meta, lab, context(f))

    with ThreadPoolExecutor(max_workers=2) as ex:
        out = list(ex.map(one, jobs))
    return out


# --------------------------------------------------------------------------- model
def fit(X, y, nh=NH, epochs=400, lr=0.01, seed=0, wd=1e-4, pos_weight=1.0):
    """Float MLP (standardised inputs) with Adam, full batch. Returns dict of float params."""
    rng = np.random.default_rng(seed)
    mu = X.mean(0)
    sd = X.std(0) + 1e-6
    Z = (X - mu) / sd
    n, d = Z.shape
    W = rng.standard_normal((nh, d)) * np.sqrt(2.0 / d)
    b = np.zeros(nh)
    V = rng.standard_normal(nh) * np.sqrt(1.0 / nh)
    c = 0.0
    params = [W, b, V, np.array([c])]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    sw = np.where(y > 0, pos_weight, 1.0)
    sw = sw / sw.mean()
    for t in range(1, epochs + 1):
        W, b, V, cc = params
        H = Z @ W.T + b
        A = np.maximum(H, 0)
        logit = A @ V + cc[0]
        p = 1 / (1 + np.exp(-np.clip(logit, -30, 30)))
        g = (p - y) * sw / n
        gV = A.T @ g + wd * V
        gc = np.array([g.sum()])
        gA = np.outer(g, V) * (H > 0)
        gW = gA.T @ Z + wd * W
        gb = gA.sum(0)
        grads = [gW, gb, gV, gc]
        for i, (pp, gg) in enumerate(zip(params, grads)):
            m[i] = 0.9 * m[i] + 0.1 * gg
            v[i] = 0.999 * v[i] + 0.001 * gg * gg
            mh = m[i] / (1 - 0.9 ** t)
            vh = v[i] / (1 - 0.999 ** t)
            pp -= lr * mh / (np.sqrt(vh) + 1e-8)
    W, b, V, cc = params
    return dict(mu=mu, sd=sd, W=W, b=b, V=V, c=float(cc[0]))


def quantize(P, fmax=512, wmax=4095):
    """Integer weights for the kernel: acc = b + W.f ; h = acc >> q1 (1/256 units) ; z = (V.h + c) >> q2 (logit x 256).
    q1, q2 are the largest shifts for which every partial sum is provably < 2^29 given |f| <= fmax, h <= HCLIP."""
    Wf = P["W"] / P["sd"]
    bf = P["b"] - Wf @ P["mu"]
    q1 = 0
    for q in range(0, 24):
        Wi = np.round(Wf * 2.0 ** (q + 8))
        bi = np.round(bf * 2.0 ** (q + 8))
        if (np.abs(Wi).sum(1) * fmax + np.abs(bi)).max() < 2 ** 28 and np.abs(Wi).max() <= wmax:
            q1 = q
    Wi = np.round(Wf * 2.0 ** (q1 + 8)).astype(np.int64)
    bi = np.round(bf * 2.0 ** (q1 + 8)).astype(np.int64)
    q2 = 0
    for q in range(0, 24):
        Vi = np.round(P["V"] * 2.0 ** q)
        ci = np.round(P["c"] * 256 * 2.0 ** q)
        if np.abs(Vi).sum() * HCLIP + abs(ci) < 2 ** 29:
            q2 = q
    Vi = np.round(P["V"] * 2.0 ** q2).astype(np.int64)
    ci = int(np.round(P["c"] * 256 * 2.0 ** q2))
    return dict(q1=q1, q2=q2, W=Wi, b=bi, V=Vi, c=ci)


def int_scores(Q, F):
    """Exactly the kernel's integer MLP (floor shifts, ReLU, clip), vectorised."""
    F = F.astype(np.int64)
    acc = F @ Q["W"].T + Q["b"]
    h = acc >> Q["q1"]
    h = np.where(h > 0, np.minimum(h, HCLIP), 0)
    z = (h @ Q["V"] + Q["c"]) >> Q["q2"]
    return np.clip(z, -32767, 32767)


def hysteresis(z, on, off, hold):
    """Exactly the kernel's hysteresis."""
    out = np.zeros(len(z), np.uint8)
    st = 0
    cnt = 0
    for i, zz in enumerate(z):
        if st == 0:
            if zz > on:
                st = 1
                cnt = hold
        else:
            if zz < off:
                if cnt > 0:
                    cnt -= 1
                else:
                    st = 0
            else:
                cnt = hold
        out[i] = st
    return out


def metrics(pairs):
    """Pooled frame F1 and false-alarm rate over [(labels, decisions)]."""
    tp = fp = fn = neg = 0
    for lab, dec in pairs:
        lab = np.asarray(lab, bool)
        dec = np.asarray(dec, bool)
        tp += int((lab & dec).sum())
        fp += int((~lab & dec).sum())
        fn += int((lab & ~dec).sum())
        neg += int((~lab).sum())
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return f1, fp / max(neg, 1)


def evaluate(Q, clips, on, off, hold, exclude_babble=False):
    pairs = []
    for meta, lab, F in clips:
        if exclude_babble and meta.get("noise_kind") == "babble":
            continue
        pairs.append((lab, hysteresis(int_scores(Q, F), on, off, hold)))
    return metrics(pairs)


LAGS = (4, 10)
FCLIP = (-512, 511)


def context(F):
    """The kernel's MLP input: [f(t), f(t-4), f(t-10)], features clamped to -512..511, zeros before the start."""
    F = np.clip(np.asarray(F, np.int64), *FCLIP)
    cols = [F]
    for L in LAGS:
        G = np.zeros_like(F)
        if L < len(F):
            G[L:] = F[:-L]
        cols.append(G)
    return np.hstack(cols)


def stack(clips):
    X = np.concatenate([F for _, _, F in clips]).astype(np.float64)
    y = np.concatenate([lab for _, lab, _ in clips]).astype(np.float64)
    return X, y


def tune(Q, clips, hold_opts=range(0, 9), fa_weight=1.0):
    """Pick the hysteresis on the given clips, maximising F1 - fa_weight * FA. Uses off == on, for which the
    kernel's hysteresis is "above `on` in any of the last hold+1 frames" (vectorised; 10 padding frames of
    -inf between clips keep them apart). Returns (score, on, off, hold, f1, fa)."""
    pad = 10
    zs, ls, ms = [], [], []
    for meta, lab, F in clips:
        zs += [int_scores(Q, F), np.full(pad, -10 ** 6)]
        ls += [lab.astype(bool), np.zeros(pad, bool)]
        ms += [np.ones(len(lab), bool), np.zeros(pad, bool)]
    z, lab, mask = np.concatenate(zs), np.concatenate(ls), np.concatenate(ms)
    neg = int((~lab & mask).sum())
    best = None
    for on in range(-1024, 1025, 32):
        d = z > on
        out = d.copy()
        for hold in range(0, max(hold_opts) + 1):
            if hold:
                out[hold:] |= d[:-hold]
            if hold not in hold_opts:
                continue
            tp = int((out & lab).sum())
            fp = int((out & ~lab & mask).sum())
            fn = int((~out & lab).sum())
            f1 = 2 * tp / max(2 * tp + fp + fn, 1)
            fa = fp / max(neg, 1)
            sc = f1 - fa_weight * fa
            if best is None or sc > best[0]:
                best = (sc, on, on, hold, f1, fa)
    return best


def group_of(meta):
    src = meta.get("source") or ""
    return src.split("|")[0].strip().split(":")[0]


def write_weights(Q, on, off, hold, path=REPO / "firmware" / "vad.py", note=""):
    s = path.read_text()
    nin = Q["W"].shape[1]
    Wb = Q["W"] + 4096                       # 0..8191: no sign extension in the kernel's inner loop
    assert Wb.min() >= 0 and Wb.max() <= 8191
    C = Q["b"] - 512 * Wb.sum(1) + nin * 4096 * 512
    assert np.abs(C).max() < 2 ** 29
    flat = [nin, len(Q["b"]), Q["q1"], Q["q2"], 0, 0, 0, 0] + [int(v) for v in Wb.ravel()] + \
        [int(v) for v in C] + [int(v) for v in Q["V"]] + [int(Q["c"])]
    body = ",\n      ".join(", ".join(str(v) for v in flat[i:i + 17]) for i in range(0, len(flat), 17))
    assert len(flat) == 8 + len(Q["b"]) * (nin + 2) + 1
    new = "_W = (%s)" % body
    s = re.sub(r"_W = \((.*?)\)\n", lambda m: new + "\n", s, count=1, flags=re.S)
    s = re.sub(r"_TH_ON5 = const\(-?\d+\)", "_TH_ON5 = const(%d)" % on, s)
    s = re.sub(r"_TH_OFF5 = const\(-?\d+\)", "_TH_OFF5 = const(%d)" % off, s)
    s = re.sub(r"_HOLD = const\(\d+\)", "_HOLD = const(%d)" % hold, s)
    s = re.sub(r"# MLP weights:.*?\n# .*?\n", "# MLP weights: [nin, nh, q1, q2, 0, 0, 0, 0, W+4096 (nh rows of nin), C (nh), V (nh), c]; "
               "written by bench/train_vad.py.\n# %s\n" % note, s, count=1, flags=re.S)
    path.write_text(s)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, nargs="+")
    ap.add_argument("--val", nargs="*", default=[])
    ap.add_argument("--dev", default=str(REPO.parent / "shared" / "eval" / "vad"))
    ap.add_argument("--nh", type=int, default=NH)
    ap.add_argument("--epochs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pos-weight", type=float, default=1.0)
    ap.add_argument("--fa-weight", type=float, default=1.0, help="threshold choice maximises F1 - w * FA")
    ap.add_argument("--skip-split", action="store_true", help="skip the held-out noise x talker report")
    ap.add_argument("--write", action="store_true", help="write the weights into firmware/vad.py")
    a = ap.parse_args(argv)

    train = [c for d in a.train for c in load_corpus(d)]
    val = [c for d in a.val for c in load_corpus(d)]
    dev = load_corpus(a.dev) if a.dev and os.path.isdir(a.dev) else []
    print(f"clips: train {len(train)}, val {len(val)}, dev {len(dev)}", file=sys.stderr)

    # Split report: hold out noise kinds AND talker engines from the training corpus.
    ho_noise = {"music", "keyboard", "clatter"}
    ho_src = {"flite", "human"}
    fit_c = [c for c in train if c[0].get("noise_kind") not in ho_noise and group_of(c[0]) not in ho_src]
    ho_c = [c for c in train if c[0].get("noise_kind") in ho_noise and group_of(c[0]) in ho_src] + \
           [c for c in train if c[0].get("noise_kind") in ho_noise and not c[0].get("has_speech")]
    if not a.skip_split:
        X, y = stack(fit_c)
        P = fit(X, y, nh=a.nh, epochs=a.epochs, seed=a.seed, pos_weight=a.pos_weight)
        Q = quantize(P)
        s, on, off, hold, f1, fa = tune(Q, fit_c, fa_weight=a.fa_weight)
        print(f"[split] fit on {len(fit_c)} clips (no {sorted(ho_noise)} noise, no {sorted(ho_src)} talkers): "
              f"F1 {f1:.3f} FA {fa:.3f}; held-out noise x talker {len(ho_c)} clips: "
              "F1 %.3f FA %.3f" % evaluate(Q, ho_c, on, off, hold), file=sys.stderr)

    # Final model: all the training corpus.
    X, y = stack(train)
    P = fit(X, y, nh=a.nh, epochs=a.epochs, seed=a.seed, pos_weight=a.pos_weight)
    Q = quantize(P)
    s, on, off, hold, f1, fa = tune(Q, train, fa_weight=a.fa_weight)
    res = {"q1": Q["q1"], "q2": Q["q2"], "on": on, "off": off, "hold": hold, "train": (f1, fa)}
    for name, cl in (("val", val), ("dev", dev)):
        if cl:
            res[name] = evaluate(Q, cl, on, off, hold)
            res[name + "_nobabble"] = evaluate(Q, cl, on, off, hold, exclude_babble=True)
    print(json.dumps({k: (list(map(lambda v: round(v, 4), v)) if isinstance(v, tuple) else v) for k, v in res.items()}))
    if a.write:
        note = (f"Trained on {len(train)} generated clips (not the dev set), {Q['W'].shape[1]}->{len(Q['b'])}->1; "
                f"train F1 {f1:.3f} FA {fa:.3f}")
        write_weights(Q, on, off, hold, note=note)
        print("wrote firmware/vad.py", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
