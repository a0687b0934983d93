"""Build a fresh end-to-end probe session, laid out like ../shared/eval/e2e, from a text file of probe sentences.

    python -m bench.probes.make_probe_session bench/probes/e2e_probe_round1.txt OUT/   # then:
    python -m bench.e2e_bench --e2e OUT/ --sessions 1

Each line is one utterance; "|" is a pause of --pause seconds inside it (the board ends a segment there, which is the
case turn-level processing exists for), and "[TYPE words]" marks a PII span. Voices: flite's slt and kal16, which the
dev set does not use (Debian: apt-get install flite sox). Gold word times come from pocketsphinx forced alignment of the
known text (hushmic.asr.align), as the dev set's do. The session: 0.5 s lead-in, utterances 1.5-3 s apart, room noise
at -60 dBFS RMS, optionally pink noise at --snr dB. Deterministic for a seed. These probes are written BEFORE the fixes
they test; their first-run scores are what the closing notes report.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

RATE = 16000
VOICES = ("slt", "kal16")
TAG = re.compile(r"\[([A-Z_]+) ([^\]]+)\]")


def parse(line):
    """'my pin is | [PASSWORD four two]' -> (pieces: [[(word, type or None)], ...])"""
    pieces = []
    for part in line.split("|"):
        words, pos = [], 0
        for m in TAG.finditer(part):
            words += [(w, None) for w in part[pos:m.start()].split()]
            words += [(w, m.group(1)) for w in m.group(2).split()]
            pos = m.end()
        words += [(w, None) for w in part[pos:].split()]
        if words:
            pieces.append(words)
    return pieces


def synth(text, voice, tmp):
    raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True, capture_output=True)
    subprocess.run(["sox", "-R", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True,
                   capture_output=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def align_words(pcm, words):
    from hushmic.asr.align import align
    from hushmic.asr.normalize import Item
    items = [Item([[w]], 0, 0) for w in words]
    pad = np.zeros(int(0.3 * RATE))  # the decoder wants silence at both ends
    out = align(np.concatenate([pad, pcm, pad]).astype(np.int16), items, offset=-0.3, check_times=False)
    if len(out) != len(words) or not any(o.aligned for o in out):
        raise RuntimeError(f"forced alignment failed for {' '.join(words)!r}")
    # a word with no dictionary pronunciation (a rare name) keeps the gap between its aligned neighbours
    return [(o.t0, o.t1) for o in out]


def pink(n, rng):
    w = rng.standard_normal(n)
    f = np.fft.rfft(w)
    f[1:] /= np.sqrt(np.arange(1, len(f)))
    x = np.fft.irfft(f, n)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sentences")
    ap.add_argument("out")
    ap.add_argument("--pause", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--snr", type=float, default=None, help="add pink noise at this SNR (dB)")
    ap.add_argument("--session", type=int, default=1)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    out = Path(a.out)
    (out / "utt").mkdir(parents=True, exist_ok=True)
    lines = [ln.strip() for ln in Path(a.sentences).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    utts, clips = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k, line in enumerate(lines):
            voice = VOICES[k % len(VOICES)]
            pieces = parse(line)
            audio, words = [np.zeros(int(0.3 * RATE))], []
            for j, piece in enumerate(pieces):
                if j:
                    audio.append(np.zeros(int(a.pause * RATE)))
                start = sum(len(x) for x in audio)
                x = synth(" ".join(w for w, _ in piece), voice, tmp)
                # trim flite's own leading/trailing silence so the pause is what we say it is
                nz = np.nonzero(np.abs(x) > 100)[0]
                x = x[nz[0]:nz[-1] + 1] if len(nz) else x
                audio.append(x)
                words.append((piece, start, len(x)))
            audio.append(np.zeros(int(0.3 * RATE)))
            clip = np.concatenate(audio)
            clip = clip / np.max(np.abs(clip)) * 32767 * 10 ** (-3 / 20)
            flat, times = [], []
            for piece, start, n in words:
                seg = clip[start:start + n]
                for (w, typ), (t0, t1) in zip(piece, align_words(seg, [w for w, _ in piece])):
                    flat.append((w, typ))
                    times.append((start / RATE + t0, start / RATE + t1))
            text, spans, pos = "", [], 0
            for i, (w, typ) in enumerate(flat):
                if text:
                    text += " "
                s = len(text)
                text += w
                if typ and spans and spans[-1]["type"] == typ and spans[-1]["_last"] == i - 1:
                    spans[-1]["end"], spans[-1]["_last"], spans[-1]["_t1"] = len(text), i, times[i][1]
                elif typ:
                    spans.append({"start": s, "end": len(text), "type": typ, "_last": i, "_t0": times[i][0],
                                  "_t1": times[i][1]})
            uid = f"probe-{k:03d}"
            with wave.open(str(out / "utt" / f"{uid}.wav"), "wb") as w:
                w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
                w.writeframes(np.round(clip).astype("<i2").tobytes())
            utts.append({"id": uid, "voice": f"flite_{voice}", "wav": f"utt/{uid}.wav", "text": text,
                         "has_pii": bool(spans), "spans": spans, "words": times, "_flat": flat})
            clips.append(clip)
    # the session
    pos = 0.5
    total = []
    for k, (u, clip) in enumerate(zip(utts, clips)):
        gain_db = float(rng.uniform(-6, 0))
        u["gain_db"] = round(gain_db, 2)
        if k:
            gap = float(rng.uniform(1.5, 3.0))
            pos = prev_speech_end + gap - u["words"][0][0]
        u["offset_s"] = round(pos, 4)
        total.append((int(round(pos * RATE)), clip * 10 ** (gain_db / 20)))
        prev_speech_end = pos + u["words"][-1][1]
        pos += len(clip) / RATE
    n = int((pos + 1.0) * RATE)
    sess = np.zeros(n)
    for i0, x in total:
        sess[i0:i0 + len(x)] += x
    speech_rms = np.sqrt(np.mean(sess[np.abs(sess) > 300] ** 2))
    sess += pink(n, rng) * 32768 * 10 ** (-60 / 20)
    if a.snr is not None:
        sess += pink(n, rng) * speech_rms * 10 ** (-a.snr / 20)
    name = f"session_{a.session}"
    with wave.open(str(out / f"{name}.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.clip(np.round(sess), -32768, 32767).astype("<i2").tobytes())
    gold = []
    for k, u in enumerate(utts):
        off = u["offset_s"]
        words = [{"word": w, "start_s": round(off + t0, 3), "end_s": round(off + t1, 3)}
                 for (w, _), (t0, t1) in zip(u.pop("_flat"), u["words"])]
        spans = [{"start": s["start"], "end": s["end"], "type": s["type"], "text": u["text"][s["start"]:s["end"]],
                  "start_s": round(off + s["_t0"], 3), "end_s": round(off + s["_t1"], 3)} for s in u["spans"]]
        clip_len = len(clips[k]) / RATE
        gold.append({"index": k + 1, "id": u["id"], "voice": u["voice"], "wav": u["wav"], "gain_db": u["gain_db"],
                     "offset_s": off, "start_s": round(off, 3), "end_s": round(off + clip_len, 3),
                     "speech_start_s": words[0]["start_s"], "speech_end_s": words[-1]["end_s"], "text": u["text"],
                     "has_pii": u["has_pii"], "spans": spans, "words": words})
    meta = {"session": name, "wav": f"{name}.wav", "sample_rate": RATE, "duration_s": round(n / RATE, 3),
            "condition": "clean" if a.snr is None else f"pink_{a.snr:g}dB", "n_utterances": len(gold),
            "n_pii_spans": sum(len(u["spans"]) for u in gold), "utterances": gold,
            "source": Path(a.sentences).name, "pause_s": a.pause, "seed": a.seed}
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1))
    print(f"{out / name}.wav: {len(gold)} utterances, {meta['n_pii_spans']} PII spans, {n / RATE:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
