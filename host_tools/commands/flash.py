"""`hushmic flash`: write a MicroPython ESP32_GENERIC_S3 image with esptool, verified by SHA-256, then deploy hushmic.

Before anything is written, the image must be one we can vouch for: its SHA-256 must be in the pinned list
(boards/esp32_s3/images/pinned.json, or --pins FILE). A file whose name is pinned but whose hash differs is a corrupted or
substituted download and is always refused; any other unknown image is refused unless --allow-unpinned. The image
must also look like what esptool writes at offset 0 of an ESP32-S3: an ESP image header (0xE9) whose chip id is the
S3's, and a partition table at 0x8000. Flashing itself cannot be simulated: tests/hil/test_flash.py runs it on a real
board given with --port.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ..cli import emit_json, say
from ..errors import BadInput, HushmicError
from ..paths import BOARDS_DIR

NAME = "flash"
ORDER = 59
HELP = "flash MicroPython (SHA-256-pinned image) onto an ESP32-S3 with esptool, then deploy hushmic"
DESCRIPTION = """Flash MicroPython onto an ESP32-S3 and deploy hushmic on it.

  hushmic flash --port /dev/ttyUSB0 --image ESP32_GENERIC_S3-<date>-v1.2x.y.bin [--profile devkitc1_inmp441]
  hushmic flash --port /dev/ttyUSB0 --image FILE.bin --dry-run      # checks and the plan, writes nothing

Get the image from https://micropython.org/download/ESP32_GENERIC_S3/ (docs/deploy.md says how, and how to pin it).
Use the DevKitC-1's "UART" port for flashing (esptool resets the chip into its bootloader through DTR/RTS); on the
native "USB" port, hold BOOT, tap RESET, release BOOT first. The deploy that follows uses --deploy-port if given
(e.g. the native USB port), else the same port."""

PINS = BOARDS_DIR / "images" / "pinned.json"  # not beside the profiles: every *.json there is a profile
CHIP = "esp32s3"
ESP_IMAGE_MAGIC = 0xE9
ESP32S3_CHIP_ID = 9  # esp_image_header_t.chip_id (ESP32 0, S2 2, C3 5, S3 9, C2 12, C6 13, H2 16)
_CHIP_NAMES = {0: "ESP32", 2: "ESP32-S2", 5: "ESP32-C3", 9: "ESP32-S3", 12: "ESP32-C2", 13: "ESP32-C6", 16: "ESP32-H2"}
PARTITION_TABLE_AT = 0x8000
PARTITION_MAGIC = b"\xaa\x50"


def add_arguments(p):
    p.add_argument("--port", metavar="PORT", help="serial port to flash through (the DevKitC-1's UART port is easiest)")
    p.add_argument("--image", metavar="FILE.bin", help="MicroPython ESP32_GENERIC_S3 image (written at offset 0)")
    p.add_argument("--dry-run", action="store_true", help="check the image and print the plan; write nothing")
    p.add_argument("--allow-unpinned", action="store_true",
                   help="flash an image whose SHA-256 is not in the pinned list (never one that contradicts it)")
    p.add_argument("--pins", metavar="FILE", default=None, help=f"pinned image list (default {PINS.relative_to(BOARDS_DIR.parent.parent)})")
    p.add_argument("--erase", action="store_true", help="erase the whole flash first (needed when coming from other firmware; "
                   "also wipes the board's files)")
    p.add_argument("--baud", type=int, default=460800, help="esptool baud rate (default 460800)")
    p.add_argument("--no-deploy", action="store_true", help="only flash MicroPython")
    p.add_argument("--deploy-port", metavar="PORT", help="port for the deploy after flashing (default: --port)")
    p.add_argument("--profile", metavar="NAME|FILE", help="board profile to deploy (default: the board's own if it kept one, else devkitc1_inmp441)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")


def load_pins(path):
    try:
        d = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInput(f"pinned image list {path} does not exist") from None
    except ValueError as e:
        raise BadInput(f"pinned image list {path} is not valid JSON ({e})") from None
    imgs = d.get("images") if isinstance(d, dict) else None
    if not isinstance(imgs, list):
        raise BadInput(f"pinned image list {path}: needs an 'images' list")
    for i, e in enumerate(imgs):
        if not (isinstance(e, dict) and isinstance(e.get("sha256"), str) and len(e["sha256"]) == 64
                and isinstance(e.get("file"), str)):
            raise BadInput(f"pinned image list {path}: entry {i} needs 'file' and a 64-hex-digit 'sha256'")
    return d


def check_image(path, pins, pins_path, allow_unpinned):
    """Hash and sanity-check an image. Returns a dict describing it; BadInput says why an image is refused."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{path}: no such image file")
    data = p.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    info = {"image": str(p), "size": len(data), "sha256": sha, "pinned": None}
    if len(data) < PARTITION_TABLE_AT + 32 or data[0] != ESP_IMAGE_MAGIC:
        raise BadInput(f"{p.name}: not an ESP32 firmware image for offset 0 (no 0xE9 image header, or too small); "
                       f"use the .bin from micropython.org/download/ESP32_GENERIC_S3/, not an .app-bin or .uf2")
    chip_id = data[12] | (data[13] << 8)
    if chip_id != ESP32S3_CHIP_ID:
        raise BadInput(f"{p.name}: this image is for the {_CHIP_NAMES.get(chip_id, f'chip id {chip_id}')}, not the "
                       f"ESP32-S3 (download ESP32_GENERIC_S3)")
    if data[PARTITION_TABLE_AT:PARTITION_TABLE_AT + 2] != PARTITION_MAGIC:
        raise BadInput(f"{p.name}: no partition table at 0x8000: not a full MicroPython image for offset 0")
    by_sha = [e for e in pins["images"] if e["sha256"].lower() == sha]
    by_name = [e for e in pins["images"] if e["file"] == p.name]
    if by_sha:
        info["pinned"] = by_sha[0]
        return info
    if by_name:
        raise BadInput(f"{p.name}: SHA-256 {sha} differs from the pinned {by_name[0]['sha256']} for this file name: "
                       f"a corrupted or substituted download. Download it again from micropython.org")
    if not allow_unpinned:
        raise BadInput(f"{p.name}: SHA-256 {sha} is not in {pins_path}: hushmic flashes only images it can vouch for "
                       f"(a damaged or substituted image could brick the board or ship a microphone that streams "
                       f"everything). Pin it after downloading it yourself (docs/deploy.md), or pass --allow-unpinned")
    return info


