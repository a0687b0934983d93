"""`hushmic doctor`: a bring-up check of one board, real or simulated.

Each check is a small function that returns a `Result` (name, status, value, fix, message). `run_doctor()` runs them
in order against one port and hands every result to a callback as soon as it is known:

    port        the port opens (missing / permission / busy, and whether it is the native USB port)
    hello       the app answers hello: firmware, protocol, MicroPython, .mpy, platform, profile, mic; if it does not,
                what the port gave instead: nothing, REPL text, or garbage
    vad_kernel  the VAD runs its viper kernel (anything else: redeploy)
    fault       the board's own fault report (status)
    ping        round-trip time of CMD_PING, median of 10
    stream      a few seconds of streaming: bytes/s, frames/s, sequence gaps, CRC/decode errors, the board's own
                drops/overruns/tx_dropped/slow_writes, its output pacing (tx_limit_bps) and queue (tx_queued_max)
    heap        free heap from the heartbeats
    mic         the audio of the stream is not all zero / not stuck, its peak level; the VAD's noise floor
    mute        the switch: mute event, no audio after it, the probe's mic_silent, unmute
    led         blue / green / red at the matching moments

Everything physical goes through a `Bench`: a person at a terminal (`PersonBench`), the simulator (`SimBench`), or
nobody (`Bench`: the mute and LED checks then say "not checked (needs a person)").

Nothing here can unmute a board (no command can) and nothing changes its settings. The stream is stopped at the end
whatever happens, Ctrl-C included. Wire format and decoding are `hushmic.protocol`'s (the firmware's wire.py); the
connection is `hushmic.link.BoardConnection`.
"""
import ast
import re
import statistics
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import protocol
from .commands.calibrate import CLIP_LEVEL, dbfs
from .errors import BadInput, HushmicError
from .link import BoardConnection, Disconnected, open_port
from .paths import FIRMWARE_DIR
from .protocol import wire

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"

# ---- thresholds -----------------------------------------------------------------------------------------------
# Free heap (gc.mem_free() in the heartbeat). The app's loop allocates nothing and fits in 25 KiB, but a config change
# that resizes the pre-roll allocates the new ring (2 * 160 * frames: 16 KB for a 500 ms pre-roll) while the old one
# is still held, and every hello/status reply builds a JSON string of 0.5-1 KB. 40 KB covers one such ring plus the
# replies with room for fragmentation; an S3 without PSRAM has ~150 KB free once the app (as .mpy) is loaded, so
# less than 40 KB means something else holds the heap (sources deployed instead of .mpy, a huge pre-roll).
# gc.mem_free() counts garbage not yet collected as used, so the highest reading of the run is the one judged.
HEAP_WARN_BYTES = 40 * 1024
# The board reads commands once per loop iteration (one 10 ms frame), and USB CDC adds ~1 ms: a ping takes 10-25 ms.
# Over 100 ms the loop stalls (blocked writes, the plain VAD kernel).
PING_WARN_MS = 100.0
PINGS = 10
# The board paces its output to tx_limit_bps (the UART0 mirror of stdout on ESP32_GENERIC_S3, 11520 B/s) and queues the
# rest. ADPCM speech needs 10100 B/s, 88 %: by design, the surplus drains a segment's pre-roll. Audio over 97 % leaves
# nothing to drain it, so the queue fills and drops audio.
TX_LIMIT_WARN = 0.97
# Speech peak (99.9th percentile of |sample|, as `hushmic calibrate` measures it) below -35 dBFS is 26 dB under
# calibrate's -9 dBFS target, four steps of shift: too quiet for the VAD and ASR. Clipping: as calibrate.
MIC_QUIET_DBFS = -35.0
# The VAD's noise floor of an all-zero input is -146.4 dBFS; a live mic's self-noise is far above -140 at any shift
# that hears speech. Floors at or below this mean the data line delivers zeros (or a constant, which DC removal zeroes).
DEAD_FLOOR_DBFS = -140.0
HELLO_TIMEOUT_S = 4.0  # a board that was just plugged in starts its app within 2.5 s
PERSON_TIMEOUT_S = 60.0


@dataclass
class Result:
    name: str
    status: str  # ok | warn | FAIL | skip
    message: str  # one line for people
    value: object = None  # for scripts
    fix: str = None  # exactly what to do, when not ok

    def as_dict(self):
        return {"name": self.name, "status": self.status, "value": self.value, "fix": self.fix,
                "message": self.message}


@dataclass
class Report:
    port: str
    simulated: bool
    results: list = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self):
        return any(r.status == FAIL for r in self.results)

    @property
    def exit_code(self):
        return 1 if self.failed or self.interrupted else 0

    def get(self, name):
        return next((r for r in self.results if r.name == name), None)

    def counts(self):
        c = {OK: 0, WARN: 0, FAIL: 0, SKIP: 0}
        for r in self.results:
            c[r.status] += 1
        return c

    def as_dict(self):
        return {"port": self.port, "simulated": self.simulated, "ok": not self.failed and not self.interrupted,
                "interrupted": self.interrupted, "counts": self.counts(),
                "checks": [r.as_dict() for r in self.results]}


