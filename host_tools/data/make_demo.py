"""Regenerate host_tools/data/demo.wav and demo.json (the recording `hushmic demo` plays on the simulated board).

    apt-get update && apt-get install -y festival festvox-us-slt-hts sox
    .venv/bin/python host_tools/data/make_demo.py

Each sentence is synthesised with festival's `voice_cmu_us_slt_arctic_hts` (text2wave), resampled by sox to 16 kHz
mono 16-bit, DC-blocked, trimmed to its first..last 10 ms frame within 40 dB of its loudest, scaled to a peak of
-6 dBFS, and the sentences are joined with pauses. White noise of standard deviation 30 (about -60 dBFS, a quiet
room) is added throughout, seed 0. demo.json records each sentence's text and times, and the mute window: the third
sentence is spoken while the mute switch is on, so it must never leave the board.
"""
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 16000
SENTENCES = [  # (text, pause before it, seconds)
    ("hello this is a test of my private microphone", 0.8),
    ("my name is john smith and my phone number is five five five one two three four", 1.2),
    ("this sentence is spoken while the mute switch is on", 1.6),
    ("i live at forty two elm street in springfield", 1.8),
    ("please remind me to buy milk tomorrow morning", 1.2),
]
MUTED = 2  # index of the sentence said while muted
TAIL = 3.0  # noise after the last sentence (the demo stops the board before the WAV ends)
VOICE = "voice_cmu_us_slt_arctic_hts"


def synth(text, tmp):
    raw = Path(tmp) / "raw.wav"
    out = Path(tmp) / "s16.wav"
    subprocess.run(["text2wave", "-eval", f"({VOICE})", "-o", str(raw)], input=text.encode(), check=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as w:
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    y = np.empty_like(a)  # DC block
    prev_x = prev_y = 0.0
    for i, x in enumerate(a):
        prev_y = x - prev_x + 0.98 * prev_y
        prev_x = x
        y[i] = prev_y
    n = len(y) // 160
    rms = np.sqrt(np.mean(y[:n * 160].reshape(n, 160) ** 2, axis=1) + 1e-9)
    keep = np.nonzero(rms >= rms.max() / 100.0)[0]
    y = y[keep[0] * 160:(keep[-1] + 1) * 160]
    return y * (16384.0 / np.abs(y).max())


def main():
    parts, meta, t = [], [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, pause) in enumerate(SENTENCES):
            parts.append(np.zeros(int(pause * RATE)))
            t += pause
            s = synth(text, tmp)
            meta.append({"text": text, "t0": round(t, 3), "t1": round(t + len(s) / RATE, 3), "muted": i == MUTED})
            parts.append(s)
            t += len(s) / RATE
    parts.append(np.zeros(int(TAIL * RATE)))
    x = np.concatenate(parts)
    x += np.random.default_rng(0).normal(0, 30, len(x))
    pcm = np.clip(np.round(x), -32768, 32767).astype("<i2")
    with wave.open(str(HERE / "demo.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    m = meta[MUTED]
    mute = [round(m["t0"] - 0.6, 2), round(m["t1"] + 0.5, 2)]
    (HERE / "demo.json").write_text(json.dumps({"rate": RATE, "duration": round(len(pcm) / RATE, 3), "voice": VOICE,
                                                "mute": mute, "sentences": meta}, indent=1) + "\n")
    print(f"demo.wav: {len(pcm) / RATE:.1f} s, {(HERE / 'demo.wav').stat().st_size / 1e3:.0f} kB; mute {mute}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
