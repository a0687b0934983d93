"""`hushmic flash`: the image checks (no hardware needed) and the real flash + deploy (hardware in the loop).

Flashing cannot be simulated (esptool talks to the chip's ROM bootloader). The hardware tests run only when a board
is given:

    pytest tests/hil/test_flash.py --port /dev/ttyUSB0 [--deploy-port /dev/ttyACM0]
    HUSHMIC_FLASH_IMAGE=ESP32_GENERIC_S3-....bin  (pinned in boards/esp32_s3/images/pinned.json, or HUSHMIC_ALLOW_UNPINNED=1)

`--port` comes from the HIL conftest when there is one; without it (or without the option registered at all) these
tests are skipped with the reason. The environment variables HUSHMIC_HIL_PORT / HUSHMIC_HIL_DEPLOY_PORT work too.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hushmic import cli
from hushmic.commands import flash

REPO = Path(__file__).resolve().parents[2]


def _opt(request, name, env):
    try:
        v = request.config.getoption(name, default=None)
    except (ValueError, AttributeError):  # option not registered by any conftest
        v = None
    if isinstance(v, (list, tuple)):  # a conftest may register it with action="append"
        v = v[0] if v else None
    return v or os.environ.get(env)


@pytest.fixture
def port(request):
    p = _opt(request, "--port", "HUSHMIC_HIL_PORT")
    if not p:
        pytest.skip("hardware test: no board given (pytest --port /dev/ttyUSB0, or HUSHMIC_HIL_PORT)")
    return p


def _image(tmp_path, chip_id=flash.ESP32S3_CHIP_ID, table=True, magic=flash.ESP_IMAGE_MAGIC):
    """A file laid out like a MicroPython ESP32 image for offset 0 (only the parts flash checks are real)."""
    b = bytearray(b"\xff" * 0x9000)
    b[0] = magic
    b[12:14] = chip_id.to_bytes(2, "little")
    if table:
        b[0x8000:0x8002] = flash.PARTITION_MAGIC
    p = tmp_path / f"ESP32_GENERIC_S3-test-{chip_id}-{int(table)}-{magic}.bin"
    p.write_bytes(bytes(b))
    return p


def _pins(tmp_path, *entries):
    p = tmp_path / "images.json"
    p.write_text(json.dumps({"schema": 1, "images": list(entries)}))
    return p


def _run(capsys, *argv):
    rc = cli.main(["flash", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---- checks that need no board --------------------------------------------------------------------------------
def test_shipped_pin_list_is_valid_and_only_holds_justified_entries():
    d = flash.load_pins(flash.PINS)
    assert d["chip"] == "esp32s3" and d["flash_offset"] == 0
    assert d["download_page"].startswith("https://micropython.org/download/ESP32_GENERIC_S3")
    for e in d["images"]:  # every pin says where it came from and who checked it
        assert e["url"].startswith("https://micropython.org/") and e.get("pinned_by")


def test_unpinned_image_is_refused_and_says_why(capsys, tmp_path):
    img = _image(tmp_path)
    rc, out, err = _run(capsys, "--port", "/dev/null", "--image", str(img), "--pins", str(_pins(tmp_path)), "--dry-run")
    assert rc == 2 and out == ""
    line = err.strip().splitlines()[-1]
    assert "not in" in line and hashlib.sha256(img.read_bytes()).hexdigest() in line and "--allow-unpinned" in line


def test_unpinned_image_with_allow_unpinned_dry_run_plans_esptool(capsys, tmp_path):
    img = _image(tmp_path)
    rc, out, err = _run(capsys, "--port", "/dev/ttyUSB9", "--image", str(img), "--pins", str(_pins(tmp_path)),
                        "--allow-unpinned", "--dry-run", "--json")
    assert rc == 0, err
    r = json.loads(out)
    assert r["dry_run"] is True and r["pinned"] is None
    cmd = r["esptool"][-1]
    assert cmd[cmd.index("--chip") + 1] == "esp32s3" and cmd[cmd.index("--port") + 1] == "/dev/ttyUSB9"
    assert cmd[-2:] == ["0", str(img)]  # the whole image at offset 0
    assert "NOT pinned" in err and "nothing is written" in err


def test_pinned_image_is_accepted(capsys, tmp_path):
    img = _image(tmp_path)
    sha = hashlib.sha256(img.read_bytes()).hexdigest()
    pins = _pins(tmp_path, {"file": img.name, "sha256": sha, "micropython": "1.29.0",
                            "url": "https://micropython.org/resources/firmware/x.bin", "pinned_by": "test"})
    rc, out, err = _run(capsys, "--port", "/dev/ttyUSB9", "--image", str(img), "--pins", str(pins), "--dry-run",
                        "--json")
    assert rc == 0, err
    assert json.loads(out)["pinned"]["sha256"] == sha and "matches the pinned entry" in err


def test_pinned_name_with_another_hash_is_refused_even_with_allow_unpinned(capsys, tmp_path):
    img = _image(tmp_path)
    pins = _pins(tmp_path, {"file": img.name, "sha256": "0" * 64})
    rc, out, err = _run(capsys, "--port", "/dev/ttyUSB9", "--image", str(img), "--pins", str(pins),
                        "--allow-unpinned", "--dry-run")
    assert rc == 2 and "corrupted or substituted" in err


@pytest.mark.parametrize("kw,why", [({"chip_id": 0}, "for the ESP32,"), ({"chip_id": 5}, "ESP32-C3"),
                                    ({"magic": 0x00}, "no 0xE9"), ({"table": False}, "no partition table")])
def test_images_for_other_chips_or_offsets_are_refused(capsys, tmp_path, kw, why):
    rc, out, err = _run(capsys, "--port", "/dev/ttyUSB9", "--image", str(_image(tmp_path, **kw)), "--allow-unpinned",
                        "--dry-run")
    assert rc == 2 and why in err


def test_usage_errors(capsys, tmp_path):
    assert _run(capsys, "--image", "x.bin")[0] == 2
    assert _run(capsys, "--port", "/dev/ttyUSB9")[0] == 2
    rc, _, err = _run(capsys, "--port", "/dev/ttyUSB9", "--image", str(tmp_path / "missing.bin"))
    assert rc == 2 and "no such image" in err


def test_esptool_syntax_matches_the_installed_esptool():
    cmds = flash.esptool_cmd("/dev/ttyUSB9", "img.bin", 460800, erase=True)
    assert len(cmds) == 2 and cmds[0][-1] in ("erase-flash", "erase_flash")
    r = subprocess.run(cmds[1][:3] + ["--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and cmds[1][-3] in r.stdout  # the write command is one this esptool knows


def test_flash_sh_is_a_thin_wrapper():
    sh = (REPO / "flash.sh").read_text()
    assert os.access(REPO / "flash.sh", os.X_OK)
    assert 'hushmic" flash "$@"' in sh and ".venv" in sh


# ---- hardware in the loop ---------------------------------------------------------------------------------------
def test_flash_and_deploy_on_a_real_board(request, port):
    image = os.environ.get("HUSHMIC_FLASH_IMAGE")
    if not image:
        pytest.skip("hardware test: set HUSHMIC_FLASH_IMAGE to a MicroPython ESP32_GENERIC_S3 .bin")
    deploy_port = _opt(request, "--deploy-port", "HUSHMIC_HIL_DEPLOY_PORT") or port
    argv = [sys.executable, "-m", "hushmic", "flash", "--port", port, "--image", image, "--deploy-port", deploy_port,
            "--json"]
    if os.environ.get("HUSHMIC_ALLOW_UNPINNED"):
        argv.append("--allow-unpinned")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    dep = res["deploy"]
    assert dep["platform"] == "esp32" and dep["arch"] == "xtensawin" and dep["verified"]
    assert dep["hello"]["firmware"]
    # a second deploy of the same firmware copies nothing
    r2 = subprocess.run([sys.executable, "-m", "hushmic", "deploy", "--port", deploy_port, "--json"],
                        capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert json.loads(r2.stdout)["copied"] == 0
