"""Host link to one board: open the serial port safely, handshake, read frames in a thread, reconnect.

Shape borrowed from pyserial's `serial.threaded`: a reader thread does bytes -> frames -> messages and hands each
message to a queue; nothing here knows what a message means for the application. Real and simulated boards take
the same path: a simulated board is just a port path.
"""
import errno
import os
import queue
import sys
import threading
import time

import serial

from . import protocol
from .errors import BadInput, HushmicError
from .protocol import wire

BAUD = 115200  # ignored by USB CDC; used by USB-UART bridges
ESPRESSIF_VID = 0x303A  # the ESP32-S3's own (native) USB


def usb_vid(path):
    """USB vendor id of a serial port, or None (a pty, or not found). Follows symlinks such as /dev/serial/by-id."""
    try:
        from serial.tools import list_ports

        real = os.path.realpath(path)
        for p in list_ports.comports():
            if p.device in (path, real) or os.path.realpath(p.device) == real:
                return p.vid
    except Exception:
        pass
    return None


def open_port(path, timeout=0.05, busy_wait=0.5):
    """Open a serial port exclusively, without resetting the board.

    On a USB-UART bridge DTR/RTS drive the chip's EN and GPIO0 through the auto-reset transistors, so both stay off.
    On the S3's native USB (VID 0x303A) MicroPython only sends while DTR is set (TinyUSB treats DTR as "a host is
    listening"), so DTR is on and RTS off there, which resets nothing.
    """
    if not sys.platform.startswith("win") and not os.path.exists(path):  # Windows COMn names are not paths
        raise BadInput(f"{path}: no such serial port. `hushmic devices` lists boards; on Linux the DevKitC-1's "
                       f"native USB port is usually /dev/ttyACM0 (see docs/ports.md)")
    s = serial.Serial()
    s.port = path
    s.baudrate = BAUD
    s.timeout = timeout
    s.write_timeout = 2
    s.exclusive = True
    s.dtr = usb_vid(path) == ESPRESSIF_VID
    s.rts = False
    deadline = time.monotonic() + busy_wait
    while True:
        try:
            s.open()
            return s
        except serial.SerialException as e:
            err, msg = e, str(e)
        code = getattr(err, "errno", None)
        busy = "lock" in msg.lower() or code in (errno.EBUSY, errno.EAGAIN)
        if not busy or time.monotonic() >= deadline:
            break
        time.sleep(0.05)  # a program that has just closed the port may still hold its lock for a moment
    if code == errno.EACCES or "Permission denied" in msg:
        raise HushmicError(f"{path}: permission denied. On Linux add yourself to the 'dialout' group "
                           f"(sudo usermod -aG dialout $USER, then log in again) or install the udev rule "
                           f"from docs/ports.md")
    if busy:
        raise HushmicError(f"{path}: port is busy: another program has it open (hushmic listen, mpremote, a "
                           f"serial monitor?). Close it and try again")
    raise HushmicError(f"{path}: cannot open ({msg})")


class Disconnected(Exception):
    pass


