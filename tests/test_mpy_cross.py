"""Every firmware module compiles with mpy-cross for the ESP32-S3 (xtensawin) and for the simulated board (the host).

Viper on the S3 is 32-bit: an integer literal >= 2**30 in a viper function compiles for x64 but not for xtensawin,
so the host build alone would not catch it. main.py is compiled too, though it is deployed as source.
"""
import subprocess

import pytest

from hushmic import deploy as dep
from hushmic.paths import BOARDS_DIR, FIRMWARE_DIR

SOURCES = sorted(FIRMWARE_DIR.glob("*.py"))
XTENSAWIN = 10  # MP_NATIVE_ARCH_XTENSAWIN, as the .mpy header stores it


def _compile(src, march, tmp_path):
    out = tmp_path / (src.stem + ".mpy")
    r = subprocess.run([*dep.mpy_cross_cmd(), f"-march={march}", "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{src.name} does not compile for {march}: {r.stderr.strip()}"
    return out.read_bytes()


def test_there_are_firmware_sources():
    names = {p.name for p in SOURCES}
    assert {"main.py", "app.py", "wire.py", "profile.py"} <= names


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_compiles_for_xtensawin(src, tmp_path):
    mpy = _compile(src, "xtensawin", tmp_path)
    assert mpy[:1] == b"M" and mpy[1] == 6
    arch = mpy[2] >> 2
    assert arch in (0, XTENSAWIN), f"{src.name}: .mpy header says arch {arch}"  # 0 = bytecode only


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_compiles_for_the_host(src, tmp_path):
    _compile(src, "host", tmp_path)


def test_native_code_is_tagged_xtensawin(tmp_path):
    # modules with @micropython.viper functions hold native code: their .mpy must carry the S3's arch (or the board
    # rejects them), and every other module is plain bytecode
    native = [s for s in SOURCES if "@micropython.viper" in s.read_text() and
              any(ln.lstrip().startswith("@micropython.viper") for ln in s.read_text().splitlines())]
    assert native, "the firmware has viper kernels somewhere"
    for src in native:
        assert _compile(src, "xtensawin", tmp_path)[2] >> 2 == XTENSAWIN, src.name


def test_literal_too_big_for_s3_viper_is_caught(tmp_path):
    """The check above can fail: a viper literal >= 2**30 (which the 64-bit simulated VM's own compiler accepts)
    is not a small int on the S3, and mpy-cross refuses it for xtensawin."""
    bad = tmp_path / "bad.py"
    bad.write_text("import micropython\n@micropython.viper\ndef f() -> int:\n    return 0x40000000\n")
    good = tmp_path / "good.py"
    good.write_text("import micropython\n@micropython.viper\ndef f() -> int:\n    return 0x3FFFFFFF\n")
    s3_bad = subprocess.run([*dep.mpy_cross_cmd(), "-march=xtensawin", "-o", str(tmp_path / "b.mpy"), str(bad)],
                            capture_output=True, text=True)
    s3_good = subprocess.run([*dep.mpy_cross_cmd(), "-march=xtensawin", "-o", str(tmp_path / "g.mpy"), str(good)],
                             capture_output=True, text=True)
    assert s3_good.returncode == 0
    assert s3_bad.returncode != 0 and "ViperTypeError" in s3_bad.stderr


def test_deploy_plan_for_the_s3(tmp_path):
    """The plan `hushmic deploy` would copy to an S3: every module but main.py as xtensawin .mpy, main.py as source."""
    prof = (BOARDS_DIR / "devkitc1_inmp441.json").read_bytes()
    items = {it.name: it for it in dep.build_plan("xtensawin", prof, "devkitc1_inmp441")}
    for src in SOURCES:
        if src.name == "main.py":
            assert items["main.py"].data == src.read_bytes()
        else:
            assert items[src.stem + ".mpy"].data[:2] == b"M\x06"
    assert items["profile.json"].data == prof
    assert list(items)[-1] == "main.py"  # copied last: it is what boots the rest
