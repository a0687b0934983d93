"""hushmic on-chip voice activity detector (VAD).

Runs on the ESP32-S3 under MicroPython and, unmodified, in the unix-port MicroPython VM (the simulated board and
`hushmic vad`). One 10 ms frame (160 int16 samples at 16 kHz) in, one decision out:

    vad = Vad(sensitivity=5)
    is_speech = vad.process(frame)      # 1 speech / 0 not, after hysteresis (no hangover, no pre-roll:
                                        #   those are endpoint.Endpointer's job)

How it decides (all integer arithmetic, no allocation per frame):

1. Filter bank: three cascaded one-pole low-passes (cut-offs ~1.8 kHz, ~730 Hz, ~340 Hz at 16 kHz) split the
   frame into 4 bands (<340, 340-730, 730-1800, >1800 Hz), plus the first difference (top octave) and the full
   band. For each of these 6 signals the frame's L1 norm (sum of |x|, which cannot overflow where a sum of
   squares would) is turned into a log: `16*log2`, i.e. 1 unit = 1/16 octave of amplitude = 0.376 dB.
2. Adaptive noise floor per band: minimum tracking in the log domain. The floor follows the level down quickly
   (time constant 8 frames) and creeps up slowly (1.2 dB/s, 9.6 dB/s after 1 s without any frame near the
   floor), so speech does not lift it but a noise that gets louder is learnt within seconds.
3. Periodicity: normalised autocorrelation of the ~730 Hz low-passed signal decimated to 2 kHz, over a 10 ms
   window, lags 5..25 (80-400 Hz pitch): voiced speech is periodic, most noises are not.
4. 17 features (band SNRs over the floor, spectral shape, periodicity, energy modulation, smoothed and
   peak-held SNR) feed a tiny MLP (17 -> 12 ReLU -> 1) with integer weights trained offline
   (bench/train_vad.py on synthetic clips that are not the dev set). Its output is a logit x 256.
5. Hysteresis: speech starts when the logit is above `on`, stops when it has been below `off` for `hold`
   frames. `set_sensitivity(level)` moves both thresholds (level 0 = fewest false alarms, 9 = most sensitive).

Units of `noise_floor`: dBFS x 10 of the full-band noise floor (an estimate from the L1 norm, so about +1 dB off
an RMS reading), e.g. -612 means -61.2 dBFS. It is a small int, for heartbeat stats.

Cost: everything per frame happens in one kernel, `_KSRC` below. It is compiled twice from the same source:
once with `@micropython.viper` (native code, 32-bit machine words on the S3) and once as plain bytecode (the
"twin", used automatically when the VM has no viper emitter, e.g. the arm64 unix port, where the viper
decorator is a SyntaxError: that is why the kernel lives in a string and is compiled with exec at import).
The source is written so that both give bit-identical results: every intermediate value stays below 2^30,
ptr16 samples are sign-extended by hand, and ptr32 loads are sign-extended by a shift (`_SX`) that is 32 on a
64-bit VM and 0 on the chip. tests/test_vad_firmware.py checks the identity and the zero allocation.
"""
import array
import sys

from micropython import const

_NST = const(304)      # state words (array 'i')
_ST_SX = const(0)      # sign-extension shift for ptr32 loads in viper (32 on a 64-bit VM, 0 on 32-bit)
_ST_FL = const(6)      # 6 band floors, log units x 256
_ST_ON = const(19)
_ST_THON = const(21)
_ST_THOFF = const(22)
_ST_HOLDN = const(23)
_ST_Z = const(24)
_ST_FEAT = const(32)
_NFEAT = const(17)

# Hysteresis at sensitivity 5, in logit x 256, and the step per sensitivity level.
_TH_ON5 = const(352)
_TH_OFF5 = const(352)
_TH_STEP = const(96)
_HOLD = const(8)

# The per-frame kernel. Same text for the viper build and the plain twin (see the module docstring).
# Arguments: frm = 160 int16 samples, st = state (array 'i', _NST words), w = MLP (array 'i'),
# sc = pitch scratch (array 'h', 45).
_KSRC = """
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
    while i < 160:
        x = frm[i]
        x = ((x + 0x8000) & 0xFFFF) - 0x8000
        xs = x << 2
        lp1 += (xs - lp1) >> 1
        lp2 += (lp1 - lp2) >> 2
        lp3 += (lp2 - lp3) >> 3
        v = xs
        if v < 0:
            v = 0 - v
        at += v
        v = lp3
        if v < 0:
            v = 0 - v
        a0 += v
        v = lp2 - lp3
        if v < 0:
            v = 0 - v
        a1 += v
        v = lp1 - lp2
        if v < 0:
            v = 0 - v
        a2 += v
        v = xs - lp1
        if v < 0:
            v = 0 - v
        a3 += v
        v = x - xp
        if v < 0:
            v = 0 - v
        a4 += v
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
    # --- MLP: w = [nin, nh, q1, q2, W(nh x nin), b(nh), V(nh), c]
    nin = w[0]
    nh = w[1]
    q1 = w[2]
    q2 = w[3]
    z = 0
    j = 0
    wb = 4 + nh * nin
    while j < nh:
        acc = w[wb + j]
        acc = (acc << sx) >> sx
        k = 0
        o = 4 + j * nin
        while k < nin:
            a = w[o + k]
            a = (a << sx) >> sx
            v = st[32 + k]
            v = (v << sx) >> sx
            acc += a * v
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
"""

