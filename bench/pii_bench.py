"""PII redaction benchmark: hushmic.redact beside Presidio, in the same run, on the spoken-form dev set.

    python -m bench.pii_bench [--data ../shared/eval/pii/pii_dev.jsonl] [--repeat 5] [--no-presidio]

Prints a table on stderr and one JSON object on stdout. Scoring follows ../shared/eval/pii/README.md: token level on
whitespace tokens (a token is PII if it overlaps a gold span, redacted if it overlaps any predicted span, type-agnostic),
per-type recall (gold type) and precision (predicted type), leak rate (PII items with any gold character left
uncovered), over-redaction (no-PII items with any redaction), items/s in-process (median of --repeat passes).

Also reported: the hold-out split used while developing (every third item, index % 3 == 2, vs the rest), and the
hand-written probe sentences of tests/fixtures/redact/probes.txt, and the probe rounds
(tests/fixtures/redact/probes_round*.jsonl: fresh sentences with gold spans, each round written before its fixes), scored
like dev.

Presidio (optional: pip install 'hushmic[bench-pii]') gets the spoken digits turned into digits first (with hushmic's
number parser, offsets mapped back to the original tokens). It runs with spaCy NER when a spaCy English pipeline is
installed, and with its regex recognizers only when none is.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "pii" / "pii_dev.jsonl"
PROBES = REPO / "tests" / "fixtures" / "redact" / "probes.txt"
ROUNDS = sorted((REPO / "tests" / "fixtures" / "redact").glob("probes_round*.jsonl"))
TYPES = ("PERSON", "PHONE", "EMAIL", "ADDRESS", "POSTCODE", "CREDIT_CARD", "BANK_ACCOUNT", "SSN", "ID_NUMBER",
         "DATE_OF_BIRTH", "AGE", "DEVICE_ID", "MEDICAL", "PASSWORD", "LOCATION")


# ---------------------------------------------------------------- scoring
def tokens(text):
    out, pos = [], 0
    for w in text.split(" "):
        if w:
            out.append((pos, pos + len(w)))
        pos += len(w) + 1
    return out


def score(items, predictions):
    """predictions[k]: list of (start, end, type). Returns the metrics dict."""
    tp = fp = fn = same_type = 0
    rec_hit, rec_all, prec_hit, prec_all = {}, {}, {}, {}
    leak = npii = over = nneg = 0
    for it, pred in zip(items, predictions):
        text = it["text"]
        for a, b in tokens(text):
            gold = [s["type"] for s in it["spans"] if s["start"] < b and a < s["end"]]
            ptyp = [t for (s, e, t) in pred if s < b and a < e]
            g, p = bool(gold), bool(ptyp)
            tp += g and p
            fp += p and not g
            fn += g and not p
            if g and p:
                same_type += gold[0] == ptyp[0]
            if g:
                rec_all[gold[0]] = rec_all.get(gold[0], 0) + 1
                rec_hit[gold[0]] = rec_hit.get(gold[0], 0) + p
            if p:
                prec_all[ptyp[0]] = prec_all.get(ptyp[0], 0) + 1
                prec_hit[ptyp[0]] = prec_hit.get(ptyp[0], 0) + g
        cov = set()
        for s, e, _ in pred:
            cov.update(range(s, e))
        if it["spans"]:
            npii += 1
            leak += any(c not in cov for s in it["spans"] for c in range(s["start"], s["end"]) if text[c] != " ")
        else:
            nneg += 1
            over += bool(pred)
    r = tp / max(1, tp + fn)
    p = tp / max(1, tp + fp) if tp + fp else 0.0
    return {
        "items": len(items), "token_recall": round(r, 4), "token_precision": round(p, 4),
        "token_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "type_agreement": round(same_type / max(1, tp), 4),
        "leak_rate": round(leak / max(1, npii), 4), "leaked_items": leak, "pii_items": npii,
        "over_redaction": round(over / max(1, nneg), 4), "over_redacted_items": over, "no_pii_items": nneg,
        "recall_by_type": {t: round(rec_hit.get(t, 0) / rec_all[t], 4) for t in TYPES if rec_all.get(t)},
        "precision_by_type": {t: round(prec_hit.get(t, 0) / prec_all[t], 4) for t in sorted(prec_all)},
    }


def timed(fn, texts, repeat):
    """(outputs, items/s wall clock, items/s of process CPU time): medians over `repeat` passes. The CPU figure is
    the one to compare when other jobs share the machine."""
    runs, cpu = [], []
    out = None
    for _ in range(max(1, repeat)):
        t, c = time.perf_counter(), time.process_time()
        out = [fn(x) for x in texts]
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return out, round(len(texts) / statistics.median(runs), 1), round(len(texts) / max(1e-9, statistics.median(cpu)), 1)


# ---------------------------------------------------------------- systems
def hushmic_predict(text):
    from hushmic.redact import redact_text

    return [(s.start, s.end, s.type) for s in redact_text(text)]


def make_presidio(mode="auto"):
    """(predict function, description) or (None, reason). Uses hushmic.redact.presidio_adapter (digits first)."""
    from hushmic.redact import presidio_adapter as pa

    if not pa.available():
        return None, "presidio-analyzer not installed (pip install 'hushmic[bench-pii]')"
    run = pa.analyzer(mode)

    def predict(text):
        return [(s.start, s.end, s.type) for s in pa.second_opinion(text, mode=mode)]
    return predict, f"Presidio {presidio_analyzer_version()} + {run.description}, digits first"


def presidio_analyzer_version():
    try:
        from importlib.metadata import version

        return version("presidio-analyzer")
    except Exception:
        return "?"


# ---------------------------------------------------------------- probes
def probe_pass_rate():
    from hushmic.redact import redact_text

    n = ok = 0
    for line in PROBES.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text, must, keep = (x.strip() for x in line.split("||"))
        spans = redact_text(text)
        cov = set()
        for s in spans:
            cov.update(range(s.start, s.end))
        good = True
        for m in (x.strip() for x in must.split(";") if x.strip()):
            a = text.index(m)
            good &= all(c in cov for c in range(a, a + len(m)) if text[c] != " ")
        for k in (x.strip() for x in keep.split(";") if x.strip()):
            a = text.index(k)
            good &= not any(c in cov for c in range(a, a + len(k)))
        n += 1
        ok += good
    return {"probes": n, "passed": ok}


# ---------------------------------------------------------------- report
def fmt_row(name, m, speed):
    return (f"{name:<34} {m['token_recall']:>6.3f} {m['token_precision']:>6.3f} {m['token_f1']:>6.3f} "
            f"{100 * m['leak_rate']:>6.1f}% {100 * m['over_redaction']:>6.1f}% {speed:>9.0f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--repeat", type=int, default=5, help="timing passes (median)")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--presidio", choices=["auto", "regex"], default="auto",
                    help="auto: spaCy NER if an English pipeline is installed, else regex; regex: regex recognizers only")
    args = ap.parse_args(argv)
    path = Path(args.data)
    if not path.exists():
        print(f"pii_bench: {path}: no such file", file=sys.stderr)
        return 2
    items = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    texts = [it["text"] for it in items]

    hushmic_predict("warm up the name lists")
    preds, speed, cpu_speed = timed(hushmic_predict, texts, args.repeat)
    result = {"data": path.name, "hushmic": {**score(items, preds), "items_per_s": speed, "items_per_s_cpu": cpu_speed}}
    train = [k for k in range(len(items)) if k % 3 != 2]
    hold = [k for k in range(len(items)) if k % 3 == 2]
    result["hushmic_split"] = {
        "development_part": score([items[k] for k in train], [preds[k] for k in train]),
        "held_out_part": score([items[k] for k in hold], [preds[k] for k in hold]),
    }
    result["hushmic_probes"] = probe_pass_rate()
    rows = [("hushmic.redact (all dev)", result["hushmic"], speed),
            ("  development part (2/3)", result["hushmic_split"]["development_part"], speed),
            ("  held-out part (every 3rd)", result["hushmic_split"]["held_out_part"], speed)]
    if ROUNDS:
        r_items = [json.loads(x) for f in ROUNDS for x in f.read_text().splitlines() if x.strip()]
        r_preds, r_speed, _ = timed(hushmic_predict, [it["text"] for it in r_items], 1)
        result["hushmic_probe_rounds"] = {"files": len(ROUNDS), **score(r_items, r_preds)}
        rows.append((f"  probe rounds ({len(ROUNDS)} files)", result["hushmic_probe_rounds"], r_speed))

    if not args.no_presidio:
        predict, desc = make_presidio(args.presidio)
        if predict is None:
            result["presidio"] = {"skipped": desc}
        else:
            predict(texts[0])
            ppreds, pspeed, pcpu = timed(predict, texts, max(1, min(args.repeat, 2)))
            result["presidio"] = {"system": desc, **score(items, ppreds), "items_per_s": pspeed,
                                  "items_per_s_cpu": pcpu}
            rows.append(("Presidio (digits first)", result["presidio"], pspeed))

    err = sys.stderr
    print(f"PII redaction on {path.name} ({len(items)} items; token-level, type-agnostic)", file=err)
    print(f"{'system':<34} {'recall':>6} {'prec':>6} {'F1':>6} {'leak':>7} {'over':>7} {'items/s':>9}", file=err)
    for name, m, sp in rows:
        print(fmt_row(name, m, sp), file=err)
    print(f"items/s by process CPU time: hushmic {result['hushmic']['items_per_s_cpu']:.0f}"
          + (f", Presidio {result['presidio']['items_per_s_cpu']:.0f}" if "items_per_s_cpu" in result.get(
              "presidio", {}) else ""), file=err)
    if "skipped" in result.get("presidio", {}):
        print(f"Presidio: skipped ({result['presidio']['skipped']})", file=err)
    elif "presidio" in result:
        print(f"Presidio: {result['presidio']['system']}", file=err)
    print(f"type agreement on redacted PII tokens (not scored by the README): hushmic "
          f"{result['hushmic']['type_agreement']:.3f}"
          + (f", Presidio {result['presidio']['type_agreement']:.3f}" if "type_agreement" in result.get("presidio", {})
             else ""), file=err)
    print(f"probes (tests/fixtures/redact/probes.txt): {result['hushmic_probes']['passed']}/"
          f"{result['hushmic_probes']['probes']} pass", file=err)
    print("\nper type              hushmic recall  prec   |  presidio recall  prec", file=err)
    hp = result.get("presidio", {})
    for t in TYPES:
        h = result["hushmic"]
        print(f"  {t:<18} {h['recall_by_type'].get(t, float('nan')):>14.3f} {h['precision_by_type'].get(t, float('nan')):>6.3f}"
              f"   |  {hp.get('recall_by_type', {}).get(t, float('nan')):>15.3f} "
              f"{hp.get('precision_by_type', {}).get(t, float('nan')):>5.3f}", file=err)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
