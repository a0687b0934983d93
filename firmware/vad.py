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
4. 17 features per frame (6 band SNRs over the floors, 5 spectral-shape ratios, periodicity and its smoothed
   value, energy modulation, slow / fast / peak-held SNR). A ring keeps the last 11 feature vectors, and a tiny
   MLP sees [f(t), f(t-40 ms), f(t-100 ms)]: 51 -> 12 ReLU -> 1, integer weights trained offline with numpy
   (bench/train_vad.py, on generated clips that are not the dev set). Its output is a logit x 256.
5. Hysteresis: speech starts when the logit is above `on`, stops when it has been below `off` for `hold`
   frames. `set_sensitivity(level)` moves both thresholds (level 0 = fewest false alarms, 9 = most sensitive).

Units of `noise_floor`: dBFS x 10 of the full-band noise floor (an estimate from the L1 norm, so about +1 dB off
an RMS reading), e.g. -612 means -61.2 dBFS. It is a small int, for heartbeat stats.

Memory: state 320 words + 235 halfwords of scratch + ~1.6 K weights, all allocated in __init__. reset() zeroes
the state and the decimated sample history and sets the feature ring to all-zero features.

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

_NST = const(320)      # state words (array 'i')
_ST_SX = const(0)      # sign-extension shift for ptr32 loads in viper (32 on a 64-bit VM, 0 on 32-bit)
_ST_FL = const(6)      # 6 band floors, log units x 256
_ST_ON = const(19)
_ST_THON = const(21)
_ST_THOFF = const(22)
_ST_HOLDN = const(23)
_ST_Z = const(24)
_ST_FEAT = const(32)
_NFEAT = const(17)
_NSC = const(235)    # ptr16 scratch: pitch (45), then the feature ring (11 x 17 from 48)

# Hysteresis at sensitivity 5, in logit x 256, and the step per sensitivity level.
_TH_ON5 = const(192)
_TH_OFF5 = const(192)
_TH_STEP = const(96)
_HOLD = const(2)

