# Hot-path kernels: viper versions with plain-Python twins that give bit-identical results.
#
# bench/firmware_bench.py measures both in the MicroPython VM; tests/test_firmware_vm.py proves they agree.
# Viper on the ESP32-S3 is 32-bit: no literal >= 2**30, and ptr16/ptr32 loads are zero-extended, so int16
# samples are sign-extended by hand. When the VM has no viper emitter (the arm64 unix port), HAVE_VIPER is
# False and the plain twins are used.
import array

import micropython
from micropython import const

import adpcm
import wire

_FRAME = const(160)

# Tables as flat buffers, for pointer access from viper.
CRC_TAB = bytearray(512)
for _i in range(256):
    CRC_TAB[2 * _i] = wire.CRC_TABLE[_i] & 0xFF
    CRC_TAB[2 * _i + 1] = wire.CRC_TABLE[_i] >> 8
STEP_TAB = bytearray(2 * 89)
for _i in range(89):
    STEP_TAB[2 * _i] = adpcm.STEP_TABLE[_i] & 0xFF
    STEP_TAB[2 * _i + 1] = adpcm.STEP_TABLE[_i] >> 8
IDX_TAB = bytearray(16)  # index deltas + 8, so they fit unsigned bytes
for _i in range(16):
    IDX_TAB[_i] = adpcm.INDEX_TABLE[_i] + 8


# ---- 32-bit I2S slots -> int16, with DC removal and a gain shift ------------------------------------------------
# A slot holds a left-justified 24-bit sample. x24 = slot >> 8 (signed). A one-pole DC tracker in Q4,
# dc += ((x24 << 4) - dc) >> 10 (time constant 1024 samples = 64 ms), is subtracted, then the result is shifted
# right by (shift - 8) and saturated to int16. shift is the profile's right shift of the 32-bit slot (8..24).
# state: array('i', [dc_q4]). Largest intermediate: 2**23 << 4 = 2**27 < 2**30.
def convert_plain(raw, n, out, shift, state):
    dc = state[0]
    s = shift - 8
    peak = 0
    for i in range(n):
        j = 4 * i
        hi = raw[j + 2] | (raw[j + 3] << 8)
        if hi & 0x8000:
            hi -= 0x10000
        x = (hi << 8) | raw[j + 1]
        dc += ((x << 4) - dc) >> 10
        y = (x - (dc >> 4)) >> s
        if y > 32767:
            y = 32767
        elif y < -32768:
            y = -32768
        out[i] = y
        a = y if y >= 0 else -y
        if a > peak:
            peak = a
    state[0] = dc
    return peak


def crc16_plain(buf, n):
    return wire.crc16(buf, n)


def cobs_encode_plain(src, n, dst):
    return wire.cobs_encode(src, n, dst)


def adpcm_encode_plain(samples, n, out, state):
    return adpcm.encode(samples, n, out, state)


