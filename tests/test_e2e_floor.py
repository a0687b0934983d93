"""A floor for the whole pipeline in CI: one recorded session of ../shared/eval/e2e through `hushmic listen --sim
--fast` (the simulated board, its on-chip VAD, Whisper, turn-level redaction), scored by the set's own scorer.
`python -m bench.e2e_bench` runs all four sessions beside an off-the-shelf anchor; this only guards against a
regression, with floors a little below what session 1 scores today (docs/asr.md lists the full figures)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
E2E = REPO.parent / "shared" / "eval" / "e2e"

pytestmark = pytest.mark.skipif(not (E2E / "session_1.wav").exists(), reason=f"the e2e dev set is not at {E2E}")


def test_session_1_end_to_end_floor(tmp_path):
    pytest.importorskip("soundfile")
    from hushmic.asr import whisper_backend
    if not whisper_backend.available():
        pytest.skip("the Whisper model is not installed (make setup installs it)")
    sys.path.insert(0, str(E2E))
    try:
        import score_e2e
    finally:
        sys.path.pop(0)
    red, events = tmp_path / "s1.wav", tmp_path / "s1.jsonl"
    # a store of its own: the installed model must still be found (it was not, and everything fell back to pocketsphinx)
    env = dict(os.environ, HUSHMIC_HOME=str(tmp_path / "home"))
    env.pop("HUSHMIC_WHISPER_MODEL", None)
    p = subprocess.run([sys.executable, "-m", "hushmic", "listen", "--sim", str(E2E / "session_1.wav"), "--fast",
                        "--json", "--no-store", "--save-audio", str(red)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    events.write_text(p.stdout)
    evs = [json.loads(x) for x in p.stdout.splitlines()]
    assert {e["backend"] for e in evs if e["event"] == "transcript"} == {"whisper"}
    summary, results = score_e2e.score([(str(E2E / "session_1.json"), str(red), str(events))])
    a, t = summary["audio"], summary["text"]
    got = (a["bleeped_span_frac"], t["leaked_entity_frac"], a["overredaction_frac"])
    assert a["bleeped_span_frac"] >= 0.85, got
    assert t["leaked_entity_frac"] <= 0.15, got
    assert a["overredaction_frac"] <= 0.08, got
    assert t["nopii_utts_with_tags"].startswith("0/"), t["nopii_utts_with_tags"]