# ---- the LED's colours: firmware/led.py's COLOURS, read (not copied) ----------------------------------------------
def led_colours():
    """{state name: (r, g, b)} from firmware/led.py's COLOURS table (led.py imports `machine`, so it is parsed)."""
    tree = ast.parse((FIRMWARE_DIR / "led.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COLOURS" for t in node.targets):
            out = {}
            for k, v in zip(node.value.keys, node.value.values):
                out[wire.STATE_NAMES[getattr(wire, k.attr)]] = tuple(ast.literal_eval(v))
            return out
    raise HushmicError("firmware/led.py has no COLOURS table")  # pragma: no cover


def colour_name(rgb):
    """A person's name for an LED colour, by hue: off, red, green, blue, amber, magenta, cyan, white."""
    r, g, b = rgb
    m = max(r, g, b)
    if m == 0:
        return "off"
    on = [c >= 0.35 * m for c in (r, g, b)]
    names = {(1, 0, 0): "red", (0, 1, 0): "green", (0, 0, 1): "blue", (1, 1, 0): "amber", (1, 0, 1): "magenta",
             (0, 1, 1): "cyan", (1, 1, 1): "white"}
    return names[tuple(int(x) for x in on)]


def expected_led(states, fault):
    """The colours the LED may show in these board states: the firmware shows its error colour instead while it runs
    with a fault, except while muted."""
    cols = led_colours()
    out = []
    for s in states:
        st = "error" if fault and s != "muted" else s
        if cols[st] not in out:
            out.append(cols[st])
    return out


def firmware_version_shipped():
    """FIRMWARE_VERSION in this hushmic's firmware/app.py (what `hushmic deploy` would put on the board)."""
    try:
        tree = ast.parse((FIRMWARE_DIR / "app.py").read_text())
    except (OSError, SyntaxError):  # pragma: no cover
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FIRMWARE_VERSION" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def mpy_text(platform_name, mpy):
    """sys.implementation._mpy (version | sub-version << 8 | native arch << 10) as '.mpy v6.3, xtensawin'."""
    from .deploy import arch_of

    if not mpy:
        return ".mpy version not reported"
    arch = arch_of(platform_name, mpy)
    return f".mpy v{mpy & 0xFF}.{(mpy >> 8) & 3}, " + (f"native {arch}" if arch else "no native code")


# ---- who is at the board --------------------------------------------------------------------------------------
class Bench:
    """Nobody: no questions, no switch. The mute and LED checks report 'not checked (needs a person)'."""

    simulated = False
    can_act = False  # can flip the switch and look at the LED

    def say(self, msg):
        pass

    def prompt_speech(self, seconds):
        pass

    def set_switch(self, muted):
        """Flip the mute switch (simulator) or ask for it (person); returns at once or when done."""
        raise NotImplementedError

    def led_is(self, rgbs):
        """Does the LED show one of these colours now? (answer True/False/None, what was seen or None)."""
        return None, None


class PersonBench(Bench):
    """A person at a terminal: instructions on stderr, y/n answers from `ask` (input() by default)."""

    can_act = True

    def __init__(self, say, ask=None):
        self._say = say
        self._ask = ask or (lambda q: input(q))

    def say(self, msg):
        self._say(msg)

    def prompt_speech(self, seconds):
        self._say(f">>> Count aloud now, at your usual distance from the mic, for {seconds:g} s "
                  f"(\"one, two, three...\"): the board sends only speech.")

    def set_switch(self, muted):
        self._say(f">>> Turn the mute switch {'ON (muted)' if muted else 'OFF (listening)'} now.")

    def led_is(self, rgbs):
        names = " or ".join(colour_name(c) for c in rgbs)
        while True:
            try:
                a = self._ask(f">>> Is the board's LED {names} now? [y/n] ").strip().lower()
            except EOFError:
                return None, None
            if a in ("y", "yes"):
                return True, names
            if a in ("n", "no"):
                return False, f"not {names}"
            self._say("    please answer y or n")


class SimBench(Bench):
    """The simulated board does the physical part itself: its switch through the control channel
    (SimBoard(control=True)), its LED from the fake neopixel's log."""

    simulated = True
    can_act = True

    def __init__(self, simboard, settle_s=2.0):
        self.sb = simboard
        self.settle_s = settle_s

    def set_switch(self, muted):
        self.sb.set_switch(muted)

    def led_is(self, rgbs):
        deadline = time.monotonic() + self.settle_s  # the LED is written just after the frame that told the host
        seen = None
        while True:
            states = self.sb.led_states()
            seen = states[-1][1] if states else None
            if seen in rgbs or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        return seen in rgbs, (colour_name(seen) if seen else "never lit")


# ---- the connection, read by a thread -------------------------------------------------------------------------
class _Tap:
    """The serial port, with the bytes read counted and the first 4 KB kept (to tell REPL text from garbage)."""

    def __init__(self, ser):
        self._ser = ser
        self.nbytes = 0
        self.head = bytearray()

    def read(self, n=1):
        data = self._ser.read(n)
        if data:
            self.nbytes += len(data)
            if len(self.head) < 4096:
                self.head += data[:4096 - len(self.head)]
        return data

    @property
    def in_waiting(self):
        return self._ser.in_waiting

    def __getattr__(self, name):
        return getattr(self._ser, name)


class Session:
    """One BoardConnection, read by a thread into a log of (host time, Message), so that a person answering a question
    never stalls the board's writes."""

    def __init__(self, conn):
        self.conn = conn
        self.log = []
        self.cond = threading.Condition()
        self.gone = None
        self.status_problem = None
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="doctor-reader", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                msgs = self.conn.read()
            except Disconnected as e:
                with self.cond:
                    self.gone = str(e) or "disconnected"
                    self.cond.notify_all()
                return
            if msgs:
                t = time.monotonic()
                with self.cond:
                    self.log.extend((t, m) for m in msgs)
                    self.cond.notify_all()

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def mark(self):
        with self.cond:
            return len(self.log)

    def since(self, i, j=None):
        with self.cond:
            return list(self.log[i:j])

    def wait_for(self, pred, timeout, since):
        """(index, host time, Message) of the first message from `since` on where pred holds, or None at timeout."""
        deadline = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.log):
                    t, m = self.log[i]
                    i += 1
                    if pred(m):
                        return i - 1, t, m
                left = deadline - time.monotonic()
                if self.gone or left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def send(self, name, payload=b""):
        try:
            self.conn.send(name, payload)
        except Disconnected as e:
            self.gone = str(e) or "disconnected"
            raise
        return time.monotonic()

    def request(self, name, pred, payload=b"", timeout=3.0):
        i = self.mark()
        self.send(name, payload)
        return self.wait_for(pred, timeout, i)

    def status(self, timeout=3.0):
        """The board's status fields, or None (no reply, or an unreadable one: then `status_problem` says why)."""
        got = self.request("status", lambda m: m.kind == "status" or (
            m.kind == "malformed" and m.fields.get("type") == wire.MSG_STATUS), timeout=timeout)
        if got is None:
            self.status_problem = "no reply"
            return None
        if got[2].kind == "malformed":
            self.status_problem = f"unreadable reply: {got[2].fields.get('reason')}"
            return None
        return got[2].fields


def _about(cmd):
    return lambda m: m.kind in ("ack", "error") and m.fields.get("about") == cmd


