# IMA-ADPCM, 4 bits per sample, as in the IMA/DVI reference (and CPython's audioop): the first sample of each
# pair goes in the HIGH nibble. Each 10 ms frame carries the decoder state it starts from (predictor, step index),
# so a lost frame costs only itself. Frame payload: i16 predictor, u8 index, u8 0, then 80 bytes of codes.
#
# These are the plain-Python twins; the board uses the viper encoder in kernels.py when the VM has viper, and the
# tests prove both give identical bytes. The host decodes with audioop (C) when it can, else with decode() here.
try:  # the fallback below is for CPython (the host); pyright holds it to micropython.const's positional-only signature
    from micropython import const  # pyright: ignore[reportAssignmentType]  # same behaviour as the fallback
except ImportError:

    def const(x):
        return x


STATE_LEN = const(4)

INDEX_TABLE = (-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8)
STEP_TABLE = (
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97,
    107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796,
    876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428,
    4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818, 18500, 20350,
    22385, 24623, 27086, 29794, 32767,
)


def encode(samples, n, out, state):
    """Encode n int16 samples (n even) into out: 4-byte state header then n // 2 code bytes.

    state is a 2-element list [predictor, index] carried from frame to frame; it is updated in place.
    Returns the number of bytes written (STATE_LEN + n // 2). Allocation-free.
    """
    valpred = state[0]
    index = state[1]
    out[0] = valpred & 0xFF
    out[1] = (valpred >> 8) & 0xFF
    out[2] = index
    out[3] = 0
    o = STATE_LEN
    hi = 0
    steps = STEP_TABLE
    idx_tab = INDEX_TABLE
    for i in range(n):
        step = steps[index]
        diff = samples[i] - valpred
        if diff < 0:
            sign = 8
            diff = -diff
        else:
            sign = 0
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
        index += idx_tab[delta]
        if index < 0:
            index = 0
        elif index > 88:
            index = 88
        if i & 1:
            out[o] = hi | delta
            o += 1
        else:
            hi = delta << 4
    state[0] = valpred
    state[1] = index
    return o


def decode(data, n_bytes, out):
    """Decode one frame (state header + codes, n_bytes in all) into out (int16 array); return samples written."""
    valpred = data[0] | (data[1] << 8)
    if valpred >= 32768:
        valpred -= 65536
    index = data[2]
    if index > 88:
        return -1
    k = 0
    steps = STEP_TABLE
    idx_tab = INDEX_TABLE
    for j in range(STATE_LEN, n_bytes):
        b = data[j]
        for delta in (b >> 4, b & 0x0F):
            step = steps[index]
            vpdiff = step >> 3
            if delta & 4:
                vpdiff += step
            if delta & 2:
                vpdiff += step >> 1
            if delta & 1:
                vpdiff += step >> 2
            if delta & 8:
                valpred -= vpdiff
                if valpred < -32768:
                    valpred = -32768
            else:
                valpred += vpdiff
                if valpred > 32767:
                    valpred = 32767
            index += idx_tab[delta]
            if index < 0:
                index = 0
            elif index > 88:
                index = 88
            out[k] = valpred
            k += 1
    return k
