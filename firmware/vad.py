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
Measured on the x86 unix-port VM (python -m bench.vad_bench): ~7.3 us per frame in viper, ~270 us in the plain
twin. On the S3 that is ~0.55 ms per 10 ms frame even at the interpreter's 75x factor (the plain twin is only
for VMs without viper, e.g. the arm64 simulated board, where it is too slow for real time but exact).
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
"""

# MLP weights: [nin, nh, q1, q2, 0, 0, 0, 0, W+4096 (nh rows of nin), C (nh), V (nh), c]; written by bench/train_vad.py.
# Trained on 353 generated clips (not the dev set), 51->16->1; train F1 0.889 FA 0.059
_W = (51, 16, 7, 10, 0, 0, 0, 0, 3215, 3290, 4295, 3571, 3498, 3387, 4619, 3394, 2729,
      3231, 4865, 4031, 3977, 4342, 3916, 3667, 3827, 3863, 4051, 4807, 4196, 4441, 3996, 4252, 4266, 5418,
      3648, 3841, 4123, 4241, 4131, 4180, 4556, 4632, 4078, 4354, 4713, 4317, 4728, 4697, 4369, 3962, 5155,
      4413, 4575, 4156, 4012, 4070, 3996, 4068, 4167, 4472, 4009, 4427, 4224, 4091, 4051, 4682, 4189, 3481,
      3821, 4637, 3956, 4244, 4368, 3549, 4422, 4564, 4678, 3574, 4289, 4392, 4040, 3785, 4533, 3797, 3628,
      3964, 4676, 4035, 4148, 4197, 3329, 4229, 4327, 4594, 3674, 4223, 4090, 3888, 3593, 4011, 3386, 4183,
      4046, 4869, 4092, 4006, 4071, 2618, 4286, 4748, 4026, 4447, 4269, 3939, 4206, 4614, 3904, 4323, 2614,
      4550, 5398, 4150, 3996, 3509, 4625, 4402, 4364, 3980, 4397, 4114, 3935, 3874, 4239, 3544, 4167, 2605,
      4309, 5453, 4062, 4053, 4547, 4605, 4401, 4207, 3999, 4379, 3728, 4092, 4134, 4247, 3154, 5223, 3115,
      4261, 4502, 4050, 4398, 3646, 4510, 4524, 4055, 4649, 5063, 4328, 4193, 3566, 3427, 3882, 4177, 3085,
      3617, 6160, 3998, 4126, 4333, 4165, 3193, 4813, 4552, 4901, 4347, 4150, 3549, 3172, 3347, 4354, 3969,
      3726, 5180, 4059, 4106, 3970, 4072, 3882, 4372, 4470, 4944, 4215, 3936, 3555, 3417, 2842, 3843, 3795,
      4173, 5114, 4107, 3925, 3785, 3835, 3994, 4069, 4611, 4317, 4516, 4051, 4099, 4183, 4489, 5258, 5995,
      3469, 3012, 4083, 4424, 3699, 3772, 4987, 4375, 4221, 4245, 4492, 3997, 4310, 4252, 4321, 4258, 4497,
      4024, 4376, 4146, 4038, 4090, 3402, 3901, 3715, 3722, 3819, 4269, 3691, 4074, 4080, 4240, 2752, 2093,
      4351, 5191, 4087, 3786, 4440, 3688, 3714, 3797, 4108, 4112, 3872, 3837, 4279, 3353, 3989, 3265, 4940,
      4034, 3701, 4112, 4036, 4544, 3297, 4783, 4188, 4026, 4180, 3816, 4027, 4136, 3627, 4073, 3285, 4904,
      3973, 3969, 4116, 4022, 3980, 3054, 4108, 3982, 4361, 4176, 3780, 4066, 4117, 3480, 4500, 3477, 4918,
      3842, 4119, 4125, 3911, 4404, 2218, 4313, 4096, 3723, 4758, 3707, 4059, 4597, 3962, 3948, 4186, 4083,
      4130, 3524, 4088, 3980, 3822, 4364, 3047, 4662, 3792, 4945, 3753, 4116, 4580, 4068, 4161, 4398, 3967,
      4199, 3763, 4060, 4074, 4788, 3962, 3611, 4630, 3772, 4678, 3827, 4010, 4415, 3814, 4153, 3506, 4105,
      4477, 4119, 4097, 4046, 4186, 3771, 3466, 4821, 4142, 4439, 4457, 4126, 4367, 3979, 2100, 5429, 4017,
      4373, 2847, 4271, 4897, 5145, 3821, 4343, 4051, 3876, 4271, 4309, 4253, 4072, 4001, 3558, 3978, 3564,
      4898, 3617, 4069, 4395, 3609, 3768, 4300, 3928, 3658, 3994, 3868, 3968, 3686, 3605, 4058, 3415, 3553,
      4868, 3713, 4085, 4335, 3401, 4124, 4240, 3894, 4145, 3944, 3802, 3921, 3690, 3245, 2946, 1702, 3681,
      5287, 5298, 4138, 3922, 4197, 3974, 4339, 4174, 4307, 3930, 3993, 4074, 3695, 3769, 3031, 3072, 4284,
      4174, 4446, 4107, 4053, 3708, 3784, 4286, 4288, 4420, 4251, 4109, 4080, 3732, 3539, 3042, 3206, 4728,
      4667, 4513, 4231, 3921, 2701, 3581, 4405, 4068, 3561, 4153, 3376, 3805, 4458, 3840, 4537, 4631, 4096,
      3743, 3672, 4064, 4275, 3507, 3652, 4124, 4003, 3608, 4302, 3426, 4160, 4591, 4067, 4177, 4252, 4305,
      3626, 3678, 4082, 4176, 3904, 3251, 4387, 3883, 3853, 4443, 3692, 4177, 4562, 3748, 4212, 3838, 4278,
      3950, 4001, 4053, 4204, 3990, 3033, 4409, 3175, 4392, 3585, 3899, 3579, 3719, 4220, 2974, 3676, 1727,
      4528, 4880, 4158, 3969, 3599, 3801, 3596, 4425, 4543, 3682, 4023, 3753, 3792, 4337, 3029, 3739, 2855,
      3695, 3996, 4053, 3899, 4251, 3569, 3935, 4152, 4463, 3740, 3955, 3815, 4044, 4423, 3724, 4160, 3714,
      3992, 3476, 4107, 4074, 3517, 3334, 4104, 3814, 3666, 4088, 3297, 4533, 4240, 3823, 2044, 4469, 3568,
      3872, 3434, 4099, 4245, 4217, 4224, 3987, 3753, 3728, 4161, 3580, 4575, 4322, 3909, 2485, 4968, 3354,
      4055, 3675, 4078, 4200, 4227, 4274, 4049, 3624, 3820, 4065, 3751, 4692, 4251, 3707, 2273, 5422, 3224,
      3644, 3841, 4114, 4270, 3923, 4666, 4196, 3479, 4039, 4234, 4341, 4866, 3844, 4087, 3819, 6923, 2936,
      4667, 4972, 4170, 4108, 3386, 3983, 3042, 3565, 4118, 4203, 4398, 4985, 4073, 4224, 3539, 6382, 2842,
      5138, 4940, 4131, 4186, 4489, 4144, 3349, 3761, 4080, 4019, 4325, 4862, 3791, 3964, 3520, 5580, 1927,
      5026, 5183, 4111, 4040, 3627, 4321, 3834, 4140, 3362, 3648, 4086, 3866, 3571, 3274, 5440, 3107, 3395,
      4071, 4589, 4114, 4108, 4107, 4135, 4496, 3644, 4007, 4217, 4641, 4412, 4024, 3795, 4675, 3409, 4265,
      3843, 4529, 4060, 4049, 4357, 4514, 3835, 3925, 4512, 4548, 4615, 4650, 4179, 3874, 4392, 3537, 3376,
      4394, 5149, 3998, 4227, 4442, 4532, 3960, 3831, 4295, 3794, 4062, 4209, 3792, 4199, 4235, 5212, 3415,
      4925, 3769, 4080, 4057, 3863, 4972, 3808, 4144, 4397, 4071, 4133, 4170, 3801, 4062, 4493, 5099, 3594,
      5174, 4129, 4099, 4082, 3576, 4974, 3875, 4080, 4623, 4112, 4156, 4247, 3670, 3841, 4178, 5003, 4045,
      5435, 4296, 4149, 4034, 3252, 5352, 3989, 3513, 3847, 4529, 4551, 3898, 4276, 3926, 4084, 2975, 5998,
      4045, 3510, 4081, 4444, 3965, 4414, 3568, 3955, 3746, 4698, 4433, 3874, 4256, 3971, 3994, 3031, 5072,
      4602, 3966, 4036, 4411, 4099, 3915, 4013, 3699, 3709, 4306, 4326, 3835, 4236, 3803, 4154, 2962, 6394,
      4077, 3039, 4026, 4527, 3560, 4009, 4422, 4126, -720699, -149363, -1604325, 226763, -262718, 2747203, 99004, 1289536, 4290055,
      3034642, 6405291, 4338867, -2569196, -477565, -2741405, -336312, 1001, -1578, 918, 1469, 1432, -1834, -1508, -1345, -1065, -1635,
      897, -1010, -1090, -1327, -1217, 1393, 124280)

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
        if len(frame) != 160:   # the kernel reads 160 samples through a raw pointer: never past the buffer
            raise ValueError("frame must be 160 int16 samples")
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