# The per-frame kernel. Same text for the viper build and the plain twin (see the module docstring).
# Arguments: frm = 160 int16 samples, st = state (array 'i', _NST words), w = MLP (array 'i'),
# sc = scratch (array 'h', _NSC): normalised pitch history, then the feature context ring.
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
"""

# MLP weights: [nin, nh, q1, q2, 0, 0, 0, 0, W+4096 (nh rows of nin), C (nh), V (nh), c]; written by bench/train_vad.py.
# Trained on 290 generated clips (not the dev set), 51->12->1; train F1 0.891 FA 0.056
_W = (51, 12, 7, 10, 0, 0, 0, 0, 3805, 3709, 3771, 4695, 4042, 4085, 3623, 6202, 2015,
      4883, 3988, 4164, 4062, 3105, 4638, 4056, 3715, 4024, 3998, 3983, 4706, 4206, 4073, 3797, 6512, 2261,
      5078, 4330, 4120, 4087, 3713, 5002, 4019, 3898, 4393, 4077, 3888, 4668, 3890, 4022, 3831, 6501, 2148,
      5518, 4439, 4149, 4085, 3247, 5624, 3987, 3781, 4357, 3344, 4415, 4549, 4059, 3777, 4442, 4255, 3659,
      4166, 4480, 4134, 4207, 4797, 3100, 4571, 3994, 4724, 3088, 4346, 4785, 4093, 3563, 4555, 3896, 3403,
      4587, 4585, 4110, 4175, 3748, 3089, 4498, 4110, 4867, 3290, 4179, 4409, 3932, 3479, 4077, 3647, 3321,
      4872, 4694, 4143, 3998, 3982, 2736, 4552, 4528, 3491, 3796, 4026, 3979, 3681, 3455, 4794, 1855, 4467,
      4086, 3917, 4108, 3899, 3540, 4506, 4700, 4628, 3978, 4425, 4355, 4295, 3771, 3764, 5333, 2221, 4601,
      4187, 4711, 3996, 4120, 4452, 4286, 3784, 4160, 4216, 4545, 4237, 4356, 3829, 3708, 5148, 2604, 4580,
      4185, 4546, 4005, 4253, 4456, 4290, 3551, 4559, 3502, 4495, 3420, 4231, 4571, 3766, 3544, 3921, 4056,
      3965, 3700, 4094, 4189, 3897, 2934, 3810, 3852, 3721, 4541, 3685, 4322, 4678, 3998, 4045, 4071, 4227,
      3999, 3902, 4071, 4207, 4310, 2893, 4177, 3688, 3977, 4616, 3601, 4040, 4444, 4174, 3904, 4188, 4551,
      4066, 3868, 4093, 4107, 4182, 2544, 4226, 3936, 3920, 4003, 4004, 3978, 4061, 4248, 2808, 4622, 3334,
      4235, 3875, 4098, 4116, 4790, 4011, 4719, 3647, 3350, 3966, 4021, 4014, 4197, 3979, 3639, 4041, 3910,
      4243, 3527, 4108, 4272, 3601, 4233, 4165, 3608, 3509, 4189, 4334, 4217, 4192, 3851, 3504, 4992, 3739,
      4241, 3305, 4093, 4221, 3933, 4960, 4219, 3694, 3887, 3920, 3907, 3828, 4105, 3281, 4657, 3584, 4639,
      3970, 3806, 4064, 4027, 3190, 3744, 4695, 4072, 3941, 4064, 3887, 4091, 4043, 3621, 3338, 3153, 4547,
      3948, 3815, 4118, 3922, 4213, 3722, 4350, 4082, 4196, 4073, 3871, 4146, 4081, 3501, 3390, 3517, 4540,
      3716, 3891, 4118, 4065, 4302, 3149, 4527, 4097, 4302, 4341, 4079, 3760, 4008, 4130, 4128, 3257, 3278,
      4601, 4537, 4040, 4535, 3342, 4212, 3703, 4571, 4327, 4490, 4048, 3883, 3986, 3698, 3717, 3771, 5352,
      4142, 3023, 4031, 4459, 3899, 3847, 4325, 4467, 4128, 4470, 4210, 3971, 4432, 4126, 3998, 3058, 5515,
      4491, 3009, 4162, 3927, 3611, 3593, 3913, 3361, 3794, 4013, 4655, 3775, 4050, 3466, 4047, 3756, 5431,
      3534, 3263, 4068, 4313, 4400, 3906, 4404, 3915, 3824, 4087, 4766, 4242, 4371, 4202, 4273, 3602, 5100,
      4454, 3636, 4143, 4075, 3557, 3955, 4306, 4151, 3565, 3976, 4339, 4075, 4339, 4493, 4512, 2838, 3446,
      4478, 4758, 4083, 4004, 4066, 4187, 3965, 3699, 4390, 4911, 4141, 4013, 3722, 3314, 3497, 4553, 3489,
      4456, 4672, 4098, 4157, 4137, 4329, 3815, 4569, 4358, 4770, 4045, 4027, 3693, 4042, 4182, 4188, 4338,
      4297, 4652, 4044, 4275, 4241, 4025, 4053, 4370, 4298, 5020, 4071, 3976, 3690, 3690, 3579, 3853, 4468,
      4561, 4644, 4050, 4223, 4088, 3902, 4013, 4101, 3774, 3537, 4282, 3541, 4146, 4445, 4384, 2526, 3515,
      4409, 4801, 4146, 3595, 3473, 4141, 3707, 3649, 3650, 3613, 4191, 3614, 4188, 4408, 4488, 3106, 3537,
      4317, 4143, 4036, 4235, 3885, 4190, 4377, 3988, 3795, 3854, 4481, 3840, 4458, 4095, 4060, 4744, 5201,
      4011, 2681, 4078, 4573, 3545, 4426, 5040, 5157, 4192, 4213, 3783, 4021, 4550, 4336, 3805, 4938, 3563,
      3698, 4502, 4174, 4259, 3588, 4490, 4832, 4491, 4014, 3934, 3872, 3929, 4309, 4196, 3898, 6130, 3741,
      3617, 4548, 4123, 4203, 3854, 4407, 4537, 4207, 4035, 3823, 3777, 3915, 4449, 4308, 4125, 6081, 3661,
      3781, 4133, 4142, 4207, 3922, 4490, 4753, 4140, 4765, 4445, 4260, 4145, 4313, 4253, 4156, 4976, 5448,
      4217, 3200, 4212, 4234, 3435, 4215, 4550, 4327, 4416, 3920, 3808, 3592, 4010, 4373, 4340, 2928, 3412,
      4869, 4466, 4102, 3758, 4252, 3736, 3557, 3494, 4359, 3899, 3696, 3671, 4006, 4084, 3874, 3757, 3580,
      3585, 4276, 4029, 4144, 4112, 4084, 4510, 4211, -1797553, 269578, 223710, 3014685, 2130542, 3847601, 1279434, 260212, -1638950,
      1431948, -3098573, 436585, -1494, -1831, -1345, -2667, -1390, -1084, 1392, 1277, 1279, 1217, 956, 1163, 32008)

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
        self._sc = array.array("h", bytes(2 * _NSC))
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
        for i in range(_NSC):
            sc[i] = 0 if i < 48 else 512    # pitch history gone; feature context = all-zero features
        for i in range(11):
            st[304 + i] = 17 * 512
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
