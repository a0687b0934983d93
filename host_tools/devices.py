"""Finding boards: serial ports that look like ESP32-S3 boards, running simulated boards, and a polite probe.

Real boards are recognised by USB ids (`serial.tools.list_ports`): Espressif's own VID 0x303A is the S3's native
USB port (MicroPython's REPL and hushmic's stream); the common USB-UART bridges (CP210x, CH340/CH9102, FTDI) are the
DevKitC-1's "UART" port, which also reaches the chip but whose DTR/RTS lines drive its reset and BOOT pins.

Simulated boards register themselves while they run (`register_sim`, called by `hushmic.sim.launcher.SimBoard`): one
small JSON file per board in a per-user runtime directory, removed when the board stops. Entries whose process is
gone or whose port has disappeared are ignored and cleaned up, so a crashed simulator leaves no ghost.

Probing (`probe`) opens a port exclusively with DTR/RTS held off, asks for hello and closes it again. A port another
program holds (a running `hushmic listen`, mpremote, a serial monitor) is reported busy and never disturbed.
"""
import json
import os
import sys
import time
import uuid
from pathlib import Path

from . import paths

ESPRESSIF_VID = 0x303A
# (vid, pid or None for any) -> what it is
KNOWN = {
    (0x303A, 0x1001): ("native-usb", "ESP32-S3 USB-Serial/JTAG (native USB)"),
    (0x303A, 0x4001): ("native-usb", "MicroPython TinyUSB CDC (native USB)"),
    (0x303A, None): ("native-usb", "Espressif native USB"),
    (0x10C4, 0xEA60): ("usb-uart", "Silicon Labs CP210x USB-UART bridge"),
    (0x1A86, 0x7523): ("usb-uart", "WCH CH340 USB-UART bridge"),
    (0x1A86, 0x55D4): ("usb-uart", "WCH CH9102/CH343 USB-UART bridge"),
    (0x1A86, 0x55D3): ("usb-uart", "WCH CH343 USB-UART bridge"),
    (0x0403, None): ("usb-uart", "FTDI USB-UART bridge"),
}


# ---- simulated boards: registration -----------------------------------------------------------------------------
def run_dir() -> Path:
    """Where running simulated boards register: $HUSHMIC_HOME/run if set (tests, several installs), else
    $XDG_RUNTIME_DIR/hushmic (tmpfs, per user, emptied at logout), else <user data dir>/run."""
    if os.environ.get("HUSHMIC_HOME"):
        return paths.user_data_dir() / "run"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return Path(xdg) / "hushmic"
    return paths.user_data_dir() / "run"


def _private_dir(d):
    old = os.umask(0o077)
    try:
        d.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(old)


def register_sim(name, port, wav=None, profile=None):
    """Announce a running simulated board; returns the registration file (pass it to unregister_sim). Never raises:
    a simulator that cannot register still works, it is just not listed by `hushmic devices`."""
    try:
        d = run_dir()
        _private_dir(d)
        f = d / f"sim-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        tmp = f.with_suffix(".tmp")
        entry = {"name": name, "port": str(port), "pid": os.getpid(), "started": time.time(),
                 "wav": Path(wav).name if wav else None, "profile": profile}
        old = os.umask(0o077)
        try:
            tmp.write_text(json.dumps(entry))
        finally:
            os.umask(old)
        os.replace(tmp, f)
        return f
    except OSError:
        return None


def unregister_sim(reg):
    if reg is None:
        return
    try:
        os.unlink(reg)
    except OSError:
        pass


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, TypeError):
        return True
    return True


def list_sims(clean=True):
    """Running simulated boards: [{"port", "kind": "simulated", "name", "pid", "wav", "profile", "started"}]."""
    d = run_dir()
    out = []
    if not d.is_dir():
        return out
    for f in sorted(d.glob("sim-*.json")):
        try:
            e = json.loads(f.read_text())
            alive = _pid_alive(e.get("pid")) and os.path.exists(e.get("port", ""))
        except (OSError, ValueError, AttributeError):
            e, alive = None, False
        if not alive:
            if clean and (e is None or not _pid_alive(e.get("pid"))):
                unregister_sim(f)  # its process is gone (crash, kill -9): remove the ghost
            continue
        out.append({"port": e["port"], "kind": "simulated", "description": f"simulated board {e.get('name')}",
                    "name": e.get("name"), "pid": e.get("pid"), "wav": e.get("wav"), "profile": e.get("profile"),
                    "started": e.get("started")})
    return out


# ---- real boards ------------------------------------------------------------------------------------------------
def classify(vid, pid):
    """(kind, description) for a USB id, or None if it is not an ESP32-S3 board's kind of port."""
    if vid is None:
        return None
    return KNOWN.get((vid, pid)) or KNOWN.get((vid, None))


def list_serial(all_ports=False):
    """Serial ports that look like ESP32-S3 boards (all serial ports with all_ports=True)."""
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return []
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        c = classify(p.vid, p.pid)
        if c is None and not all_ports:
            continue
        kind, what = c if c else ("other", p.description or "serial port")
        out.append({
            "port": p.device, "kind": kind, "description": what,
            "usb_id": f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else None,
            "product": p.product, "manufacturer": p.manufacturer, "serial_number": p.serial_number,
            "location": p.location,
            "by_id": _by_id(p.device),
        })
    return out


def _by_id(device):
    """A stable /dev/serial/by-id name for a Linux port, if there is one."""
    d = Path("/dev/serial/by-id")
    if not sys.platform.startswith("linux") or not d.is_dir():
        return None
    try:
        real = os.path.realpath(device)
        for f in d.iterdir():
            if os.path.realpath(f) == real:
                return str(f)
    except OSError:
        pass
    return None


def probe(port, timeout=1.5):
    """Ask a port for hello without disturbing anything: exclusive open (a port in use is reported busy, untouched),
    DTR/RTS off (no reset), no stream started. Returns {"status": "ok"|"busy"|"no answer"|"error", ...}."""
    from .errors import HushmicError
    from .link import BoardConnection
    from .protocol import IncompatibleBoard

    conn = BoardConnection(port, "probe")
    try:
        conn.open()
    except HushmicError as e:
        msg = str(e)
        return {"status": "busy" if "busy" in msg else "error", "message": msg}
    try:
        hello = conn.handshake(timeout=timeout)
        return {"status": "ok", "hello": hello}
    except IncompatibleBoard as e:
        return {"status": "error", "message": str(e)}
    except HushmicError:
        return {"status": "no answer", "message": "no hello: not running the hushmic app (REPL, other firmware, "
                                                 "or the UART port while the app talks on native USB)"}
    except Exception as e:  # a port that vanished mid-probe, an odd driver: report, never crash the listing
        return {"status": "error", "message": f"{type(e).__name__}: {e}"}
    finally:
        conn.close()


def find(all_ports=False, with_probe=False, timeout=1.5):
    """Everything `hushmic devices` shows: real ports first (native USB before bridges), then simulated boards."""
    rank = {"native-usb": 0, "usb-uart": 1, "other": 2, "simulated": 3}
    devs = sorted(list_serial(all_ports), key=lambda d: (rank.get(d["kind"], 9), d["port"])) + list_sims()
    for d in devs:
        d["recommended"] = d["kind"] in ("native-usb", "simulated")
        if with_probe:
            d["probe"] = probe(d["port"], timeout=timeout)
    return devs