def fill_plain(buf, nbytes):
    """Zero the first nbytes bytes of buf (a bytearray or an array of int16, whose items are 2 bytes)."""
    step = 1 if isinstance(buf, (bytearray, bytes)) else 2
    for i in range(nbytes // step):
        buf[i] = 0


def pcm_pack_plain(dst, doff, samples, n):
    """Write n int16 samples little-endian into the byte buffer dst at doff."""
    for i in range(n):
        v = samples[i]
        dst[doff + 2 * i] = v & 0xFF
        dst[doff + 2 * i + 1] = (v >> 8) & 0xFF


HAVE_VIPER = False
try:

    @micropython.viper
    def _probe() -> int:
        return 1

    HAVE_VIPER = _probe() == 1
except Exception:  # SyntaxError/NotImplementedError when the emitter is missing
    HAVE_VIPER = False

if HAVE_VIPER:

    @micropython.viper
    def convert_viper(raw, n: int, out, shift: int, state) -> int:
        r = ptr8(raw)
        o = ptr16(out)
        st = ptr32(state)
        dc = int(st[0])
        if dc & 0x20000000:  # zero-extended 32-bit load on a 64-bit VM: restore the sign (|dc| < 2**29)
            dc = dc | (-1 << 30)
        s = shift - 8
        peak = 0
        i = 0
        while i < n:
            j = 4 * i
            hi = r[j + 2] | (r[j + 3] << 8)
            if hi & 0x8000:
                hi -= 0x10000
            x = (hi << 8) | r[j + 1]
            dc += ((x << 4) - dc) >> 10
            y = (x - (dc >> 4)) >> s
            if y > 32767:
                y = 32767
            elif y < -32768:
                y = -32768
            o[i] = y & 0xFFFF
            a = y if y >= 0 else 0 - y
            if a > peak:
                peak = a
            i += 1
        st[0] = dc & 0x3FFFFFFF
        return peak

    @micropython.viper
    def crc16_viper(buf, n: int) -> int:
        p = ptr8(buf)
        t = ptr16(CRC_TAB)
        crc = 0xFFFF
        i = 0
        while i < n:
            crc = ((crc << 8) & 0xFFFF) ^ t[((crc >> 8) ^ p[i]) & 0xFF]
            i += 1
        return crc

    @micropython.viper
    def cobs_encode_viper(src, n: int, dst) -> int:
        s = ptr8(src)
        d = ptr8(dst)
        code_at = 0
        code = 1
        o = 1
        i = 0
        while i < n:
            b = s[i]
            if b == 0:
                d[code_at] = code
                code_at = o
                o += 1
                code = 1
            else:
                d[o] = b
                o += 1
                code += 1
                if code == 0xFF:
                    d[code_at] = code
                    code_at = o
                    o += 1
                    code = 1
            i += 1
        d[code_at] = code
        d[o] = 0
        return o + 1

    @micropython.viper
    def adpcm_encode_viper(samples, n: int, out, state) -> int:
        smp = ptr16(samples)
        o8 = ptr8(out)
        st = ptr16(state)  # array('h', [predictor, index])
        steps = ptr16(STEP_TAB)
        idxt = ptr8(IDX_TAB)
        valpred = int(st[0])
        if valpred & 0x8000:
            valpred -= 0x10000
        index = int(st[1])
        o8[0] = valpred & 0xFF
        o8[1] = (valpred >> 8) & 0xFF
        o8[2] = index
        o8[3] = 0
        o = 4
        hi = 0
        i = 0
        while i < n:
            step = int(steps[index])
            v = int(smp[i])
            if v & 0x8000:
                v -= 0x10000
            diff = v - valpred
            sign = 0
            if diff < 0:
                sign = 8
                diff = 0 - diff
            delta = 0
            vpdiff = step >> 3
            if diff >= step:
                delta = 4
                diff -= step
                vpdiff += step
            step >>= 1
            if diff >= step:
                delta |= 2
                diff -= step
                vpdiff += step
            step >>= 1
            if diff >= step:
                delta |= 1
                vpdiff += step
            if sign:
                valpred -= vpdiff
                if valpred < -32768:
                    valpred = -32768
            else:
                valpred += vpdiff
                if valpred > 32767:
                    valpred = 32767
            delta |= sign
            index += int(idxt[delta]) - 8
            if index < 0:
                index = 0
            elif index > 88:
                index = 88
            if i & 1:
                o8[o] = hi | delta
                o += 1
            else:
                hi = delta << 4
            i += 1
        st[0] = valpred & 0xFFFF
        st[1] = index
        return o

    @micropython.viper
    def fill_viper(buf, nbytes: int):
        p = ptr8(buf)
        i = 0
        while i < nbytes:
            p[i] = 0
            i += 1

    @micropython.viper
    def pcm_pack_viper(dst, doff: int, samples, n: int):
        d = ptr8(dst)
        s = ptr16(samples)
        i = 0
        while i < n:
            v = int(s[i])
            d[doff + 2 * i] = v & 0xFF
            d[doff + 2 * i + 1] = (v >> 8) & 0xFF
            i += 1

    convert = convert_viper
    fill = fill_viper
    pcm_pack = pcm_pack_viper
    crc16 = crc16_viper
    cobs_encode = cobs_encode_viper
else:
    convert = convert_plain
    fill = fill_plain
    pcm_pack = pcm_pack_plain
    crc16 = crc16_plain
    cobs_encode = cobs_encode_plain


class AdpcmEncoder:
    """Carries the IMA-ADPCM state from frame to frame; picks the viper kernel when available."""

    def __init__(self):
        self.state_h = array.array("h", [0, 0])  # viper layout
        self.state_l = [0, 0]  # plain layout

    def reset(self):
        self.state_h[0] = 0
        self.state_h[1] = 0
        self.state_l[0] = 0
        self.state_l[1] = 0

    def encode(self, samples, n, out):
        if HAVE_VIPER:
            return adpcm_encode_viper(samples, n, out, self.state_h)
        return adpcm.encode(samples, n, out, self.state_l)
