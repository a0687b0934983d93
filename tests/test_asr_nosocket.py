"""No network: importing hushmic.asr and transcribing with every backend opens no socket.

The check runs in a fresh interpreter so that imports (faster-whisper, huggingface_hub, ctranslate2, pocketsphinx)
happen AFTER socket creation has been made to raise."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "asr"))
import asrtest  # noqa: E402

SCRIPT = r'''
import json, socket, sys
calls = []
def _blocked(*a, **k):
    calls.append(repr(a)[:80])
    raise OSError("network access blocked by the hushmic no-socket test")
class _NoSocket(socket.socket):
    def __init__(self, *a, **k):
        _blocked(*a)
socket.socket = _NoSocket
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
socket.socketpair = _blocked
import hushmic.asr as asr                     # the imports happen with sockets blocked
out = {}
for backend in ("whisper", "pocketsphinx", None):
    t = asr.transcribe_file(sys.argv[1], backend=backend, model_dir=sys.argv[2])
    out[str(backend)] = [t.backend, t.text]
import faster_whisper, huggingface_hub, ctranslate2, pocketsphinx  # already imported: just prove they loaded
out["calls"] = calls
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def whisper_model(tmp_path_factory):
    d, reason = asrtest.provide_whisper_model(tmp_path_factory.mktemp("asr-nosock-model"))
    if d is None:
        asrtest.require_or_skip(reason)
    return Path(d)


def test_no_socket_on_import_or_transcription(whisper_model):
    env = dict(os.environ)
    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        env.pop(k, None)   # hushmic itself must be offline, not rely on the caller's environment
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(asrtest.fixture("wer_flite.wav")), str(whisper_model)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["calls"] == [], out["calls"]
    assert out["whisper"][0] == "whisper" and out["None"][0] == "whisper" and out["pocketsphinx"][0] == "pocketsphinx"
    ref = asrtest.META["wer_flite.wav"]["text"]
    assert asrtest.wer(ref, out["whisper"][1]) <= 0.2 and asrtest.wer(ref, out["pocketsphinx"][1]) <= 0.35


def test_no_socket_in_process(monkeypatch):
    """Same guard in-process for the pocketsphinx path and the aligner (cheap, runs even without a Whisper model)."""
    def blocked(*a, **k):
        raise AssertionError("socket opened")
    monkeypatch.setattr(socket, "socket", blocked)
    monkeypatch.setattr(socket, "create_connection", blocked)
    from hushmic import asr
    from hushmic.audio_io import load_speech
    t = asr.transcribe(load_speech(asrtest.fixture("wer_flite.wav")), 16000, backend="pocketsphinx")
    assert t.backend == "pocketsphinx" and t.words
