"""Issue 13: the CLI's contract under hostile input. stdout is strict JSON whatever the input holds (defect 7), a
line nested 100k deep is an error object for that line, not a crash of the run (defect 5), and the friction items
on arguments and messages."""
import json

import numpy as np
import pytest

from hushmic.cli import emit_json, main as cli_main
from hushmic.store import Store


def _strict(line):
    def bad(name):
        raise AssertionError(f"{name} on stdout is not JSON: {line!r}")
    return json.loads(line, parse_constant=bad)


def test_redact_text_jsonl_output_is_strict_json_for_any_input(tmp_path, capsys):
    lines = [
        '{"id": NaN, "text": "call lucy fischer"}',
        '{"id": Infinity, "text": "hi"}',
        '{"id": -Infinity, "text": "hi"}',
        '{"id": 1e999, "text": "hi"}',
        '{"id": "ok", "text": "my number is five five five one two one two"}',
        "[" * 100000 + "]" * 100000,
        '{"id": 7, "text": "bye", "extra": [1e400]}',
        '{"text": "last line"}',
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    assert cli_main(["redact-text", "--jsonl", str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(lines)
    objs = [_strict(o) for o in out]
    for i in (0, 1, 2, 3, 6):
        assert objs[i]["id"] == i and "not valid JSON" in objs[i]["error"], objs[i]
    assert objs[4]["id"] == "ok" and "[PHONE]" in objs[4]["redacted"]
    assert objs[5] == {"id": 5, "error": "line 6: nested too deeply to read"}
    assert objs[7]["id"] == 7 and objs[7]["redacted"] == "last line"


def test_emit_json_never_prints_nan(capsys):
    emit_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": float("-inf")}})
    assert _strict(capsys.readouterr().out) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


@pytest.fixture
def one_session(tmp_path):
    root = tmp_path / "s"
    with Store(root) as st:
        sid = st.open_session("sim0", {})
        st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=np.zeros(8000, np.int16), text_redacted="hi")
        st.close_session(sid, {})
    return root, sid


def test_sessions_id_alone_means_show_and_short_prefix_is_named(one_session, capsys):
    root, sid = one_session
    assert cli_main(["sessions", sid[:5], "--store", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == sid
    assert cli_main(["sessions", sid[:2], "--store", str(root)]) == 2
    err = capsys.readouterr().err
    assert "too short" in err and "4" in err
    assert cli_main(["sessions", "show", "zzzzzz", "--store", str(root)]) == 2
    assert "no session" in capsys.readouterr().err


def test_table_on_stderr_says_where_the_data_is_when_stdout_is_redirected(one_session, capsys):
    """Friction: `sessions > f` wrote an empty file without a word. The rule (docs/cli.md): tables are for people,
    on stderr; data is on stdout with --json. A redirected stdout gets told."""
    root, sid = one_session
    assert cli_main(["sessions", "--store", str(root)]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and sid in cap.err and "--json" in cap.err


def test_missing_port_points_to_a_document_that_exists(tmp_path, capsys):
    import re
    from pathlib import Path
    assert cli_main(["listen", "--port", str(tmp_path / "ttyACM9"), "--no-store"]) == 2
    err = capsys.readouterr().err
    docs = re.findall(r"docs/[\w.-]+\.md", err)
    assert docs and all((Path(__file__).resolve().parents[1] / d).is_file() for d in docs), err
    assert "README" not in err


def test_demo_simulates_the_power_cut_wiring(tmp_path):
    """Friction: the demo always warned 'this mute is software-only', about a board that does not exist."""
    import os
    import subprocess
    import sys
    pytest.importorskip("hushmic.sim.launcher")
    from hushmic.sim.launcher import vm_path
    try:
        vm_path()
    except Exception as e:
        pytest.skip(f"simulated board unavailable: {e}")
    p = subprocess.run([sys.executable, "-m", "hushmic", "demo", "--fast", "--no-transcribe", "--no-store"],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ, HUSHMIC_HOME=str(tmp_path)))
    assert p.returncode == 0, p.stderr
    assert "software-only" not in p.stderr
    assert "mute probe: the mic reads silent" in p.stderr


def _listen_human(tmp_path, *extra):
    import os
    import subprocess
    import sys
    from hushmic import paths
    pytest.importorskip("hushmic.sim.launcher")
    from hushmic.sim.launcher import vm_path
    try:
        vm_path()
    except Exception as e:
        pytest.skip(f"simulated board unavailable: {e}")
    return subprocess.run([sys.executable, "-m", "hushmic", "listen", "--sim", str(paths.DATA_DIR / "demo.wav"),
                           "--fast", "--no-transcribe", *extra], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HUSHMIC_HOME=str(tmp_path / "home")))


def test_listen_says_stored_only_for_what_the_store_holds(tmp_path):
    """Friction: 'N utterance(s) saved' was printed with --no-store (and after the session was purged)."""
    p = _listen_human(tmp_path, "--no-store")
    assert p.returncode == 0, p.stderr
    assert "saved" not in p.stderr and "not stored (--no-store)" in p.stderr, p.stderr
    p = _listen_human(tmp_path)
    assert p.returncode == 0, p.stderr
    with Store(tmp_path / "home") as st:
        (s,) = st.sessions()
    assert f"{s['utterances']} stored in" in p.stderr and s["utterances"] > 0, p.stderr


def test_models_list_follows_the_table_rule(capsys):
    assert cli_main(["models", "list"]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and "pocketsphinx" in cap.err and "--json" in cap.err
