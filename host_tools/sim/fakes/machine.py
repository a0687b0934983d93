# Fake `machine` for the simulated board (see README.md). Pin subclasses the VM's PinBase (Signal needs it).
import sys

_saved = sys.path[:]
del sys.path[:]
import umachine as _m  # the VM's built-in machine module

sys.path.extend(_saved)

import time  # the fake virtual clock

import micropython

import _simcfg
import _stdout

PinBase = _m.PinBase
Signal = _m.Signal
mem8 = _m.mem8
mem16 = _m.mem16
mem32 = _m.mem32

RESET_EXIT_CODE = 75

_MUTE_PIN = _simcfg.get("mute_pin", 7)
_MUTE_ACTIVE = 0 if _simcfg.get("mute_active", "low") == "low" else 1
_BOOT_PIN = _simcfg.get("boot_pin", 0)
_BOOT_HELD = _simcfg.get("boot_held", False)
_SCHEDULE = [(int(a * 1000000), int(b * 1000000)) for a, b in _simcfg.get("mute", [])]
_CONTROL = _simcfg.get("control_file")
_POWER_CUT = _simcfg.get("power_cut", False)
_events = _simcfg.get("events_file")

_SD_PIN = _simcfg.get("sd", 6)
_STARTUP_OUT = _simcfg.get("mic_startup_output", "square")  # what the mic outputs before its data is valid
_pulls = {}  # GPIO -> the pull the firmware last set on it
_float_state = [0x2545F491]  # an unpowered mic's SD line floats: it reads noise unless pulled down

_control_muted = False
_control_last_us = -1000000
_irq_pins = []