# MLP weights: [nin, nh, q1, q2, W (nh rows of nin), b (nh), V (nh), c]; written by bench/train_vad.py.
# Trained on 290 generated clips (not the dev set), 17->12->1; train F1 0.862 FA 0.074
_W = (17, 12, 13, 10, 2760, -18253, 9226, 5179, 93, 10925, -28571, -95114, -30401, -45600, -32890, 2167, -29194,
      26547, -19037, 13404, -11542, -30528, -23339, -8850, 78463, -511, -39493, -37829, 206856, -131428, 65509, 31950, 7423, -7063,
      -177579, 96550, 50506, -21334, -124914, 14330, 26950, -32839, 27628, 4171, -56927, -42968, -149985, 21454, 20387, -6305, 21405,
      -73140, 47486, 93256, 27105, 7789, -11330, 3037, -7836, -14132, -58588, 132569, -217520, -40925, 6767, 91089, -5439, -8730,
      40474, -46923, 8825, 44242, -3191, -25850, -4605, 15312, 10339, -29502, 28260, -59320, -63463, 44747, 20618, 2691, -20374,
      -19223, -65705, 692, -42820, 364, -20125, 7077, -19953, 52086, 13728, 22031, 49678, 146979, -32788, -30075, 3980, -3915,
      -66225, 7403, 51587, 15509, 17682, -18424, -30063, -103637, -9359, 133595, 94817, -106346, 48538, -17085, 18111, -1409, -10372,
      33964, 42924, -46445, -54180, 28779, 88756, 23722, -22874, -51519, -42702, -62370, -12032, 1184, 54502, 42796, -4291, 14818,
      17780, -16794, -26891, 13242, -36586, 67854, -85678, -7021, 38352, 25044, -44067, 31541, 31762, -12306, -42235, 125, -84,
      32775, -192425, -87735, 13449, 34336, 61711, -17704, -16905, 13541, -25832, -7747, 37981, 98853, 4877, -68724, 24771, 20511,
      -34091, -57779, -5374, 49605, -50370, -16200, -7500, 73911, 1000, -40940, -78153, -13487, -80587, -28042, 55671, -3236, 22155,
      13962, -182052, 78703, -13563, 22763, -3954, 30816, -25509, -4191, -1066, 39263, -93901, 180685, 35492, -43309, -416, 7205,
      -51079, -28907, 5693, -52184, -2696385, 4526563, -6812599, -111202, 2958386, 699755, 1231965, -473793, 2414609, -7068192, -4447438, 6388242, 360,
      -1619, 1264, -1604, -807, 1178, 2427, 2377, -3110, 1272, -1772, 838, -15437)

_kernels = {}


def _compile(kind):
    """Compile the kernel source as 'viper' or 'plain'; raises on a VM without the viper emitter."""
    k = _kernels.get(kind)
    if k is None:
        g = {}
        exec(("@micropython.viper\n" if kind == "viper" else "") + _KSRC, g)
        k = g["_kern"]
        _kernels[kind] = k
    return k


def kernel_kind():
    """'viper' where the VM can compile viper, else 'plain'."""
    try:
        _compile("viper")
        return "viper"
    except Exception:  # SyntaxError: no native emitter (arm64 unix port)
        return "plain"


_DEFAULT_KIND = kernel_kind()
_SX64 = 32 if sys.maxsize > (1 << 40) else 0


class Vad:
    """Voice activity detector for 10 ms frames of 160 int16 samples at 16 kHz (see the module docstring)."""

    def __init__(self, sensitivity=5, kernel=None):
        # kernel: None = best available; 'plain' or 'viper' to force one (tests, benchmarks).
        self._kind = kernel or _DEFAULT_KIND
        self._k = _compile(self._kind)
        self._st = array.array("i", bytes(4 * _NST))
        self._w = array.array("i", _W)
        self._sc = array.array("h", bytes(2 * 45))
        self._level = 5
        self.set_sensitivity(sensitivity)
        self.reset()

    @property
    def kind(self):
        return self._kind

    def set_sensitivity(self, level):
        """0 = fewest false alarms .. 9 = most sensitive; 5 is the trained operating point."""
        if not isinstance(level, int) or isinstance(level, bool) or level < 0 or level > 9:
            raise ValueError("sensitivity must be an int 0..9")
        self._level = level
        st = self._st
        st[_ST_THON] = _TH_ON5 + (5 - level) * _TH_STEP
        st[_ST_THOFF] = _TH_OFF5 + (5 - level) * _TH_STEP
        st[_ST_HOLDN] = _HOLD

    @property
    def sensitivity(self):
        return self._level

    def reset(self):
        """Forget everything: filter states, noise floors, the decimated sample history, the decision."""
        st = self._st
        thon, thoff, holdn = st[_ST_THON], st[_ST_THOFF], st[_ST_HOLDN]
        for i in range(_NST):
            st[i] = 0
        sc = self._sc
        for i in range(45):
            sc[i] = 0
        st[_ST_SX] = _SX64 if self._kind == "viper" else 0
        st[_ST_THON], st[_ST_THOFF], st[_ST_HOLDN] = thon, thoff, holdn

    def process(self, frame):
        """frame: 160 int16 samples (memoryview or array('h')). Returns 1 speech / 0 not, after hysteresis."""
        return self._k(frame, self._st, self._w, self._sc)

    @property
    def noise_floor(self):
        """Full-band noise floor, dBFS x 10 (int). Floor units: 16*log2(sum|4x| over 160) x 256."""
        f = self._st[_ST_FL] >> 8
        return (f * 3853 >> 10) - 1464

    @property
    def score(self):
        """The last frame's MLP output (logit x 256), before hysteresis."""
        return self._st[_ST_Z]

    def features(self):
        """The last frame's feature vector (a memoryview into the state, for training dumps)."""
        return memoryview(self._st)[_ST_FEAT:_ST_FEAT + _NFEAT]
