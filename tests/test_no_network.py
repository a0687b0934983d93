"""Privacy is the product: the whole pipeline runs with every network call forbidden.

Each command runs in a fresh interpreter whose sitecustomize installs an audit hook that aborts the process on any
socket connect / sendto / DNS lookup (and records it), so an import-time or run-time network call fails the test.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vmtools import needs_vm

BIN = Path(sys.executable).parent
FIX = Path(__file__).parent / "fixtures"
SPEECH = FIX / "sim" / "speech.wav"

HOOK = r'''
import os, sys
_LOG = os.environ["HUSHMIC_NET_LOG"]
_BLOCK = {"socket.connect", "socket.connect_ex", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
          "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.bind", "urllib.Request"}
def _hook(event, args):
    if event in _BLOCK:
        addr = args[1] if len(args) > 1 else args
        if event == "socket.connect" and isinstance(addr, (str, bytes)):   # AF_UNIX (e.g. a local log socket)
            return
        with open(_LOG, "a") as f:
            f.write(f"{event} {addr!r}\n")
        raise OSError(f"network call blocked by test: {event}")
sys.addaudithook(_hook)
'''


@pytest.fixture
def netblock(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HOOK)
    log = tmp_path / "net.log"
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               HUSHMIC_NET_LOG=str(log), HUSHMIC_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="0",
               TRANSFORMERS_OFFLINE="0")

    def run(*args, timeout=300):
        r = subprocess.run([str(BIN / "hushmic"), *args], capture_output=True, text=True, env=env, timeout=timeout)
        calls = log.read_text() if log.exists() else ""
        assert not calls, f"network calls attempted by `hushmic {' '.join(args)}`:\n{calls}"
        return r

    run.log = log
    return run


def test_hook_really_blocks(netblock, tmp_path):
    """The guard itself can fail: a process that opens a TCP connection is caught and logged."""
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), HUSHMIC_NET_LOG=str(netblock.log))
    r = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)"],
                       env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "blocked by test" in r.stderr
    assert "socket." in netblock.log.read_text()


@needs_vm
def test_listen_with_transcription_and_redaction_makes_no_network_call(netblock):
    r = netblock("listen", "--sim", str(SPEECH), "--fast", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    ev = [json.loads(l) for l in r.stdout.splitlines()]
    assert ev[-1]["event"] == "stats"


def test_offline_commands_make_no_network_call(netblock, tmp_path):
    wav = next((FIX / "redact").glob("*.wav"), SPEECH)
    for args in (["transcribe", str(wav), "--json"], ["redact", str(wav), "--out", str(tmp_path / "o.wav"), "--json"],
                 ["redact-text", "call me on five five five one two three four"], ["models", "list"],
                 ["sessions"]):
        r = netblock(*args)
        assert r.returncode == 0, (args, r.stderr[-1500:])


@needs_vm
def test_doctor_makes_no_network_call(netblock):
    r = netblock("doctor", "--sim", "--json", timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["checks"][-1]["name"] == "led"
