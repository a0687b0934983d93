"""`hushmic demo`: the bundled recording through the simulated board, link, (ASR + redaction), store; what next."""
import json
import os
import subprocess
import sys
import wave

import pytest

from hushmic import paths

sim = pytest.importorskip("hushmic.sim.launcher")
try:
    sim.vm_path()
except Exception as e:  # pragma: no cover
    pytest.skip(f"simulated board unavailable: {e}", allow_module_level=True)

DEMO_WAV = paths.DATA_DIR / "demo.wav"
DEMO_META = json.loads((paths.DATA_DIR / "demo.json").read_text())


def _run(args, home, timeout=120):
    env = dict(os.environ, HUSHMIC_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "hushmic", "demo", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_bundled_recording_is_small_16k_mono_and_documented():
    assert DEMO_WAV.stat().st_size < 1_000_000
    with wave.open(str(DEMO_WAV)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert abs(w.getnframes() / 16000 - DEMO_META["duration"]) < 0.01
    readme = (paths.DATA_DIR / "README.md").read_text()
    assert "licence" in readme.lower() and "make_demo.py" in readme
    assert sum(1 for s in DEMO_META["sentences"] if s["muted"]) == 1


def test_demo_json_link_store_and_mute(tmp_path):
    p = _run(["--fast", "--json", "--no-transcribe"], tmp_path)
    assert p.returncode == 0, p.stderr
    evs = [json.loads(line) for line in p.stdout.splitlines()]
    assert all("event" in e and "t" in e for e in evs)
    s = evs[-1]
    assert s["event"] == "summary" and evs[-2]["event"] == "stats" and evs[-2]["final"] is True
    # every sentence that was not muted arrived inside an utterance; the muted one never left the board
    spoken = [x for x in DEMO_META["sentences"] if not x["muted"]]
    assert s["utterances"] >= len(spoken)
    segs = [(e["start"], e["end"]) for e in evs if e["event"] == "segment_end"]
    for x in spoken:
        assert any(a <= x["t0"] + 0.05 and x["t1"] - 0.05 <= b for a, b in segs), (x["text"], segs)
    assert s["muted_sentence_sent"] is False and s["audio_frames_while_muted"] == 0
    assert s["frames_lost"] == 0 and s["crc_errors"] == 0
    assert [e["muted"] for e in evs if e["event"] == "mute" and "mic_silent" not in e] == [True, False]
    ends = [e for e in evs if e["event"] == "segment_end"]
    assert all(e["end"] <= DEMO_META["duration"] for e in ends)
    assert any(c.startswith(f"hushmic sessions show {s['session']}") for c in s["next"])
    from hushmic.store import Store

    with Store(tmp_path) as st:
        full = st.session(s["session"])
    assert len(full["utterances"]) == s["utterances"]
    (m,) = full["mutes"]
    assert m[0] == pytest.approx(DEMO_META["mute"][0], abs=0.06) and m[1] == pytest.approx(DEMO_META["mute"][1], abs=0.1)


def test_demo_human_view_says_what_next(tmp_path):
    p = _run(["--fast", "--no-transcribe"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    err = p.stderr
    assert "Look next" in err and "hushmic sessions show" in err and "hushmic plot" in err
    assert "hushmic export --review" in err and "never sent" in err


def test_demo_redacts_pii_with_pocketsphinx(tmp_path):
    pytest.importorskip("pocketsphinx")
    p = _run(["--fast", "--json", "--backend", "pocketsphinx"], tmp_path, timeout=180)
    assert p.returncode == 0, p.stderr
    evs = [json.loads(line) for line in p.stdout.splitlines()]
    texts = [e["text"] for e in evs if e["event"] == "transcript"]
    assert len(texts) == evs[-1]["utterances"]
    joined = " ".join(texts)
    assert "[PHONE]" in joined and "five five five" not in joined
    assert "smith" not in joined
    assert evs[-1]["redacted"].get("PHONE", 0) >= 1


def test_demo_without_asr_says_which_extra(tmp_path, monkeypatch, capsys):
    """A fresh install without the ASR extra: the demo still runs the link and the store, and says what to install."""
    from hushmic import asr
    from hushmic.cli import main

    monkeypatch.setenv("HUSHMIC_HOME", str(tmp_path))
    monkeypatch.setattr(asr, "available_backends", lambda: [])
    assert main(["demo", "--fast", "--json"]) == 0
    cap = capsys.readouterr()
    summary = json.loads(cap.out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["transcription"] is False and summary["utterances"] >= 4
    assert "[asr]" in cap.err and len(cap.err.strip().splitlines()) == 1


def test_demo_redacts_every_pii_value_with_whisper(tmp_path):
    """The default backend on the bundled recording: no part of the name, the phone number or the address is left
    in any stored transcript. The non-PII sentences hold no number words, so none may appear at all (a house number
    that ASR split as 'four k two' once left 'four k' readable)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures", "asr"))
    import asrtest
    from hushmic.asr import models

    d, reason = asrtest.provide_whisper_model(tmp_path / "model")
    if d is None:
        asrtest.require_or_skip(reason)
    env_home = tmp_path / "home"
    p = subprocess.run([sys.executable, "-m", "hushmic", "demo", "--fast", "--json", "--backend", "whisper"],
                       env=dict(os.environ, HUSHMIC_HOME=str(env_home), **{models.ENV_WHISPER_MODEL: str(d)}),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    evs = [json.loads(line) for line in p.stdout.splitlines()]
    texts = [e["text"] for e in evs if e["event"] == "transcript"]
    assert texts and all(e["backend"] == "whisper" for e in evs if e["event"] == "transcript")
    words = " ".join(texts).replace("[", " [").split()
    from hushmic.redact.numbers import is_number_word

    leaks = [w for w in words if w in ("john", "smith", "elm") or is_number_word(w) or
             any(ch.isdigit() for ch in w)]
    assert not leaks, texts
    assert {"PERSON", "PHONE", "ADDRESS"} <= set(evs[-1]["redacted"])
