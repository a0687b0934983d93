"""Issue 13: the CLI never writes over what is not its own. Every command that writes a file refuses, with one line
and exit 2 and before any slow work, an output that is an input, inside the store, a directory, a device, a symlink,
empty, or in a folder it cannot write. One helper (`hushmic.outputs.check_output`) decides for all of them."""
import json
import os
import sqlite3

import numpy as np
import pytest

from hushmic.audio_io import write_wav
from hushmic.cli import main as cli_main
from hushmic.outputs import check_output
from hushmic.errors import BadInput
from hushmic.store import Store

CONSENT = "all speakers agreed to human review of their redacted speech"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A default store in tmp (as $HUSHMIC_HOME), with one stored utterance, and an input WAV outside it."""
    root = tmp_path / "store"
    monkeypatch.setenv("HUSHMIC_HOME", str(root))
    with Store(root) as st:
        sid = st.open_session("sim0", {})
        st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=np.full(8000, 100, np.int16), text_redacted="hi")
        st.close_session(sid, {})
    wav = tmp_path / "in.wav"
    write_wav(wav, (np.sin(np.arange(16000) / 5) * 3000).astype(np.int16))
    return root, wav


def _refused(capsys, argv, *words):
    before = None
    rc = cli_main(argv)
    cap = capsys.readouterr()
    assert rc == 2, (argv, rc, cap.err)
    assert "Traceback" not in cap.err and len(cap.err.strip().splitlines()) == 1, cap.err
    assert cap.out == ""
    for w in words:
        assert w in cap.err, (w, cap.err)
    return cap.err, before


def _unchanged(path, data):
    assert path.read_bytes() == data


# ---------------------------------------------------------------------------------------------- redact --out
def test_redact_refuses_bad_outputs_before_transcribing(home, tmp_path, capsys, monkeypatch):
    root, wav = home
    data = wav.read_bytes()
    import hushmic.asr as asr

    def no_asr(*a, **k):
        raise AssertionError("transcribed before checking the output")
    monkeypatch.setattr(asr, "transcribe_file", no_asr)
    _refused(capsys, ["redact", str(wav), "--out", str(wav)], "is the input")
    _unchanged(wav, data)
    os.link(wav, tmp_path / "hard.wav")
    _refused(capsys, ["redact", str(wav), "--out", str(tmp_path / "hard.wav")], "hard link")
    _refused(capsys, ["redact", str(wav), "--out", str(root / "hushmic.db")], "inside the hushmic store")
    _refused(capsys, ["redact", str(wav), "--out", str(root / "audio" / "x.wav")], "inside the hushmic store")
    _refused(capsys, ["redact", str(wav), "--out", str(tmp_path)], "is a directory")
    _refused(capsys, ["redact", str(wav), "--out", ""], "empty")
    _refused(capsys, ["redact", str(wav), "--out", "/dev/null"], "not a regular file")
    _refused(capsys, ["redact", str(wav), "--out", "/proc/x.wav"], "cannot write")
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        _refused(capsys, ["redact", str(wav), "--out", str(ro / "o.wav")], "cannot write")
    (tmp_path / "link.wav").symlink_to(wav)
    _refused(capsys, ["redact", str(wav), "--out", str(tmp_path / "link.wav")], "symlink")
    _unchanged(wav, data)
    with sqlite3.connect(root / "hushmic.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_redact_takes_o_as_plot_does():
    from hushmic.cli import build_parser
    args = build_parser().parse_args(["redact", "a.wav", "-o", "b.wav"])
    assert args.out == "b.wav"


# ---------------------------------------------------------------------------------------------- plot -o
def test_plot_refuses_input_store_and_directory(home, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    root, wav = home
    data = wav.read_bytes()
    _refused(capsys, ["plot", str(wav), "--no-vad", "-o", str(wav)], "is the input")
    _unchanged(wav, data)
    _refused(capsys, ["plot", str(wav), "--no-vad", "-o", str(tmp_path)], "is a directory")
    _refused(capsys, ["plot", str(wav), "--no-vad", "-o", str(root / "p.png")], "inside the hushmic store")
    spans = tmp_path / "spans.json"
    spans.write_text(json.dumps({"spans": []}))
    _refused(capsys, ["plot", str(wav), "--no-vad", "--spans", str(spans), "-o", str(spans)], "is the input")


# ---------------------------------------------------------------------------------------------- listen --save-audio
def test_listen_save_audio_refuses_input_and_store(home, tmp_path, capsys):
    root, wav = home
    data = wav.read_bytes()
    db = (root / "hushmic.db").read_bytes()
    _refused(capsys, ["listen", "--sim", str(wav), "--no-transcribe", "--save-audio", str(wav)], "is the input")
    _unchanged(wav, data)
    _refused(capsys, ["listen", "--sim", str(wav), "--no-transcribe", "--save-audio", str(root / "hushmic.db")],
             "inside the hushmic store")
    other = tmp_path / "other"
    _refused(capsys, ["listen", "--sim", str(wav), "--no-transcribe", "--store", str(other),
                      "--save-audio", str(other / "x.wav")], "inside the hushmic store")
    assert (root / "hushmic.db").read_bytes() == db


# ---------------------------------------------------------------------------------------------- export
def test_export_refuses_store_file_and_dangling_symlink(home, tmp_path, capsys):
    root, wav = home
    _refused(capsys, ["export", "--review", "--consent", CONSENT, str(root / "audio" / "bundle")],
             "inside the hushmic store")
    assert not (root / "audio" / "bundle").exists()
    f = tmp_path / "file.txt"
    f.write_text("mine")
    err, _ = _refused(capsys, ["export", "--review", "--consent", CONSENT, str(f)], "is a file")
    assert f.read_text() == "mine"
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    _refused(capsys, ["export", "--review", "--consent", CONSENT, str(tmp_path / "dangling")], "symlink")
    assert not (tmp_path / "nowhere").exists()
    # and a good one still works
    assert cli_main(["export", "--review", "--consent", CONSENT, str(tmp_path / "bundle"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == 1


def test_check_output_accepts_new_and_regular_files(tmp_path):
    assert check_output(tmp_path / "new" / "deeper" / "o.wav", stores=[tmp_path / "s"]).name == "o.wav"
    f = tmp_path / "old.wav"
    f.write_bytes(b"x")
    check_output(f, inputs=[tmp_path / "in.wav"], stores=[tmp_path / "s"])
    with pytest.raises(BadInput, match="inside the hushmic store"):
        check_output(tmp_path / "s", stores=[tmp_path / "s"], kind="dir")
