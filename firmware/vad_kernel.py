# The VAD's per-frame kernel (see vad.py's docstring), on its own so that it is built AHEAD OF TIME: `hushmic deploy`
# compiles this module with mpy-cross -march=xtensawin into native code, like kernels_viper.py, instead of vad.py
# compiling a string with the native emitter at boot (which needs RAM the chip may not have then, and fell back to
# the ~10 ms-per-frame plain twin without a word). The unix VM compiles the decorator at import.
#
# The plain twin (VMs without a viper emitter, and the bit-identity tests) is this same text without the decorator:
# vad.py execs it from this file's source, so there is one definition of the kernel. Both give bit-identical results:
# every intermediate value stays below 2^30, ptr16 samples are sign-extended by hand, and ptr32 loads are
# sign-extended by a shift (st[0]) that is 32 on a 64-bit VM and 0 on the chip.
#
# Arguments: frm = 160 int16 samples, st = state (array 'i', vad._NST words), w = MLP (array 'i'),
# sc = scratch (array 'h', vad._NSC): normalised pitch history, then the feature context ring.
# Returns the decision after hysteresis (1 speech / 0 not).
import micropython


@micropython.viper
def _kern(frm: ptr16, st: ptr32, w: ptr32, sc: ptr16) -> int:
    sx = st[0]
    lp1 = st[1]
    lp1 = (lp1 << sx) >> sx
    lp2 = st[2]
    lp2 = (lp2 << sx) >> sx
    lp3 = st[3]
    lp3 = (lp3 << sx) >> sx
    xp = st[4]
    xp = (xp << sx) >> sx
    # --- pitch history: keep the last 25 decimated samples, append 20 new ones
    k = 0
    while k < 25:
        st[64 + k] = st[84 + k]
        k += 1
    at = 0
    a0 = 0
    a1 = 0
    a2 = 0
    a3 = 0
    a4 = 0
    i = 0
    while i < 160:   # |v| below as (v ^ s) - s with s = v >> 31: branch-free, and |v| < 2^31 here
        x = frm[i]
        x = ((x + 0x8000) & 0xFFFF) - 0x8000
        xs = x << 2
        lp1 += (xs - lp1) >> 1
        lp2 += (lp1 - lp2) >> 2
        lp3 += (lp2 - lp3) >> 3
        v = xs
        at += (v ^ (v >> 31)) - (v >> 31)
        v = lp3
        a0 += (v ^ (v >> 31)) - (v >> 31)
        v = lp2 - lp3
        a1 += (v ^ (v >> 31)) - (v >> 31)
        v = lp1 - lp2
        a2 += (v ^ (v >> 31)) - (v >> 31)
        v = xs - lp1
        a3 += (v ^ (v >> 31)) - (v >> 31)
        v = x - xp
        a4 += (v ^ (v >> 31)) - (v >> 31)
        xp = x
        if (i & 7) == 7:
            st[89 + (i >> 3)] = lp2
        i += 1
    st[1] = lp1
    st[2] = lp2
    st[3] = lp3
    st[4] = xp
    st[25] = at
    st[26] = a0
    st[27] = a1
    st[28] = a2
    st[29] = a3
    st[30] = a4 << 2
    # --- logs: 16*log2(v+1), 0..~420
    b = 0
    while b < 6:
        v = st[25 + b] + 1
        t = v
        p = 0
        while t >= 32:
            t >>= 1
            p += 1
        while t < 16:
            t <<= 1
            p -= 1
        st[25 + b] = (p + 4) * 16 + t - 16
        b += 1
    # --- noise floors (x256), minimum tracking
    nf = st[5]
    et = st[25]
    if nf == 0:
        b = 0
        while b < 6:
            st[6 + b] = st[25 + b] << 8
            b += 1
        st[15] = et
    fl = st[6]
    if et - (fl >> 8) < 16:
        st[12] = 0
    elif st[12] < 1000:
        st[12] = st[12] + 1
    rise = 8
    if st[12] > 100:
        rise = 64
    b = 0
    while b < 6:
        e = st[25 + b] << 8
        f = st[6 + b]
        if e < f:
            f += (e - f) >> 3
        else:
            f += rise
        st[6 + b] = f
        b += 1
    if nf < 10000:
        st[5] = nf + 1
    # --- periodicity on the decimated low band: history st[64..108] (45 samples at 2 kHz), window n = 25..44
    # (10 ms), lags 5..25 (400..80 Hz). sc[] gets the history normalised to |v| < 1024 and biased by +1024 (so
    # ptr16 loads need no sign extension); st[160..205] / st[256..301] hold prefix sums of sc and sc^2, which
    # give each lag's energy and bias correction without a second inner loop.
    m = 0
    k = 0
    while k < 45:
        v = st[64 + k]
        v = (v << sx) >> sx
        if v < 0:
            v = 0 - v
        if v > m:
            m = v
        k += 1
    r = 0
    if m >= 16:
        up = 0
        dn = 0
        while (m >> dn) >= 1024:
            dn += 1
        while (m << up) < 512:
            up += 1
        p1 = 0
        p2 = 0
        st[160] = 0
        st[256] = 0
        k = 0
        while k < 45:
            v = st[64 + k]
            v = ((((v << sx) >> sx) << up) >> dn) + 1024
            sc[k] = v
            p1 += v
            p2 += v * v
            st[161 + k] = p1
            st[257 + k] = p2
            k += 1
        sv = st[205] - st[185]
        e0 = st[301] - st[281] - 2048 * sv + 20971520
        lag = 5
        while lag <= 25:
            cb = 0
            n = 25
            while n < 45:
                cb += sc[n] * sc[n - lag]
                n += 1
            su = st[205 - lag] - st[185 - lag]
            el = st[301 - lag] - st[281 - lag] - 2048 * su + 20971520
            c = cb - 1024 * (sv + su) + 20971520
            c = c // (((e0 + el) >> 9) + 1)
            if c > r:
                r = c
            lag += 1
    # --- features -> st[32..48]
    snr = 0
    b = 0
    while b < 6:
        f = st[6 + b]
        v = st[25 + b] - (f >> 8)
        if v < -64:
            v = -64
        if v > 400:
            v = 400
        st[32 + b] = v
        if b == 0:
            snr = v
        b += 1
    b = 1
    while b < 6:
        st[37 + b] = st[25 + b] - et
        b += 1
    st[43] = r
    ps = st[13] + ((r - st[13]) >> 2)
    st[13] = ps
    st[44] = ps
    d = et - st[15]
    if d < 0:
        d = 0 - d
    if d > 100:
        d = 100
    st[15] = et
    md = st[14]
    md += ((d << 4) - md) >> 3
    st[14] = md
    st[45] = md >> 2
    sf = st[16]
    sf = (sf << sx) >> sx
    sf += ((snr << 4) - sf) >> 2
    st[16] = sf
    ss = st[17]
    ss = (ss << sx) >> sx
    ss += ((snr << 4) - ss) >> 4
    st[17] = ss
    st[46] = ss >> 4
    pk = st[18]
    pk = (pk << sx) >> sx
    pk -= 16
    if (snr << 4) > pk:
        pk = snr << 4
    st[18] = pk
    st[47] = pk >> 4
    st[48] = sf >> 4
    # --- temporal context: a ring of the last 11 feature vectors in sc[48..234] (slot = 17 values, clamped to
    # -512..511 and biased +512 so that ptr16 loads need no sign extension), with each slot's sum in st[304..314].
    pos = st[31]
    base = 48 + pos * 17
    fs = 0
    k = 0
    while k < 17:
        v = st[32 + k]
        v = (v << sx) >> sx
        if v < -512:
            v = -512
        if v > 511:
            v = 511
        v += 512
        sc[base + k] = v
        fs += v
        k += 1
    st[304 + pos] = fs
    p1 = pos - 4
    if p1 < 0:
        p1 += 11
    p2 = pos - 10
    if p2 < 0:
        p2 += 11
    o1 = 48 + p1 * 17
    o2 = 48 + p2 * 17
    ftot = fs + st[304 + p1] + st[304 + p2]
    pos += 1
    if pos == 11:
        pos = 0
    st[31] = pos
    # --- MLP on [f(t), f(t-4), f(t-10)] (51 inputs): w = [nin=51, nh, q1, q2, 0, 0, 0, 0, W' (nh x 51), C (nh),
    # V (nh), c]. W' = weight + 4096 (0..8191, so no sign extension either) and C folds the two biases back:
    # sum (W'-4096)(f'-512) + b = sum W'f' + C - 4096 * sum f'. Every partial sum stays below 2^30.
    nh = w[1]
    q1 = w[2]
    q2 = w[3]
    z = 0
    j = 0
    wb = 8 + nh * 51
    while j < nh:
        acc = w[wb + j]
        acc = ((acc << sx) >> sx) - 4096 * ftot
        o = 8 + j * 51
        k = 0
        while k < 17:
            acc += w[o + k] * sc[base + k] + w[o + 17 + k] * sc[o1 + k] + w[o + 34 + k] * sc[o2 + k]
            k += 1
        acc = acc >> q1
        if acc > 0:
            if acc > 16383:
                acc = 16383
            a = w[wb + nh + j]
            a = (a << sx) >> sx
            z += a * acc
        j += 1
    a = w[wb + nh + nh]
    a = (a << sx) >> sx
    z = (z + a) >> q2
    if z > 32767:
        z = 32767
    if z < -32767:
        z = -32767
    st[24] = z
    # --- hysteresis
    on = st[19]
    if on == 0:
        thon = st[21]
        thon = (thon << sx) >> sx
        if z > thon:
            on = 1
            st[20] = st[23]
    else:
        thoff = st[22]
        thoff = (thoff << sx) >> sx
        if z < thoff:
            if st[20] > 0:
                st[20] = st[20] - 1
            else:
                on = 0
        else:
            st[20] = st[23]
    st[19] = on
    return on