class BoardConnection:
    """One board on one port. Thread-safe send(); read() yields protocol Messages and counts line statistics."""

    def __init__(self, port, name="board0"):
        self.port = port
        self.name = name
        self.ser = None
        self.decoder = protocol.FrameDecoder()
        self._tx_lock = threading.Lock()
        self._tx_seq = 0
        self._rx_seq = None
        self.seq_lost = 0  # frames missing on the line, from sequence gaps (any type)
        self.hello = None

    # ---- port --------------------------------------------------------------------------------------------------
    def open(self):
        self.ser = open_port(self.port)
        self._rx_seq = None
        self.decoder.reset()  # a half frame from before the disconnect is garbage; the statistics carry on

    def close(self):
        if self.ser is not None:
            try:
                self.ser.close()
            except Exception:
                pass
            self.ser = None

    # ---- send --------------------------------------------------------------------------------------------------
    def send(self, name, payload=b""):
        t, p = protocol.command(name, payload)
        with self._tx_lock:
            seq = self._tx_seq
            self._tx_seq = (seq + 1) & wire.SEQ_MASK
            data = protocol.encode_frame(t, p, seq)
            try:
                self.ser.write(data)
                self.ser.flush()
            except (serial.SerialException, OSError, AttributeError) as e:
                raise Disconnected(str(e)) from None
        return seq

    def send_raw(self, data):
        with self._tx_lock:
            try:
                self.ser.write(data)
            except (serial.SerialException, OSError, AttributeError) as e:
                raise Disconnected(str(e)) from None

    # ---- receive -----------------------------------------------------------------------------------------------
    def read(self):
        """Messages from what is available now (waits up to the port timeout). Raises Disconnected."""
        try:
            data = self.ser.read(max(1, self.ser.in_waiting))
        except (serial.SerialException, OSError, TypeError, AttributeError) as e:
            raise Disconnected(str(e)) from None
        if not data:
            return []
        out = []
        for f in self.decoder.feed(data):
            if self._rx_seq is not None:
                gap = wire.seq_delta(f.seq, self._rx_seq) - 1
                if 0 < gap < 0x8000:
                    self.seq_lost += gap
            self._rx_seq = f.seq
            out.append(protocol.parse(f))
        return out

    def handshake(self, timeout=5.0):
        """Ask for hello until it comes; refuse an incompatible protocol. Returns the hello fields."""
        deadline = time.monotonic() + timeout
        next_ask = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_ask:
                self.send("hello")
                next_ask = time.monotonic() + 0.5
            for m in self.read():
                if m.kind == "hello":
                    protocol.check_hello(m.fields)
                    self.hello = m.fields
                    return m.fields
                if m.kind == "error" and m.fields.get("code") == wire.ERR_VERSION:
                    raise protocol.IncompatibleBoard(m.fields["message"])
        raise HushmicError(f"{self.port}: no hello from the board within {timeout:.0f} s. Is the hushmic firmware "
                           f"deployed (`hushmic deploy`) and the app running? Is this the native USB port?")


class BoardReader(threading.Thread):
    """Keeps one board connected and streaming; puts (name, Message) on a queue.

    Synthetic messages: kind "connected" (fields: hello) and "disconnected" (fields: reason). Reconnects with
    backoff (0.2 s doubling to 2 s) when the port disappears, then handshakes and restarts the stream.
    """

    def __init__(self, conn, out_queue, stream=True, config=None, offset_fn=None):
        super().__init__(name=f"reader-{conn.name}", daemon=True)
        self.conn = conn
        self.q = out_queue
        self.stream = stream
        self.config = config
        self.offset_fn = offset_fn or (lambda: 0.0)
        self.stop_event = threading.Event()
        self.connected = threading.Event()
        self.error = None
        self.reconnects = 0

    def _post(self, kind, **fields):
        self.q.put((self.conn.name, protocol.Message(kind, 0, 0, fields)))

    def _bring_up(self):
        self.conn.open()
        hello = self.conn.handshake()
        if self.config:
            self.conn.send("config", self.config)
        if self.stream:
            self.conn.send("start")
        self.connected.set()
        self._post("connected", hello=hello, offset=self.offset_fn())

    def run(self):
        first = True
        backoff = 0.2
        while not self.stop_event.is_set():
            if not self.connected.is_set():
                try:
                    self._bring_up()
                    backoff = 0.2
                except (HushmicError, protocol.IncompatibleBoard, Disconnected) as e:
                    self.conn.close()
                    if first or isinstance(e, protocol.IncompatibleBoard):
                        self.error = e
                        self._post("fatal", message=str(e))
                        return
                    self.stop_event.wait(backoff)
                    backoff = min(2.0, backoff * 2)
                    continue
                first = False
            try:
                for m in self.conn.read():
                    self.q.put((self.conn.name, m))
            except Disconnected as e:
                self.connected.clear()
                self.conn.close()
                self.reconnects += 1
                self._post("disconnected", reason=str(e))

    def stop(self):
        self.stop_event.set()

    def request(self, name, payload=b""):
        """Send a command if connected; False if the board is away."""
        if not self.connected.is_set():
            return False
        try:
            self.conn.send(name, payload)
            return True
        except Disconnected:
            return False


def make_queue():
    return queue.Queue()