def _gone(sess, what):
    return f"the board went away during {what} ({sess.gone}): was it reset or unplugged?" if sess.gone else None


# ---- checks ---------------------------------------------------------------------------------------------------
def port_kind(path):
    """(kind, description, usb id) of a serial port from its USB ids: native-usb, usb-uart, other, or None (a pty)."""
    from .devices import classify

    try:
        import os

        from serial.tools import list_ports

        real = os.path.realpath(path)
        for p in list_ports.comports():
            if p.device == path or os.path.realpath(p.device) == real:
                kind, what = classify(p.vid, p.pid) or ("other", p.description or "serial port")
                return kind, what, (f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else None)
    except Exception:
        pass
    return None, None, None


def check_port(port, simulated=False):
    """Open the port (exclusively, no reset). Returns (Result, open serial or None)."""
    try:
        ser = open_port(port)
    except HushmicError as e:
        msg = str(e)
        if isinstance(e, BadInput):
            fix = ("plug the board in by its USB connector (native USB, not UART) and use the port `hushmic devices` "
                   "marks 'native USB' (docs/ports.md)")
        elif "permission denied" in msg:
            fix = ("sudo usermod -aG dialout $USER, then log out and in; or install the udev rule in docs/ports.md")
        elif "busy" in msg:
            fix = "close the program that holds the port (hushmic listen, mpremote, a serial monitor) and run doctor again"
        else:
            fix = "check the cable and `hushmic devices`; see docs/ports.md"
        return Result("port", FAIL, msg, value={"port": port, "opened": False}, fix=fix), None
    if simulated:
        return Result("port", OK, f"{port} opens (simulated board)", value={"port": port, "opened": True,
                                                                           "kind": "simulated"}), ser
    kind, what, usb_id = port_kind(port)
    value = {"port": port, "opened": True, "kind": kind, "usb_id": usb_id}
    if kind == "usb-uart":
        return Result("port", WARN, f"{port} opens, but it is a USB-UART bridge ({what}, {usb_id})", value=value,
                      fix="use the DevKitC-1's connector labelled USB (native USB, 303a:*, /dev/ttyACM0 on Linux), "
                          "not UART: `hushmic devices` marks it (docs/ports.md)"), ser
    desc = f"{what}, {usb_id}" if kind else "no USB id (a pty, or not a USB port)"
    return Result("port", OK, f"{port} opens ({desc})", value=value), ser


_REPL_MARKS = (b">>> ", b"raw REPL", b"MicroPython v", b"Traceback", b"hushmic: ", b"Type \"help()\"",
               b"Use Ctrl-D to exit")


def classify_silence(raw, decoder_stats):
    """What a port that gave no hello gave instead: 'nothing', 'frames' (hushmic frames but no hello), 'repl' (REPL or
    console text), or 'garbage'."""
    if not raw:
        return "nothing"
    if decoder_stats.frames:
        return "frames"
    printable = sum(1 for b in raw if 32 <= b < 127 or b in (9, 10, 13))
    if any(k in raw for k in _REPL_MARKS) or printable >= 0.85 * len(raw):
        return "repl"
    return "garbage"


def _repl_excerpt(raw):
    """The telling line of what a REPL printed: a hushmic/MicroPython/traceback line if there is one, else the prompt
    (a REPL echoes the hello bytes doctor sent, which tell nothing)."""
    text = bytes(raw).decode("utf-8", "replace")
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    marks = ("hushmic:", "MicroPython", "Traceback", "Error", "raw REPL", "safe mode", "maintenance")
    told = [ln for ln in lines if any(k in ln for k in marks)]
    if told:
        line = told[-1]
    elif ">>>" in text:
        line = ">>> (the MicroPython prompt)"
    else:
        line = lines[-1] if lines else text.strip()
    return "".join(c if c.isprintable() else "?" for c in line)[:160]


def _no_hello(port, kind, raw, nbytes, seconds, port_result):
    bridge = port_result.value.get("kind") == "usb-uart"
    deploy = f"hushmic deploy --port {port}"
    if kind == "nothing":
        msg = f"no answer: the port gave nothing in {seconds:g} s"
        if bridge:
            fix = ("this is the UART bridge port: use the native USB port (connector labelled USB, /dev/ttyACM0; "
                   "docs/ports.md)")
        else:
            fix = ("wrong port? Use the native USB port (connector labelled USB; `hushmic devices`, docs/ports.md), not "
                   "the UART bridge. If it is the native port the app is not running (a board left at its raw REPL, "
                   "e.g. by an interrupted mpremote, is silent too): press RESET and run doctor again after 3 s; still "
                   f"nothing: deploy the app (`{deploy}`)")
        return Result("hello", FAIL, msg, value={"answer": "nothing", "bytes": 0}, fix=fix)
    if kind == "repl":
        line = _repl_excerpt(raw)
        low = bytes(raw).lower()
        if b"maintenance mode" in low:
            why, fix = "it is in maintenance mode (after a deploy or leave-to-REPL)", \
                "press RESET (EN): maintenance mode lasts one boot, then the app starts"
        elif b"safe mode" in low or b"boot held" in low:
            why, fix = "it started in safe mode (BOOT held at reset)", "release BOOT and press RESET"
        elif b"failed to load" in low:
            why, fix = "the app failed to load", f"redeploy: `{deploy}`"
        elif b"traceback" in low:
            why, fix = "the app stopped with an error", f"redeploy (`{deploy}`); if it happens again, report the traceback"
        else:
            why, fix = ("the app is not running: the board sits at the MicroPython REPL (maintenance mode after a "
                        "deploy, safe mode, or the app exited)"), \
                f"press RESET (EN) to start the app; if the REPL comes back after the reset, deploy it: `{deploy}`"
        return Result("hello", FAIL, f"no hello: the port answers with REPL text, {why}: {line!r}",
                      value={"answer": "repl", "bytes": nbytes, "text": line}, fix=fix)
    if kind == "frames":
        return Result("hello", FAIL, "hushmic frames arrive but no hello: the board runs another hushmic version",
                      value={"answer": "frames", "bytes": nbytes}, fix=f"redeploy: `{deploy}`")
    fix = ("bytes that are neither hushmic frames nor text: another program or firmware on this port, or a UART at "
           "another baud rate. Use the native USB port (docs/ports.md); if the board runs other firmware, flash "
           f"MicroPython and the app: `hushmic flash --port {port}`")
    if bridge:
        fix = "this is the UART bridge port: use the native USB port (connector labelled USB, docs/ports.md)"
    return Result("hello", FAIL, f"no hello: the port gives garbage ({nbytes} bytes in {seconds:g} s)",
                  value={"answer": "garbage", "bytes": nbytes, "head": bytes(raw[:32]).hex()}, fix=fix)