def _log(msg):
    if _events:
        with open(_events, "a") as f:
            _stdout.own(f.write("%d %s\n" % (time.now_us() // 1000, msg)))


def switch_on():
    """Is the simulated mute switch on at the current virtual time?"""
    global _control_muted, _control_last_us
    t = time.now_us()
    if _CONTROL and t - _control_last_us >= 5000:
        _control_last_us = t
        try:
            with open(_CONTROL) as f:
                _control_muted = f.read(1) == "1"
        except OSError:
            _control_muted = False
    if _control_muted:
        return True
    for a, b in _SCHEDULE:
        if a <= t < b or (t < 0 and a <= 0 < b):
            return True
    return False


def _poll_pins():
    for p in _irq_pins:
        p._check()


time._hook = _poll_pins


class Pin(PinBase):
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 1
    IRQ_RISING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self._out = value if value is not None else 0
        self._handler = None
        self._trigger = 0
        self._last = self._read()
        if pull != -1:  # as esp32's machine_pin.c: Pin(id) or Pin(id, mode) leaves the pull as it was
            _pulls[id] = pull
        if id in (_simcfg.get("sck"), _simcfg.get("ws")):
            _log("pin %d mode %s" % (id, "in" if mode == Pin.IN else "out"))

    def _read(self):
        if self.id == _MUTE_PIN:
            on = switch_on()
            return _MUTE_ACTIVE if on else 1 - _MUTE_ACTIVE
        if self.id == _BOOT_PIN:
            return 0 if _BOOT_HELD else 1
        return self._out

    def value(self, v=None):
        if v is None:
            return self._read()
        self._out = 1 if v else 0

    def init(self, mode=-1, pull=-1, value=None):
        self.mode = mode

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self._out = 1

    def off(self):
        self._out = 0

    def irq(self, handler=None, trigger=3):
        self._handler = handler
        self._trigger = trigger
        if handler is not None and self not in _irq_pins:
            _irq_pins.append(self)
        return None

    def _check(self):
        v = self._read()
        if v == self._last:
            return
        prev = self._last
        self._last = v
        if self._handler is None:
            return
        if (prev == 1 and v == 0 and self._trigger & Pin.IRQ_FALLING) or (
            prev == 0 and v == 1 and self._trigger & Pin.IRQ_RISING
        ):
            # esp32 pin IRQs are soft: machine_pin.c schedules the handler (mp_sched_schedule), which then runs
            # at the caller's next branch or loop edge, between any two of its bytecodes. A full queue loses it.
            try:
                micropython.schedule(self._handler, self)
            except RuntimeError:
                pass


_DMA_BUF_FRAMES = 256
_MIC_STARTUP_MS = _simcfg.get("mic_startup_ms", 256)
_DMA_SLACK_MS = _simcfg.get("dma_slack_ms", 0)


class I2S:
    RX = 0
    TX = 1
    MONO = 0
    STEREO = 1

    _wav = None  # shared file handle: (file, data_offset, n_samples)

    def __init__(self, id, sck=None, ws=None, sd=None, mode=0, bits=32, format=0, rate=16000, ibuf=8192):
        if bits != 32 or rate != 16000 or format != I2S.MONO:
            raise ValueError("simulated I2S supports 16 kHz, 32-bit, mono only")
        I2S._open_wav()
        self._pcm = bytearray(320)
        self._pos = time.now_us() * 16 // 1000  # sample index on the WAV timeline
        self._t = self._pos * 1000 // 16  # virtual us at the end of what has been read
        # The DMA ring as ports/esp32/machine_i2s.c sizes it (v1.22..v1.26, get_dma_buf_count): RX always moves 32-bit
        # stereo frames (8 bytes) in buffers of DMA_BUF_LEN_IN_I2S_FRAMES = 256, ibuf // (256 * 8) of them, at least
        # 2. When the reader falls behind, ESP-IDF drops the OLDEST buffer: so does this ring.
        self.dma_samples = max(ibuf // (_DMA_BUF_FRAMES * 8), 2) * _DMA_BUF_FRAMES
        # At real-time pace the VM shares a loaded host: a scheduling pause there is not the firmware being slow, so
        # the ring could get an allowance (config dma_slack_ms, 0): the clock hides such pauses (time.py, stall_cap_ms).
        self._slack = _DMA_SLACK_MS * 16
        self.dropped = 0  # samples dropped by the ring since init
        # An INMP441 outputs garbage for 2^18 SCK cycles after its clock starts (256 ms at SCK = 64 x 16 kHz);
        # config mic_startup_ms (0 turns it off)
        self._garbage_until = self._pos + _MIC_STARTUP_MS * 16
        self._active = True
        _log("i2s on")

    @staticmethod
    def _open_wav():
        if I2S._wav is not None:
            return
        path = _simcfg.get("wav")
        f = open(path, "rb")
        hdr = f.read(12)
        if hdr[0:4] != b"RIFF" or hdr[8:12] != b"WAVE":
            raise ValueError("not a WAV file")
        off = 12
        data_off = -1
        n = 0
        while True:
            ch = f.read(8)
            if len(ch) < 8:
                break
            size = ch[4] | (ch[5] << 8) | (ch[6] << 16) | (ch[7] << 24)
            if ch[0:4] == b"data":
                data_off = off + 8
                n = size // 2
                break
            off += 8 + size + (size & 1)
            f.seek(off)
        if data_off < 0:
            raise ValueError("WAV has no data chunk")
        I2S._wav = (f, data_off, n)

    def readinto(self, buf):
        _poll_pins()
        nslots = len(buf) // 4
        if not self._active:
            # as on the chip: deinit deletes the channel, and i2s_channel_read on it fails (check_esp_err)
            raise OSError(22)
        lag = time.now_us() * 16 // 1000 - self._pos  # samples the mic has produced that nobody read yet
        if lag > self.dma_samples + self._slack:
            drop = (lag - self.dma_samples - self._slack + _DMA_BUF_FRAMES - 1) // _DMA_BUF_FRAMES * _DMA_BUF_FRAMES
            self._pos += drop
            self.dropped += drop
            self._t = self._pos * 1000 // 16
        # pace: the read waits until the audio has "arrived" (real time), or moves the clock there (fast)
        t_end = self._t + nslots * 1000 // 16
        if time._fast:
            d = t_end - time.now_us()
            if d > 0:
                time.advance_us(d)
        else:
            time.wait_until_us(t_end)
        self._t = t_end
        time.clock_tick()
        _poll_pins()
        f, data_off, n = I2S._wav
        pos = self._pos
        self._pos = pos + nslots
        pcm = self._pcm
        dead = _POWER_CUT and switch_on()
        if dead and _pulls.get(_SD_PIN) != Pin.PULL_DOWN:
            # nothing drives SD: a floating input picks up whatever couples into it (mains, the clock next to it)
            x = _float_state[0]
            for i in range(nslots):
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                j = 4 * i
                buf[j] = 0
                buf[j + 1] = x & 0xFF
                buf[j + 2] = (x >> 8) & 0xFF
                buf[j + 3] = (x >> 16) & 0xFF
            _float_state[0] = x
            return nslots * 4
        if pos + nslots <= n and not dead:
            f.seek(data_off + 2 * pos)
            f.readinto(pcm)
            for i in range(nslots):
                j = 4 * i
                buf[j] = 0
                buf[j + 1] = 0
                buf[j + 2] = pcm[2 * i]
                buf[j + 3] = pcm[2 * i + 1]
        else:
            for i in range(nslots):
                k = pos + i
                j = 4 * i
                buf[j] = 0
                buf[j + 1] = 0
                if k < n and not dead:
                    f.seek(data_off + 2 * k)
                    f.readinto(pcm)  # slow path near the end of the file: one sample at a time
                    buf[j + 2] = pcm[0]
                    buf[j + 3] = pcm[1]
                else:
                    buf[j + 2] = 0
                    buf[j + 3] = 0
        if pos < self._garbage_until and not dead:  # (an unpowered mic outputs nothing at all)
            for i in range(nslots):
                if pos + i < self._garbage_until:
                    j = 4 * i
                    buf[j + 1] = 0
                    buf[j + 2] = 0
                    if _STARTUP_OUT == "zeros":
                        buf[j + 3] = 0
                    else:
                        buf[j + 3] = 0x7F if (pos + i) & 8 else 0x80  # a full-scale square wave, nothing like audio
        return nslots * 4

    def deinit(self):
        if self._active:
            self._active = False
            _log("i2s off")


class WDT:
    """Like the chip's: a gap between feeds longer than the timeout resets the board (seen at the next feed, on
    the virtual clock)."""

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self._last = time.ticks_ms()
        _log("wdt start %d" % timeout)

    def feed(self):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._last) > self.timeout:
            _log("wdt timeout after %d ms" % time.ticks_diff(now, self._last))
            reset()
        self._last = now


def reset():
    _log("reset")
    raise SystemExit(RESET_EXIT_CODE)


def soft_reset():
    reset()


def unique_id():
    return b"SIMBRD"


def freq(*a):
    return 240000000


def idle():
    pass


def disable_irq():
    return 0


def enable_irq(state=0):
    pass
