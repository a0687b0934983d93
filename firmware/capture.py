# I2S capture: 32-bit slots at 16 kHz -> int16 frames of 10 ms, with DC removal, a gain shift from the board
# profile, and an overrun counter inferred from the clock (machine.I2S reports none).
import array

from micropython import const
import machine
import time

import kernels

RATE = const(16000)
FRAME = const(160)  # samples per 10 ms frame
FRAME_US = const(10000)
RAW_BYTES = const(640)  # 160 slots x 4 bytes
# The I2S DMA ring, as ports/esp32/machine_i2s.c (v1.22-v1.26, get_dma_buf_count) builds it from ibuf: RX always
# moves 32-bit STEREO frames (8 bytes, whatever format=) in buffers of 256 frames, ibuf // 2048 of them. When it is
# full, ESP-IDF drops the oldest buffer. 13 buffers = 3328 samples = 208 ms of slack (26 KB of internal DMA RAM).
_DMA_BUF_SAMPLES = const(256)
_DMA_BUFS = const(13)
IBUF = const(_DMA_BUFS * _DMA_BUF_SAMPLES * 8)
IBUF_US = const(_DMA_BUFS * _DMA_BUF_SAMPLES * 1000000 // RATE)  # what the ring really holds: 208000


class Capture:
    """Owns the I2S peripheral. read() fills a caller's int16 frame; stop() releases the clock pins."""

    def __init__(self, profile, ticks_us=time.ticks_us, ticks_diff=time.ticks_diff):
        self.p = profile
        self.shift = profile["shift"]
        self.raw = bytearray(RAW_BYTES)
        self.raw_mv = memoryview(self.raw)
        self.dc = array.array("i", [0])
        self.i2s = None
        self._ticks_us = ticks_us
        self._ticks_diff = ticks_diff
        self.last_us = 0
        self.slack_us = 0  # how far the reader lags the mic, in us; > IBUF_US means the DMA ring overflowed
        self.overruns = 0  # frames lost to overruns since boot

    @property
    def running(self):
        return self.i2s is not None

    def start(self):
        p = self.p
        self.i2s = machine.I2S(
            p["i2s_id"], sck=machine.Pin(p["sck"]), ws=machine.Pin(p["ws"]), sd=machine.Pin(p["sd"]),
            mode=machine.I2S.RX, bits=32, format=machine.I2S.MONO, rate=RATE, ibuf=IBUF,
        )
        self.dc[0] = 0
        self.slack_us = 0
        self.last_us = self._ticks_us()

    def stop(self):
        """Stop the clock and make SCK and WS inputs: a driven clock line can power a mic through its inputs."""
        i2s = self.i2s  # taken first: the mute IRQ (soft, between any two bytecodes) may call stop() too
        self.i2s = None
        if i2s is not None:
            i2s.deinit()
        machine.Pin(self.p["sck"], machine.Pin.IN)
        machine.Pin(self.p["ws"], machine.Pin.IN)
        kernels.fill(self.raw, RAW_BYTES)

    def read(self, out):
        """Read one frame into out (int16 array of 160). Returns frames lost to an overrun before it (usually 0),
        or -1 when the capture was stopped under it (out is then untouched): the mute IRQ is soft on esp32 and can
        run stop() between any two bytecodes, so self.i2s may be None here, or deinit'd (readinto raises OSError)."""
        i2s = self.i2s
        if i2s is None:
            return -1
        try:
            n = i2s.readinto(self.raw_mv)
            while n < RAW_BYTES:  # blocking I2S fills the buffer; this is a guard for short reads
                n += i2s.readinto(self.raw_mv[n:])
        except OSError:
            return -1
        if self.i2s is None:  # stopped while reading: what was read is from before the mute, but drop it
            kernels.fill(self.raw, RAW_BYTES)
            return -1
        kernels.convert(self.raw, FRAME, out, self.shift, self.dc)
        now = self._ticks_us()
        self.slack_us += self._ticks_diff(now, self.last_us) - FRAME_US
        self.last_us = now
        lost = 0
        if self.slack_us > IBUF_US:
            lost = (self.slack_us - IBUF_US) // FRAME_US + 1
            self.slack_us -= lost * FRAME_US
            self.overruns += lost
        elif self.slack_us < -IBUF_US:  # reads ran ahead of the clock (DMA backlog drained): not a loss
            self.slack_us = -IBUF_US
        return lost

    def probe(self, max_ms=50):
        """Mute integrity probe: clock the mic for at most max_ms, keep only whether the data line is live.

        Returns (live, peak). The buffer is zeroed before returning; no sample leaves this function.
        """
        self.start()
        live = False
        peak = 0
        first = -1
        try:
            for _ in range(max(1, max_ms // 10)):
                self.i2s.readinto(self.raw_mv)
                r = self.raw
                for i in range(0, RAW_BYTES, 4):
                    v = r[i + 1] | (r[i + 2] << 8) | (r[i + 3] << 16)
                    if first < 0:
                        first = v
                    elif v != first:
                        live = True
                    if v & 0x800000:
                        v = 0x1000000 - v
                    if v > peak:
                        peak = v
        finally:
            self.stop()  # also zeroes self.raw
        return live, min(peak >> 8, 0xFFFF)