def check_hello(conn, port_result, timeout=HELLO_TIMEOUT_S):
    """Handshake; on failure, say what the port gave instead. Returns (Result, hello fields or None)."""
    port = conn.port
    tap = conn.ser
    try:
        hello = conn.handshake(timeout=timeout)
    except protocol.IncompatibleBoard as e:
        return Result("hello", FAIL, f"the board speaks another protocol: {e}", value={"answer": "incompatible"},
                      fix=f"redeploy the firmware this hushmic ships: `hushmic deploy --port {port}` (or upgrade "
                          f"hushmic)"), None
    except Disconnected as e:
        return Result("hello", FAIL, f"the port went away during the handshake ({e})", value={"answer": "gone"},
                      fix="check the cable; a board that resets in a loop shows a traceback on its UART console"), None
    except HushmicError:
        kind = classify_silence(tap.head, conn.decoder.stats)
        return _no_hello(port, kind, tap.head, tap.nbytes, timeout, port_result), None
    micropython = hello.get("micropython")
    value = {k: hello.get(k) for k in ("firmware", "protocol", "micropython", "mpy", "platform", "profile", "mic",
                                       "codec", "vad_kernel", "viper", "muted", "mic_power_cut", "tx_limit_bps")}
    value["mpy_text"] = mpy_text(hello.get("platform"), hello.get("mpy"))
    msg = (f"firmware {hello.get('firmware')}, protocol {hello.get('protocol')}, MicroPython "
           f"{micropython or '(version not reported)'}, {value['mpy_text']}, platform {hello.get('platform')}, "
           f"profile {hello.get('profile')}, mic {hello.get('mic')}")
    shipped = firmware_version_shipped()
    if shipped and hello.get("firmware") != shipped:
        return Result("hello", WARN, msg + f"; this hushmic ships firmware {shipped}", value=value,
                      fix=f"deploy the firmware this hushmic ships: `hushmic deploy --port {port}`"), hello
    return Result("hello", OK, msg, value=value), hello


def check_vad_kernel(hello, status, port, simulated=False):
    kind = (status or {}).get("vad_kernel") or hello.get("vad_kernel")
    if kind == "viper":
        return Result("vad_kernel", OK, "viper (native code)", value=kind)
    if kind is None:
        return Result("vad_kernel", FAIL, "the board does not say which VAD kernel runs: old firmware",
                      value=None, fix=f"hushmic deploy --port {port}")
    if simulated and not hello.get("viper", True):
        fix = ("this machine's MicroPython VM has no viper emitter (the arm64 unix port): the simulated board can only "
               "run the plain kernel; use an x86_64 machine or a real board")
    else:
        fix = (f"hushmic deploy --port {port} (the kernel is vad_kernel.mpy, native code for the board's architecture; "
               f"a missing or foreign-architecture build falls back to plain Python)")
    return Result("vad_kernel", FAIL, f"{kind}: about 10 ms per 10 ms frame on the chip, too slow for real time",
                  value=kind, fix=fix)


def check_fault(status, port, hello_fault=None, status_problem=None):
    """The board's fault: status.fault, or the error frame it sends after hello (when status cannot be read)."""
    fault = hello_fault or (status or {}).get("fault")  # the text after hello; status carries only the fault's name
    note = ""
    if status is None:
        note = f"; the board's status request got {status_problem or 'no reply'}"
    if fault:
        fix = "see the fault text" if "deploy" in fault else f"hushmic deploy --port {port}"
        return Result("fault", FAIL, f"the board reports a fault: {fault}{note}", value=fault, fix=fix)
    if status is None:
        return Result("fault", FAIL, "unknown" + note, value=None,
                      fix=f"reset the board; if it persists, redeploy: `hushmic deploy --port {port}`")
    return Result("fault", OK, "none", value=None)


def check_ping(sess, n=PINGS, timeout=2.0):
    rtts = []
    lost = 0
    for i in range(n):
        payload = b"doctor" + bytes([i, 0x5A])
        pred = lambda m, p=payload: m.kind == "ack" and m.fields["about"] == wire.CMD_PING and m.fields["data"] == p
        mark = sess.mark()
        t0 = sess.send("ping", payload)
        got = sess.wait_for(pred, timeout, mark)
        if got is None:
            lost += 1
            if sess.gone:
                break
            continue
        rtts.append((got[1] - t0) * 1000.0)
    if not rtts:
        return Result("ping", FAIL, f"no answer to {n} pings" + (f" ({sess.gone})" if sess.gone else ""),
                      value={"sent": n, "answered": 0},
                      fix="the board answered hello but not ping: reset it; if it persists, redeploy (`hushmic deploy`)")
    med = statistics.median(rtts)
    value = {"sent": n, "answered": len(rtts), "median_ms": round(med, 2), "max_ms": round(max(rtts), 2)}
    msg = f"median {med:.1f} ms, max {max(rtts):.1f} ms over {len(rtts)} pings"
    if lost:
        return Result("ping", FAIL, msg + f"; {lost} of {n} got no answer", value=value,
                      fix="commands are lost on the way to the board: a bad cable or hub, or the board is stalling")
    if med > PING_WARN_MS:
        return Result("ping", WARN, msg + f" (over {PING_WARN_MS:g} ms)", value=value,
                      fix="the board's loop is stalling: check the vad_kernel and stream checks (slow writes)")
    return Result("ping", OK, msg, value=value)


@dataclass
class StreamData:
    ok: bool = False
    refused: str = None  # why the stream could not start
    seconds: float = 0.0
    board_seconds: float = 0.0
    bytes: int = 0
    frames: int = 0
    audio: list = field(default_factory=list)  # int16 arrays
    audio_ts: list = field(default_factory=list)  # the board's clock (ms) of each audio frame
    heartbeats: list = field(default_factory=list)
    seq_gaps: int = 0
    decode: dict = field(default_factory=dict)
    malformed: int = 0
    status_before: dict = None
    status_after: dict = None


