# Hot-path kernels: viper versions with plain-Python twins that give bit-identical results.
#
# bench/codec_bench.py measures both in the MicroPython VM; tests/test_firmware_vm.py proves they agree. The viper
# builds live in kernels_viper.py. Viper on the ESP32-S3 is 32-bit: no literal >= 2**30, and ptr16/ptr32 loads are
# zero-extended, so int16 samples are sign-extended by hand. When the VM has no viper emitter (the arm64 unix port),
# importing kernels_viper fails, HAVE_VIPER is False and the plain twins below are used.
import array

from micropython import const

import adpcm
import wire


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
    step = 1 if isinstance(buf, bytearray) else 2
    for i in range(nbytes // step):
        buf[i] = 0


def pcm_pack_plain(dst, doff, samples, n):
    """Write n int16 samples little-endian into the byte buffer dst at doff."""
    for i in range(n):
        v = samples[i]
        dst[doff + 2 * i] = v & 0xFF
        dst[doff + 2 * i + 1] = (v >> 8) & 0xFF


def copy_plain(dst, doff, src, soff, n):
    """Copy n bytes src[soff:] -> dst[doff:] (two byte buffers, not overlapping) without a slice's allocation."""
    for i in range(n):
        dst[doff + i] = src[soff + i]


try:
    import kernels_viper as _v

    HAVE_VIPER = True
except Exception:  # SyntaxError/NotImplementedError: this VM has no viper emitter (arm64 unix port)
    _v = None
    HAVE_VIPER = False

if _v is not None:  # HAVE_VIPER
    convert_viper = _v.convert
    crc16_viper = _v.crc16
    cobs_encode_viper = _v.cobs_encode
    adpcm_encode_viper = _v.adpcm_encode
    fill_viper = _v.fill
    pcm_pack_viper = _v.pcm_pack
    copy_viper = _v.copy
    convert, fill, pcm_pack, crc16, cobs_encode = convert_viper, fill_viper, pcm_pack_viper, crc16_viper, cobs_encode_viper
    copy = copy_viper
else:
    convert, fill, pcm_pack, crc16, cobs_encode = convert_plain, fill_plain, pcm_pack_plain, crc16_plain, cobs_encode_plain
    copy = copy_plain


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
