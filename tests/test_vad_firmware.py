"""The firmware VAD (firmware/vad.py), tested where it runs: inside the MicroPython VM.

- the viper kernel and its plain-Python twin agree bit for bit (features, score, decision);
- Vad.process and Endpointer.step allocate nothing (micropython.heap_lock());
- vad.py / endpoint.py and the viper kernel compile for the S3 (mpy-cross -march=xtensawin);
- every intermediate integer of the kernel stays below 2^30 on extreme inputs (checked in CPython by rewriting
  the kernel's arithmetic through a range check);
- the API contract (sensitivity range, reset, noise_floor) and a real accuracy floor on dev clips.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
FW = REPO / "firmware"
DEV = REPO.parent / "shared" / "eval" / "vad"
VM = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
MPYCROSS = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")

needs_vm = pytest.mark.skipif(VM is None, reason="MicroPython VM not installed (x86_64 Linux / arm64 macOS only)")


def run_vm(script, timeout=120):
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "t.py"
        p.write_text(script)
        env = dict(os.environ, MICROPYPATH=f"{FW}{os.pathsep}.frozen")
        r = subprocess.run([VM, str(p)], capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, r.stderr + r.stdout
    return r.stdout


SIGNALS = r"""
import array, random
def signals(nframes=300, seed=1):
    # noise bursts, tones, clipped full scale, silence, a DC step: everything that exercises the kernel
    random.seed(seed)
    out = []
    for n in range(nframes):
        fr = array.array('h', bytes(320))
        kind = (n // 25) % 6
        for i in range(160):
            t = n * 160 + i
            if kind == 0:
                v = (random.getrandbits(16) - 32768) >> 8
            elif kind == 1:
                v = ((t * 7) % 200 - 100) * 100 + ((random.getrandbits(16) - 32768) >> 9)
            elif kind == 2:
                v = 32767 if (t // 40) % 2 else -32768
            elif kind == 3:
                v = 0
            elif kind == 4:
                v = random.getrandbits(16) - 32768
            else:
                v = 1500 + ((random.getrandbits(16) - 32768) >> 12)
            fr[i] = max(-32768, min(32767, v))
        out.append(fr)
    return out
"""


def _has_viper():
    out = run_vm("import vad\nprint(vad.kernel_kind())\n")
    return out.strip() == "viper"


@needs_vm
def test_viper_kernel_is_bit_identical_to_plain_twin():
    if not _has_viper():
        pytest.skip("this VM has no viper emitter (arm64): only the plain twin exists")
    out = run_vm(SIGNALS + r"""
import vad
a = vad.Vad(kernel='viper'); b = vad.Vad(kernel='plain')
assert a.kind == 'viper' and b.kind == 'plain'
bad = 0; ones = 0
for sens in (0, 5, 9):
    a.set_sensitivity(sens); b.set_sensitivity(sens); a.reset(); b.reset()
    for n, fr in enumerate(signals(300, seed=sens)):
        da = a.process(fr); db = b.process(fr)
        ones += da
        if da != db or a.score != b.score or list(a.features()) != list(b.features()) or list(a._st)[1:] != list(b._st)[1:]:
            bad += 1
print(bad, ones)
""")
    bad, ones = map(int, out.split())
    assert bad == 0
    assert ones > 0  # the comparison covered speech-like decisions too


@needs_vm
def test_process_and_step_allocate_nothing():
    out = run_vm(SIGNALS + r"""
import micropython, vad, endpoint
sig = signals(200)
for kind in ([vad.kernel_kind()] + (['plain'] if vad.kernel_kind() == 'viper' else [])):
    v = vad.Vad(kernel=kind)
    ep = endpoint.Endpointer()
    total = 0
    micropython.heap_lock()
    try:
        for fr in sig:
            d = v.process(fr)
            r = ep.step(d)
            total += r & endpoint.EP_COUNT
        nf = v.noise_floor
    finally:
        micropython.heap_unlock()
    print(kind, total)
""")
    assert out.strip()


@needs_vm
def test_sensitivity_validation_reset_and_noise_floor():
    out = run_vm(SIGNALS + r"""
import vad, array, random
v = vad.Vad()
errs = 0
for bad in (-1, 10, 5.0, '5', None, True):
    try:
        v.set_sensitivity(bad)
    except ValueError:
        errs += 1
try:
    vad.Vad(sensitivity=11)
except ValueError:
    errs += 1
sig = signals(150)
first = [v.process(fr) for fr in sig]
sc1 = v.score
v.reset()
wiped = all(x == 0 for x in v._st[25:304]) and all(x == 0 for x in v._sc[:48]) and all(x == 512 for x in v._sc[48:])
second = [v.process(fr) for fr in sig]
# white noise at about -40 dBFS rms: floor estimate within a few dB
random.seed(3)
w = vad.Vad()
for n in range(300):
    fr = array.array('h', [(random.getrandbits(10) + random.getrandbits(10) + random.getrandbits(10) + random.getrandbits(10) - 2046) * 142 >> 8 for i in range(160)])
    w.process(fr)
for bad in (array.array('h', bytes(318)), array.array('h', bytes(322)), memoryview(array.array('h', bytes(320)))[:80]):
    try:
        v.process(bad)
    except ValueError:
        errs += 1
print(errs, wiped, first == second, sc1 == v.score, w.noise_floor, type(w.noise_floor) is int)
""")
    errs, wiped, same, same_score, nf, isint = out.split()
    assert int(errs) == 10
    assert wiped == "True" and same == "True" and same_score == "True"
    assert isint == "True"
    assert -440 <= int(nf) <= -360, nf   # -40 dBFS rms, floor tracks the lower envelope


@needs_vm
@pytest.mark.skipif(not DEV.is_dir(), reason="shared/eval/vad not present")
def test_detector_accuracy_floor_on_dev_clips():
    """Not a tuning target, a tripwire: clean and noisy clips must still be detected sensibly."""
    from hushmic.audio_io import read_wav_strict
    from hushmic.vad_runner import run_vad

    tp = fp = fn = neg = 0
    for cid in ("dev_002", "dev_005", "dev_000", "dev_010"):
        meta = json.loads((DEV / f"{cid}.json").read_text())
        lab = np.frombuffer(meta["frame_labels"].encode(), np.uint8) == ord("1")
        res = run_vad(read_wav_strict(DEV / f"{cid}.wav"))
        dec = np.frombuffer(res.frames.encode(), np.uint8) == ord("1")
        tp += int((lab & dec).sum()); fp += int((~lab & dec).sum()); fn += int((lab & ~dec).sum())
        neg += int((~lab).sum())
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 > 0.75 and fp / neg < 0.25, (f1, fp / neg)


@pytest.mark.skipif(MPYCROSS is None, reason="mpy-cross not installed")
@pytest.mark.parametrize("name", ["vad.py", "endpoint.py", "viper-kernel"])
def test_compiles_for_esp32s3(name, tmp_path):
    if name == "viper-kernel":
        p = tmp_path / "vad_kernel.py"
        shutil.copy(FW / "vad_kernel.py", p)  # what deploy compiles ahead of time for the chip
    else:
        p = tmp_path / name
        shutil.copy(FW / name, p)
    r = subprocess.run([MPYCROSS, "-march=xtensawin", "-o", str(tmp_path / "out.mpy"), str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "out.mpy").read_bytes()
    assert len(data) > 0
    if name == "viper-kernel":  # native xtensawin code in the .mpy (header byte 2 = arch << 2 | sub-version)
        assert data[0] == ord("M") and data[2] >> 2 == 10, data[:4]


# ---------------------------------------------------------------- integer ranges (CPython, instrumented)
class _Checked(ast.NodeTransformer):
    """Wrap every arithmetic result and every store into st[] with _chk(), which fails at >= 2^30."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return ast.Call(func=ast.Name("_chk", ast.Load()), args=[node], keywords=[])

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        tgt = node.target
        load = ast.Name(tgt.id, ast.Load()) if isinstance(tgt, ast.Name) else ast.Subscript(
            tgt.value, tgt.slice, ast.Load())
        val = ast.Call(func=ast.Name("_chk", ast.Load()), args=[ast.BinOp(load, node.op, node.value)], keywords=[])
        return ast.Assign(targets=[tgt], value=val, lineno=node.lineno)


def test_kernel_integers_stay_below_2_30_on_extreme_input():
    src = (FW / "vad.py").read_text()
    ksrc = (FW / "vad_kernel.py").read_text().replace("@micropython.viper\n", "")  # the plain twin's text
    ksrc = ksrc.replace("import micropython\n", "")  # (CPython has no such module; the kernel does not use it)
    wsrc = re.search(r"_W = \((.*?)\)\n", src, re.S).group(1)
    W = [int(eval(t)) for t in wsrc.replace("\n", " ").split(",") if t.strip()]
    tree = ast.fix_missing_locations(_Checked().visit(ast.parse(ksrc)))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            fn.returns = None
            for a in fn.args.args:
                a.annotation = None
    peak = [0]

    def _chk(v):
        peak[0] = max(peak[0], abs(v))
        assert abs(v) < (1 << 30), v
        return v

    g = {"_chk": _chk}
    exec(compile(ast.fix_missing_locations(tree), "kern", "exec"), g)
    kern = g["_kern"]
    nst = int(re.search(r"_NST = const\((\d+)\)", src).group(1))
    rng = np.random.default_rng(0)
    frames = [np.full(160, 32767), np.full(160, -32768), np.tile([32767, -32768], 80),
              rng.integers(-32768, 32768, 160), np.zeros(160, int), np.tile([32767] * 40 + [-32768] * 40, 2)]
    nsc = int(re.search(r"_NSC = const\((\d+)\)", src).group(1))
    st = [0] * nst
    sc = [0] * 48 + [512] * (nsc - 48)     # as Vad.reset() leaves them
    for i in range(11):
        st[304 + i] = 17 * 512
    seq = [frames[i % len(frames)] for i in range(60)] + [frames[3]] * 30 + [frames[5]] * 30 + [frames[1]] * 20
    for fr in seq:
        kern([int(v) for v in fr], st, W, sc)
    assert peak[0] > (1 << 20)  # the check really saw the big sums