def _ms_diff(a, b):
    return ((a - b + (1 << 29)) & wire.TS_MASK) - (1 << 29)


def run_stream(sess, bench, seconds, status_before, on_listening=None):
    """START, then measure `seconds` from the speech prompt on (by the board's clock or the wall clock, whichever
    ends first: a fast simulated board runs ahead of the wall), and collect what arrived. The stream stays on (the
    mute check follows); the caller stops it."""
    conn = sess.conn
    d = StreamData(status_before=status_before)
    got = sess.request("start", _about(wire.CMD_START), timeout=3.0)
    if got is None:
        d.refused = _gone(sess, "the stream") or "the board did not acknowledge the start command"
        return d
    if got[2].kind == "error":
        d.refused = got[2].fields.get("message") or "refused"
        return d
    ts0 = got[2].ts
    if on_listening:
        on_listening()  # a person may take a while to answer: the window starts after the prompt below
    bench.prompt_speech(seconds)
    t_start = time.monotonic()
    dec0 = conn.decoder.stats.as_dict()
    lost0 = conn.seq_lost
    bytes0 = conn.ser.nbytes
    i0 = sess.mark()
    mark = sess.request("ping", lambda m: m.kind == "ack" and m.fields["about"] == wire.CMD_PING
                        and m.fields["data"] == b"window", payload=b"window", timeout=2.0)
    if mark is not None:
        ts0 = mark[2].ts  # the board's clock now
    deadline = t_start + seconds
    while time.monotonic() < deadline and not sess.gone:
        got = sess.wait_for(lambda m: m.kind == "heartbeat" and _ms_diff(m.ts, ts0) >= seconds * 1000,
                            deadline - time.monotonic(), i0)
        if got is not None:
            break
    t_end = time.monotonic()
    i1 = sess.mark()
    d.seconds = t_end - t_start
    d.bytes = conn.ser.nbytes - bytes0
    msgs = [m for _, m in sess.since(i0, i1)]
    d.frames = len(msgs)
    d.audio = [m.fields["samples"] for m in msgs if m.kind == "audio"]
    d.audio_ts = [_ms_diff(m.ts, ts0) for m in msgs if m.kind == "audio"]
    d.heartbeats = [m.fields for m in msgs if m.kind == "heartbeat"]
    d.malformed = sum(1 for m in msgs if m.kind in ("malformed", "unknown"))
    if msgs:
        d.board_seconds = max(0.0, _ms_diff(msgs[-1].ts, ts0) / 1000.0)
    d.seq_gaps = conn.seq_lost - lost0
    dec1 = conn.decoder.stats.as_dict()
    d.decode = {k: dec1[k] - dec0[k] for k in ("crc_errors", "bad_frames", "oversized", "version_errors",
                                                "garbage_bytes")}
    d.status_after = sess.status()
    d.ok = True
    return d


def peak_count(times_ms, window_ms=1000):
    """Most events in any `window_ms` of the board's clock (times sorted or not)."""
    t = sorted(times_ms)
    best = j = 0
    for i, x in enumerate(t):
        while t[j] <= x - window_ms:
            j += 1
        best = max(best, i - j + 1)
    return best


def audio_frame_bytes(codec):
    """Bytes on the wire of one 10 ms audio frame in this codec (framing included), from protocol.encode_frame."""
    if codec == "pcm16":
        n = 2 * wire.FRAME_SAMPLES
    else:
        n = protocol.adpcm_ref.STATE_LEN + wire.FRAME_SAMPLES // 2
    return len(protocol.encode_frame(wire.MSG_AUDIO, b"\x01" * (wire.AUDIO_HDR + n)))