def esptool_cmd(port, image, baud, erase):
    """The esptool command lines (a list of argv lists), in the syntax of the installed esptool (5.x: hyphens)."""
    try:
        from importlib.metadata import version

        major = int(version("esptool").split(".")[0])
    except Exception:
        major = 4
    h = (lambda s: s.replace("_", "-")) if major >= 5 else (lambda s: s)
    base = [sys.executable, "-m", "esptool", "--chip", CHIP, "--port", port, "--baud", str(baud),
            "--before", h("default_reset"), "--after", h("hard_reset")]
    cmds = []
    if erase:
        cmds.append([*base, h("erase_flash")])
    cmds.append([*base, h("write_flash"), "0", str(image)])
    return cmds


def _deploy_after_flash(port, profile, timeout=45.0):
    """Deploy once MicroPython is up: the first boot after a flash formats the filesystem, which takes seconds."""
    from .. import deploy as dep

    deadline = time.monotonic() + timeout
    while True:
        try:
            return dep.deploy(port, profile=profile, arch="auto", say=say)
        except BadInput:
            if time.monotonic() >= deadline:
                raise
        except HushmicError as e:
            if "no MicroPython REPL answered" not in str(e) or time.monotonic() >= deadline:
                raise
        say("  waiting for MicroPython's first boot...")
        time.sleep(2.0)


def run(args):
    if not args.port:
        raise BadInput("give the port to flash through with --port PORT (the DevKitC-1's UART port, e.g. /dev/ttyUSB0)")
    if not args.image:
        raise BadInput("give the MicroPython image with --image FILE.bin (micropython.org/download/ESP32_GENERIC_S3/)")
    pins_path = Path(args.pins) if args.pins else PINS
    pins = load_pins(pins_path)
    if args.profile is not None:
        from .. import deploy as dep

        dep.check_profile(dep.profile_path(args.profile).read_bytes(), args.profile)
    info = check_image(args.image, pins, pins_path, args.allow_unpinned)
    if info["pinned"]:
        say(f"image {Path(args.image).name}: SHA-256 matches the pinned entry "
            f"(MicroPython {info['pinned'].get('micropython', '?')})")
    else:
        say(f"image {Path(args.image).name}: NOT pinned (SHA-256 {info['sha256']}); accepted because of --allow-unpinned")
    cmds = esptool_cmd(args.port, args.image, args.baud, args.erase)
    result = {"dry_run": args.dry_run, **info, "esptool": cmds, "deploy": None}
    if args.dry_run:
        say("dry run: nothing is written. Would run:")
        for c in cmds:
            say("  " + " ".join(c))
    else:
        if os.name != "nt" and not os.path.exists(args.port):
            raise BadInput(f"{args.port}: no such serial port (`hushmic devices` lists boards)")
        t0 = time.monotonic()
        for c in cmds:
            say("$ " + " ".join(c[1:]))
            r = subprocess.run(c, stdout=sys.stderr, stderr=sys.stderr)
            if r.returncode != 0:
                raise HushmicError(f"esptool failed (exit {r.returncode}). Is {args.port} the board's UART port? "
                                   f"On the native USB port, hold BOOT, tap RESET, release BOOT and try again")
        result["flash_s"] = round(time.monotonic() - t0, 1)
    if not args.no_deploy:
        dport = args.deploy_port or args.port
        if args.dry_run:
            say(f"then: hushmic deploy --port {dport}" + (f" --profile {args.profile}" if args.profile else
                "  (keeps the board's profile if it has one, else devkitc1_inmp441)"))
        else:
            time.sleep(2.0)
            import contextlib

            with contextlib.redirect_stdout(sys.stderr):
                res = _deploy_after_flash(dport, args.profile)
            result["deploy"] = res.as_dict()
            say(f"deployed: {res.copied} files, app answering (firmware {res.hello.get('firmware')})")
    if args.json:
        emit_json(result)
    return 0
