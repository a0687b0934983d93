# The viper builds of the hot-path kernels (see kernels.py for their plain-Python twins and the rules).
#
# A separate module, because a viper function in a module makes the whole module fail to compile on a VM without
# the native emitter (the arm64 unix port): kernels.py imports this one inside try/except and falls back to the
# plain twins. mpy-cross compiles it ahead of time for the chip (-march=xtensawin), so no code is compiled on the
# board at run time.
import micropython

import adpcm
import wire

# Tables as flat buffers, for pointer access.
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



@micropython.viper
def convert(raw, n: int, out, shift: int, state) -> int:
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
def crc16(buf, n: int) -> int:
    p = ptr8(buf)
    t = ptr16(CRC_TAB)
    crc = 0xFFFF
    i = 0
    while i < n:
        crc = ((crc << 8) & 0xFFFF) ^ t[((crc >> 8) ^ p[i]) & 0xFF]
        i += 1
    return crc

@micropython.viper
def cobs_encode(src, n: int, dst) -> int:
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
def adpcm_encode(samples, n: int, out, state) -> int:
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
def fill(buf, nbytes: int):
    p = ptr8(buf)
    i = 0
    while i < nbytes:
        p[i] = 0
        i += 1

@micropython.viper
def pcm_pack(dst, doff: int, samples, n: int):
    d = ptr8(dst)
    s = ptr16(samples)
    i = 0
    while i < n:
        v = int(s[i])
        d[doff + 2 * i] = v & 0xFF
        d[doff + 2 * i + 1] = (v >> 8) & 0xFF
        i += 1

@micropython.viper
def copy(dst, doff: int, src, soff: int, n: int):
    d = ptr8(dst)
    s = ptr8(src)
    i = 0
    while i < n:
        d[doff + i] = s[soff + i]
        i += 1