def check_stream(d, port, interactive):
    if not d.ok:
        return Result("stream", FAIL, f"the stream did not start: {d.refused}", value=None,
                      fix=("turn the mute switch OFF" if "mute" in (d.refused or "") else
                           f"reset the board; if it persists, redeploy: `hushmic deploy --port {port}`"))
    known = d.status_before is not None and d.status_after is not None
    st0, st1 = d.status_before or {}, d.status_after or {}
    board = {k: (st1.get(k, 0) or 0) - (st0.get(k, 0) or 0) for k in ("drops", "overruns", "tx_dropped",
                                                                     "slow_writes", "rx_errors")}
    codec = (st1.get("config") or st0.get("config") or {}).get("codec", "adpcm")
    limit = st1.get("tx_limit_bps", st0.get("tx_limit_bps"))
    qmax = st1.get("tx_queued_max", st0.get("tx_queued_max"))
    # rates per second of the board's clock: the same as the wall clock on a real board; a fast simulated board runs
    # ahead of the wall, and its output pacing (tx_limit_bps) is in its own time
    secs = d.board_seconds if d.board_seconds > 0.5 else max(d.seconds, 1e-3)
    frame_bytes = audio_frame_bytes(codec)
    audio_peak = peak_count(d.audio_ts) * frame_bytes  # audio bytes in the busiest second
    value = {
        "seconds": round(d.seconds, 2), "board_seconds": round(d.board_seconds, 2),
        "bytes_per_s": round(d.bytes / secs, 1), "frames_per_s": round(d.frames / secs, 1),
        "audio_frames": len(d.audio), "audio_frames_per_s": round(len(d.audio) / secs, 1),
        "audio_bytes_per_s_peak": audio_peak, "audio_frame_bytes": frame_bytes, "heartbeats": len(d.heartbeats),
        "seq_gaps": d.seq_gaps, "crc_errors": d.decode.get("crc_errors", 0),
        "decode_errors": d.decode.get("bad_frames", 0) + d.decode.get("oversized", 0)
        + d.decode.get("version_errors", 0) + d.malformed,
        "codec": codec, "tx_limit_bps": limit, "tx_queued_max": qmax, **board,
    }
    msg = (f"{value['bytes_per_s']:.0f} B/s, {value['frames_per_s']:.0f} frames/s, {len(d.audio)} audio frames "
           f"(busiest second {audio_peak} B/s of audio) in {secs:.1f} s, {d.seq_gaps} sequence gaps, "
           f"{value['crc_errors']} CRC / {value['decode_errors']} decode errors; ")
    if known:
        msg += (f"board: drops {board['drops']}, overruns {board['overruns']}, tx_dropped {board['tx_dropped']}, "
                f"slow_writes {board['slow_writes']}")
    else:
        msg += "board counters unknown (its status could not be read)"
        value.update({k: None for k in board})
    if limit:
        msg += f"; paced to {limit} B/s"
    elif limit == 0:
        msg += "; output unpaced"
    if qmax is not None:
        msg += f", queue max {qmax} B"
    if d.seq_gaps or value["crc_errors"] or value["decode_errors"]:
        return Result("stream", FAIL, msg, value=value,
                      fix="frames were lost or damaged on the line: try another cable and a port on the computer "
                          "itself (no hub), and make sure nothing else reads the port")
    if not d.heartbeats:
        return Result("stream", FAIL, msg + "; no heartbeat arrived", value=value,
                      fix=f"the board's loop stopped: reset it; if it persists, redeploy (`hushmic deploy --port {port}`)")
    if board["drops"] or board["overruns"] or board["tx_dropped"] or board["slow_writes"]:
        why = []
        if board["overruns"]:
            why.append("overruns: the loop fell behind the mic (check vad_kernel)")
        if board["tx_dropped"] or board["slow_writes"]:
            why.append("the board could not write fast enough: use the ADPCM codec (the default) and a host that "
                       "keeps reading; on ESP32_GENERIC_S3 the UART0 mirror caps output (docs/bring-up.md)")
        if board["drops"] and not why:
            why.append("frames dropped on the board")
        return Result("stream", WARN, msg, value=value, fix="; ".join(why))
    need = 100 * frame_bytes  # what continuous speech takes in this codec (a pre-roll drains faster, up to the cap)
    if limit and d.audio and need > TX_LIMIT_WARN * limit:
        return Result("stream", WARN, msg + f"; speech needs {100 * need / limit:.0f}% of the {limit} B/s the "
                      f"board may send: its queue will fill and drop audio", value=value,
                      fix="use the ADPCM codec (`hushmic listen` sets it; PCM16 cannot fit). The cap is "
                          "ESP32_GENERIC_S3's UART0 mirror of stdout; a MicroPython build without the UART REPL "
                          "lifts it (docs/bring-up.md)")
    if limit and d.audio:
        msg += f"; speech uses {100 * need / limit:.0f}% of the {limit} B/s cap (the UART0 mirror; expected)"
    if not known:
        return Result("stream", WARN, msg, value=value,
                      fix="the board's status reply could not be read (see the fault check): fix that first")
    if not d.audio:
        return Result("stream", WARN, msg + "; no speech, so only heartbeats were measured", value=value,
                      fix=("speak during the stream (it sends speech only)" if interactive else
                           "run doctor without --yes and count aloud when asked, to measure the link under audio"))
    return Result("stream", OK, msg, value=value)


def check_heap(heartbeats, status=None):
    """Free heap: status's mem_free (taken after a collection) when the firmware gives it, else the highest
    heartbeat reading (heartbeats count garbage not yet collected as used)."""
    heaps = [h["free_heap"] for h in heartbeats if "free_heap" in h]
    collected = (status or {}).get("mem_free")
    if not heaps and collected is None:
        return Result("heap", FAIL, "no heartbeat arrived, so the free heap is unknown", value=None,
                      fix="the board's loop is not running: reset it, then run doctor again")
    best = collected if collected is not None else max(heaps)
    low = min(heaps) if heaps else best
    value = {"free_heap": best, "min_free_heap": low, "heartbeats": len(heaps), "warn_below": HEAP_WARN_BYTES,
             "after_collection": collected is not None}
    msg = (f"{best / 1024:.0f} KB free after a collection" if collected is not None else f"{best / 1024:.0f} KB free") \
        + f" (lowest heartbeat reading {low / 1024:.0f} KB, {len(heaps)} heartbeats)"
    if best < HEAP_WARN_BYTES:
        return Result("heap", WARN, msg + f", under {HEAP_WARN_BYTES // 1024} KB", value=value,
                      fix="deploy the app as .mpy (`hushmic deploy` does; sources compile into the heap) and keep "
                          "preroll_ms modest; a board with PSRAM has more heap")
    return Result("heap", OK, msg, value=value)


def check_mic(d, interactive):
    if not d.ok:
        return Result("mic", FAIL, "not checked: the stream did not start", value=None,
                      fix="turn the mute switch OFF" if "mute" in (d.refused or "") else "see the stream check")
    floors = [h["noise_floor"] / 10.0 for h in d.heartbeats if h.get("state") in ("listening", "speech")]
    floor = float(np.median(floors)) if floors else None
    dead_floor = bool(floors) and max(floors) <= DEAD_FLOOR_DBFS
    wiring_fix = ("the mic delivers zeros or a stuck line: check its power (3V3, GND), SD to the profile's sd pin, "
                  "SCK/WS pins, and L/R tied to GND (INMP441); see docs/wiring.md and the profile "
                  "(`hushmic deploy --profile ...`)")
    value = {"audio_frames": len(d.audio), "noise_floor_dbfs": None if floor is None else round(floor, 1)}
    if not d.audio:
        if dead_floor:
            return Result("mic", FAIL, f"no audio, and the VAD's noise floor is {floor:.1f} dBFS: digital silence",
                          value=value, fix=wiring_fix)
        fl = f"; the noise floor is {floor:.1f} dBFS, so the mic delivers a live signal" if floor is not None else ""
        return Result("mic", WARN, "no speech reached the host during the stream" + fl, value=value,
                      fix=("speak louder or closer, and check the mute switch is off; if the board never hears you, "
                           "run `hushmic calibrate`" if interactive else
                           "run doctor without --yes and count aloud when asked, to check the mic with speech"))
    x = np.concatenate(d.audio).astype(np.int32)
    a = np.abs(x)
    peak = float(np.percentile(a, 99.9))
    clipped = float(np.mean(a >= CLIP_LEVEL))
    value.update(peak_dbfs=dbfs(peak), max_dbfs=dbfs(a.max()), clipped_fraction=round(clipped, 5),
                 distinct_values=int(min(len(np.unique(x)), 1000)))
    if not a.any():
        return Result("mic", FAIL, f"all {len(d.audio)} audio frames are zero", value=value, fix=wiring_fix)
    if len(np.unique(x)) <= 2:
        return Result("mic", FAIL, f"the audio is constant (values {sorted(set(np.unique(x).tolist()))[:2]})",
                      value=value, fix=wiring_fix)
    msg = f"speech peak {value['peak_dbfs']} dBFS (max {value['max_dbfs']}), {len(d.audio)} frames"
    if floor is not None:
        msg += f", noise floor {floor:.1f} dBFS"
    if clipped > 0.001:
        return Result("mic", WARN, msg + f"; {100 * clipped:.2f}% of samples clip", value=value,
                      fix="the gain is too high: run `hushmic calibrate` and put its shift in the profile")
    if value["peak_dbfs"] < MIC_QUIET_DBFS:
        return Result("mic", WARN, msg + f"; very low (under {MIC_QUIET_DBFS:g} dBFS)", value=value,
                      fix="run `hushmic calibrate` and put its shift in the profile (an INMP441 read naively sits near "
                          "-60 dBFS)")
    return Result("mic", OK, msg, value=value)


