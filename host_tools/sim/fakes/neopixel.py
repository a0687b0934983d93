# Fake neopixel: records each LED change as "<virtual ms> r,g,b" in the LED log (config key led_log).
import time

import _simcfg
import _stdout

_log = _simcfg.get("led_log")


class NeoPixel:
    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.buf = [(0, 0, 0)] * n
        self._last = None

    def __setitem__(self, i, v):
        self.buf[i] = v  # keep the caller's tuple: no allocation, like the real driver

    def __getitem__(self, i):
        return self.buf[i]

    def __len__(self):
        return self.n

    def fill(self, v):
        for i in range(self.n):
            self.buf[i] = tuple(v)

    def write(self):
        v = self.buf[0]
        if v == self._last or not _log:
            return
        self._last = v
        with open(_log, "a") as f:
            _stdout.own(f.write("%d %d,%d,%d\n" % (time.now_us() // 1000, v[0], v[1], v[2])))
