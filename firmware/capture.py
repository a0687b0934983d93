# I2S capture: 32-bit slots at 16 kHz -> int16 frames of 10 ms, with DC removal, a gain shift from the board
# profile, and an overrun counter inferred from the clock (machine.I2S reports none).
import array

from micropython import const
import machine
import time

import kernels
import wire

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
# Frames discarded after I2S (re)starts: an INMP441's data is valid only 2^18 SCK cycles after its clock starts
# (datasheet start-up time), 256 ms at SCK = 64 x 16 kHz; the SPH0645 and ICS-43434 need less. The mute probe waits
# as long before it judges, then looks at PROBE_JUDGE_FRAMES (300 ms in all).
SETTLE_FRAMES = const(26)
PROBE_JUDGE_FRAMES = const(4)
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

    def probe(self):
        """Mute integrity probe: is anything driving the mic's data line while the switch is on?

        The SD line gets the pull-down the INMP441 datasheet asks for (so a mic whose power the switch cut, whose
        output then floats, reads 0), the clock runs for the mic's start-up time (an INMP441's data is not valid for
        2^18 SCK cycles, 256 ms, and a powered mic is not judged on that), then PROBE_JUDGE_FRAMES are looked at:
        - data that varies: a powered mic answers: MIC_SILENT_FALSE (the mute is then software-only);
        - all zero: nothing drives the line: MIC_SILENT_TRUE;
        - constant but not zero (a line held high, a stuck bus): it cannot tell: MIC_SILENT_UNKNOWN.
        Returns (state, peak). The buffer is zeroed before returning; no sample leaves this function."""
        machine.Pin(self.p["sd"], machine.Pin.IN, machine.Pin.PULL_DOWN)
        self.start()
        varied = False
        nonzero = False
        peak = 0
        first = -1
        try:
            for f in range(SETTLE_FRAMES + PROBE_JUDGE_FRAMES):
                i2s = self.i2s  # (taken once: a soft IRQ may run between any two bytecodes)
                if i2s is None:
                    return wire.MIC_SILENT_UNKNOWN, 0
                i2s.readinto(self.raw_mv)
                if f < SETTLE_FRAMES:
                    continue
                r = self.raw
                for i in range(0, RAW_BYTES, 4):
                    v = r[i + 1] | (r[i + 2] << 8) | (r[i + 3] << 16)
                    if v:
                        nonzero = True
                    if first < 0:
                        first = v
                    elif v != first:
                        varied = True
                    if v & 0x800000:
                        v = 0x1000000 - v
                    if v > peak:
                        peak = v
        except OSError:
            return wire.MIC_SILENT_UNKNOWN, 0
        finally:
            self.stop()  # also zeroes self.raw
        if varied:
            state = wire.MIC_SILENT_FALSE
        elif nonzero:
            state = wire.MIC_SILENT_UNKNOWN
        else:
            state = wire.MIC_SILENT_TRUE
        return state, min(peak >> 8, 0xFFFF)