@dataclass
class LedCheck:
    moments: list = field(default_factory=list)  # (moment, expected names, answer, seen)


def _led_moment(led, bench, moment, states, fault):
    rgbs = expected_led(states, fault)
    names = " or ".join(colour_name(c) for c in rgbs)
    if not bench.can_act:
        return
    answer, seen = bench.led_is(rgbs)
    led.moments.append({"moment": moment, "expected": names, "ok": answer, "seen": seen})


def check_led(led, bench, status, fault):
    if not bench.can_act:
        state = (status or {}).get("state", "unknown")
        col = colour_name(expected_led([state], fault)[0]) if state in wire.STATE_NAMES else "?"
        return Result("led", SKIP, f"not checked (needs a person): the board says it is {state}, so its LED "
                                   f"should be {col}", value={"board_state": state, "should_be": col})
    if not led.moments:
        return Result("led", SKIP, "not checked", value={"moments": []})
    bad = [m for m in led.moments if m["ok"] is False]
    unknown = [m for m in led.moments if m["ok"] is None]
    parts = ", ".join(f"{m['moment']} {m['expected']}: " + ("yes" if m["ok"] else "no" if m["ok"] is False else "?")
                      + (f" (saw {m['seen']})" if bench.simulated and m["ok"] is False else "")
                      for m in led.moments)
    value = {"moments": led.moments}
    if bad:
        return Result("led", FAIL, parts, value=value,
                      fix="check the LED's pin for your DevKitC-1 revision (docs/wiring.md, 'LED pin per DevKitC-1 "
                          "revision': GPIO48 on v1.0, GPIO38 on v1.1) and the profile's led_pin/led_type, then "
                          "`hushmic deploy --profile ...`")
    if unknown:
        return Result("led", WARN, parts, value=value, fix="answer the LED questions (y/n) to check it")
    return Result("led", OK, parts, value=value)


def check_mute(sess, bench, hello, led, fault, timeout, quiet_s, probe_s=3.0):
    """Mute switch ON while the stream runs: the mute event comes, no audio after it, the probe's mic_silent; then
    OFF and the unmute event. Returns the Result."""
    if not bench.can_act:
        return Result("mute", SKIP, "not checked (needs a person to flip the switch)", value=None)
    i0 = sess.mark()
    t_flip = time.monotonic()
    bench.set_switch(True)
    got = sess.wait_for(lambda m: m.kind == "mute" and m.fields["muted"], timeout, i0)
    if got is None:
        gone = _gone(sess, "the mute check")
        bench.set_switch(False)
        return Result("mute", FAIL, gone or f"no mute event within {timeout:g} s of the switch going ON", value=None,
                      fix=gone and "check the cable" or
                      "the board does not see the switch: check its wiring to the profile's mute_pin and the "
                      "profile's mute_active polarity (docs/wiring.md)")
    k, t_mute, first = got
    latency_ms = (t_mute - t_flip) * 1000.0
    # the probe's answer follows the first mute event
    got2 = sess.wait_for(lambda m: m.kind == "mute" and m.fields["muted"], probe_s, k + 1)
    probe = got2[2].fields if got2 else first.fields
    rest = time.monotonic() + quiet_s
    while time.monotonic() < rest:
        time.sleep(0.05)
    _led_moment(led, bench, "muted", ["muted"], fault)
    after = [m for _, m in sess.since(k + 1) if m.kind == "audio"]
    st = sess.status()
    i1 = sess.mark()
    bench.set_switch(False)
    un = sess.wait_for(lambda m: m.kind == "mute" and not m.fields["muted"], timeout, i1)
    silent = probe.get("mic_silent")
    value = {"mute_event": True, "audio_frames_after_mute": len(after), "mic_silent": silent,
             "probe_peak": probe.get("probe_peak"), "status_muted": (st or {}).get("muted"),
             "unmuted": un is not None, "profile_mic_power_cut": hello.get("mic_power_cut")}
    if bench.simulated:
        value["latency_ms"] = round(latency_ms, 1)
    if after:
        return Result("mute", FAIL, f"{len(after)} audio frame(s) arrived after the mute event", value=value,
                      fix="the firmware leaks audio while muted: redeploy (`hushmic deploy`) and report this")
    if st is not None and st.get("muted") is not True:
        return Result("mute", FAIL, "the board's status does not say muted while the switch is on", value=value,
                      fix="redeploy (`hushmic deploy`) and report this")
    if un is None:
        return Result("mute", FAIL, f"no unmute event within {timeout:g} s of the switch going OFF", value=value,
                      fix="turn the mute switch OFF; if the board stays muted, check the switch wiring and the "
                          "profile's mute_active (docs/wiring.md)")
    msg = f"mute event{f' in {latency_ms:.0f} ms' if bench.simulated else ''}, no audio after it, "
    if silent is True:
        msg += "the probe reads the mic silent (its power is cut)"
        status, fix = OK, None
        if hello.get("mic_power_cut") is False:
            fix = "the profile says mic_power_cut false: set it true for this wiring and `hushmic deploy --profile ...`"
            status = WARN
            msg += "; the profile says the power is not cut"
    elif silent is False:
        msg += "but the mic still answers while muted: this mute is software-only"
        status = WARN
        fix = ("wire the switch so that it also cuts the mic's power (docs/wiring.md, 'The mute switch cuts the "
               "microphone's power')")
        if hello.get("mic_power_cut"):
            fix = ("the profile says the switch cuts the mic's power, but the mic still answers: check that wiring "
                   "(docs/wiring.md)")
    else:
        msg += "the probe could not tell whether the mic's power is cut (mic_silent unknown)"
        status = WARN
        fix = "see docs/wiring.md: check the power-cut wiring with the switch both ways"
    msg += "; unmuted again"
    return Result("mute", status, msg, value=value, fix=fix)


def sim_board(wav, workdir, **kw):
    """The simulated board doctor checks: fast (it runs ahead of real time; the stream is timed by its clock), the
    switch under doctor's control, and the wiring docs/wiring.md recommends: the switch cuts the mic's power, and
    its profile says so (the bundled 'simulated' profile does not). Not started; use it as a context manager."""
    import json

    from .paths import BOARDS_DIR
    from .sim.launcher import SimBoard

    prof = json.loads((BOARDS_DIR / "simulated.json").read_text())
    prof["mic_power_cut"] = True
    path = workdir / "simulated.json"
    path.write_text(json.dumps(prof))
    opts = dict(fast=True, pace=10, control=True, power_cut=True, name="doctor", profile=str(path),
                workdir=workdir / "sim")
    opts.update(kw)
    return SimBoard(wav, **opts)


# ---- the whole run --------------------------------------------------------------------------------------------
def run_doctor(port, bench=None, seconds=5.0, on_result=None, progress=None, hello_timeout=HELLO_TIMEOUT_S,
               person_timeout=PERSON_TIMEOUT_S, report=None):
    """Run every check against the board at `port`. `on_result(Result)` is called as each check ends, `progress(str)`
    with what is going on. Returns a Report. The stream is stopped (and a simulated switch turned off) at the end,
    also on Ctrl-C (KeyboardInterrupt propagates after that, with `report` holding what was done)."""
    bench = bench or Bench()
    rep = report if report is not None else Report(port, bench.simulated)
    say = progress or (lambda m: None)
    sim = bench.simulated

    def add(r):
        rep.results.append(r)
        if on_result:
            on_result(r)
        return r

    say(f"opening {port}")
    r, ser = check_port(port, simulated=sim)
    add(r)
    if ser is None:
        return rep
    conn = BoardConnection(port, name="doctor")
    conn.ser = _Tap(ser)
    sess = None
    started = False
    switched = False
    try:
        say("asking the board for hello")
        r, hello = check_hello(conn, r, timeout=hello_timeout)
        add(r)
        if hello is None:
            return rep
        sess = Session(conn)
        sess.start()
        # hello again: a board with a fault answers it with an error frame (the handshake may have read past it)
        i = sess.mark()
        sess.send("hello")
        st0 = sess.status()  # its reply comes after that error frame
        hello_fault = next((m.fields["message"][len("fault:"):].strip() for _, m in sess.since(i)
                            if m.kind == "error" and m.fields.get("about") == wire.CMD_HELLO
                            and m.fields.get("message", "").startswith("fault:")), None)
        add(check_vad_kernel(hello, st0, port, simulated=sim))
        add(check_fault(st0, port, hello_fault, sess.status_problem))
        fault = bool((st0 or {}).get("fault") or hello_fault)
        say(f"pinging the board {PINGS} times")
        add(check_ping(sess))
        led = LedCheck()
        if st0 and st0.get("muted") and bench.can_act:
            say("the mute switch is ON: it must be off for the stream")
            i = sess.mark()
            bench.set_switch(False)
            sess.wait_for(lambda m: m.kind == "mute" and not m.fields["muted"], person_timeout if not sim else 5, i)
            st0 = sess.status() or st0
        if st0 and st0.get("state") in wire.STATE_NAMES and not st0.get("streaming"):
            _led_moment(led, bench, st0["state"], [st0["state"]], fault)
        say(f"streaming for {seconds:g} s" + ("" if sim or bench.can_act else " (nobody is asked to speak: --yes)"))
        started = True
        d = run_stream(sess, bench, seconds, st0,
                       on_listening=lambda: _led_moment(led, bench, "listening", ["listening", "speech"], fault))
        add(check_stream(d, port, bench.can_act))
        add(check_mic(d, bench.can_act))
        if not bench.can_act:
            add(Result("mute", SKIP, "not checked (needs a person to flip the switch)"))
        elif not d.ok:
            add(Result("mute", FAIL, "not checked: the stream did not start", fix="see the stream check"))
        else:
            say("checking the mute switch")
            switched = True
            add(check_mute(sess, bench, hello, led, fault, timeout=min(5.0, person_timeout) if sim else person_timeout,
                           quiet_s=0.5 if sim else 1.5))
            switched = False
        # every heartbeat of the session: the more readings, the nearer the highest is to the heap after a collection
        add(check_heap([m.fields for _, m in sess.since(0) if m.kind == "heartbeat"], sess.status()))
        add(check_led(led, bench, sess.status() if not bench.can_act else None, fault))
        return rep
    except KeyboardInterrupt:
        rep.interrupted = True
        raise
    finally:
        _leave_as_found(conn, sess, bench, started, switched)


def _leave_as_found(conn, sess, bench, started, switched):
    """Stop the stream (also after Ctrl-C), put a simulated switch back, close the port."""
    try:
        if switched and bench.simulated:
            bench.set_switch(False)
        if started:
            try:
                if sess is not None and not sess.gone:
                    sess.request("stop", _about(wire.CMD_STOP), timeout=1.0)
                else:
                    conn.send("stop")
            except Disconnected:
                pass
        if switched and not bench.simulated:
            bench.say(">>> If the mute switch is still ON, turn it OFF.")
    finally:
        if sess is not None:
            sess.close()
        conn.close()


def format_result(r, width=10):
    """One line per check (two when there is a fix), for stderr."""
    line = f"  {r.status:<5} {r.name:<{width}} {r.message}"
    if r.fix and r.status != OK:
        line += f"\n  {'':<5} {'':<{width}} fix: {r.fix}"
    return line

