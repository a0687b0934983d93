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
   MLP sees [f(t), f(t-40 ms), f(t-100 ms)]: 51 -> 16 ReLU -> 1, integer weights trained offline with numpy
   (bench/train_vad.py, on generated clips that are not the dev set). Its output is a logit x 256.
5. Hysteresis: speech starts when the logit is above `on`, stops when it has been below `off` for `hold` + 1
   frames (HOLD_FRAMES = hold: the endpointer counts those held frames as part of its hangover).
   `set_sensitivity(level)` moves both thresholds (level 0 = fewest false alarms, 9 = most sensitive).

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
HOLD_FRAMES = const(_HOLD)  # for endpoint.Endpointer(detector_hold=...): frames held after the evidence stops

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
# Trained on 407 generated clips (not the dev set), 51->16->1; train F1 0.893 FA 0.057
_W = (51, 16, 7, 10, 0, 0, 0, 0, 3966, 4028, 3956, 3681, 3504, 3518, 4422, 5013, 4120,
      2796, 3546, 4081, 3956, 4301, 3913, 3457, 4045, 4031, 4106, 3965, 3726, 4046, 4003, 4177, 3571, 2800,
      4430, 4519, 4007, 4036, 4344, 4025, 4077, 4330, 4503, 4746, 4213, 4212, 4683, 4824, 4338, 3701, 4918,
      5518, 4501, 4101, 4309, 3933, 3976, 4462, 4333, 4423, 4054, 4416, 4190, 4166, 4095, 4965, 3384, 4410,
      3734, 4648, 4024, 4133, 4181, 3724, 4445, 4819, 4611, 3659, 4262, 4291, 4091, 3823, 5078, 3529, 4081,
      3927, 4635, 4070, 4082, 4053, 3420, 4073, 4378, 4587, 3857, 4183, 3973, 4000, 3750, 5054, 2751, 4440,
      4558, 4930, 4101, 3920, 4200, 2713, 4314, 4648, 4004, 4535, 4527, 4084, 4187, 4221, 5079, 3630, 2724,
      5086, 5060, 4088, 4220, 3782, 4340, 4318, 4240, 4077, 4657, 4489, 4196, 3984, 4000, 4767, 4251, 3666,
      5004, 4929, 4087, 4222, 3923, 4298, 4232, 4230, 4203, 4710, 4123, 4409, 4343, 4185, 3693, 3604, 3628,
      5131, 4609, 4108, 4062, 4071, 3976, 4355, 3829, 4811, 4575, 4221, 3981, 3583, 3241, 3976, 3939, 2866,
      4876, 5550, 4007, 4080, 3582, 4154, 3450, 4753, 4660, 4397, 4245, 3984, 3543, 3107, 3674, 4237, 4495,
      4009, 4485, 4088, 4067, 3838, 4069, 4049, 4359, 4623, 4595, 4227, 3871, 3651, 3603, 3681, 4171, 4122,
      4120, 5007, 4117, 3979, 3931, 3759, 4214, 3802, 4661, 4177, 4326, 4060, 4096, 4024, 4188, 4998, 5915,
      3958, 2529, 4072, 4442, 4029, 3929, 4801, 4323, 4238, 4061, 4297, 4028, 4288, 4087, 4213, 4111, 4663,
      4267, 3768, 4120, 4071, 3980, 3694, 4036, 3958, 3926, 3870, 4156, 3796, 4194, 4163, 4467, 2699, 1830,
      5118, 5444, 4099, 3794, 4249, 3888, 3737, 3725, 3914, 4098, 3630, 3792, 4321, 3568, 4318, 3962, 4551,
      4020, 3883, 4090, 4167, 4245, 2995, 4360, 3994, 4068, 4360, 3720, 4129, 4358, 4006, 3867, 4002, 4412,
      3994, 3863, 4096, 4097, 4408, 2778, 3997, 4072, 4329, 4259, 3628, 4156, 4359, 3909, 4087, 3913, 4303,
      3960, 4070, 4071, 4110, 4451, 1787, 4399, 4375, 3642, 4486, 3462, 4127, 4544, 4049, 3849, 4481, 4489,
      4182, 2957, 4088, 3895, 3467, 4671, 3343, 4472, 3717, 4652, 3467, 4099, 4485, 4217, 3984, 4495, 3690,
      4424, 3640, 4071, 4032, 4442, 4415, 3811, 4271, 3790, 4549, 3661, 4055, 4401, 4143, 4171, 4428, 3385,
      4554, 4190, 4102, 3994, 4268, 4692, 3497, 4581, 3847, 4346, 4134, 3840, 4230, 3859, 3337, 5182, 3933,
      3877, 3532, 4206, 4859, 5159, 3549, 4635, 4132, 3875, 4342, 4229, 4210, 4215, 4132, 2383, 4194, 3781,
      3975, 3761, 4094, 4558, 4202, 3364, 4308, 4074, 3898, 4325, 3953, 4151, 4129, 4056, 3230, 3435, 4348,
      4105, 3851, 4027, 4445, 3716, 3421, 4256, 3988, 4223, 3898, 3789, 4006, 3832, 3213, 3343, 2365, 5001,
      4939, 4123, 4123, 4006, 4153, 3807, 4336, 4143, 4239, 3761, 3782, 3965, 3737, 3691, 3673, 2982, 4432,
      4630, 3882, 4106, 4012, 3876, 3609, 4236, 4276, 4471, 4089, 3936, 4009, 3857, 3694, 3404, 3151, 4032,
      4952, 4069, 4206, 3853, 3407, 3371, 4427, 4530, 3917, 4223, 3819, 4211, 4651, 4168, 3740, 4640, 4366,
      3642, 3487, 4067, 4215, 4121, 4010, 4702, 3846, 3566, 4029, 3475, 4150, 4379, 3934, 3789, 3688, 4083,
      4082, 3760, 4068, 4272, 3596, 3794, 4447, 3504, 3688, 4180, 3689, 4041, 4141, 3325, 5052, 4713, 4535,
      4390, 3810, 4073, 4360, 4100, 4179, 4449, 2962, 4281, 3211, 4090, 3614, 4397, 4788, 4171, 5075, 3473,
      3428, 5386, 4167, 3879, 4449, 4017, 4465, 4064, 4301, 3213, 4232, 3753, 4254, 4432, 4545, 4994, 4647,
      3226, 3997, 4164, 4112, 3871, 4074, 4132, 4321, 4131, 3243, 4069, 3746, 4575, 4590, 5203, 5318, 5025,
      3408, 3522, 4131, 4068, 4182, 3924, 3819, 4329, 4842, 4264, 3922, 3999, 4351, 4616, 4270, 4199, 5609,
      4748, 3130, 4121, 4007, 3351, 4178, 3959, 4394, 4500, 3773, 3500, 3500, 3966, 4661, 4149, 3370, 2420,
      4792, 4620, 4043, 4010, 4180, 3932, 3746, 3813, 4265, 3694, 3455, 3454, 3754, 4283, 4058, 4831, 3103,
      3789, 3963, 4020, 4375, 3785, 4223, 4951, 4472, 3847, 4059, 4441, 4657, 3582, 3782, 4733, 5006, 3395,
      4904, 4753, 4152, 3961, 2556, 4155, 4172, 3543, 4096, 4168, 4637, 4867, 3807, 3902, 4207, 5477, 3677,
      4827, 4562, 4113, 4156, 3857, 4325, 4150, 3645, 4171, 3987, 4659, 4774, 3520, 3746, 3818, 5382, 3826,
      4756, 5246, 4158, 3967, 3111, 4528, 4107, 3711, 3848, 3678, 3910, 3927, 3632, 3350, 5450, 4541, 3635,
      3907, 4450, 4088, 4151, 4506, 3950, 4356, 3696, 4197, 3932, 4231, 4242, 3881, 3760, 4892, 3704, 3702,
      3812, 5074, 4054, 4107, 4161, 4282, 3893, 3915, 4832, 4420, 4388, 4697, 4217, 4054, 4123, 3813, 3662,
      3884, 5556, 3997, 4398, 4529, 4335, 4059, 4274, 4369, 3609, 3895, 4756, 4142, 4799, 2650, 7631, 1608,
      4024, 4910, 4108, 4296, 5145, 4411, 3107, 3950, 4255, 3671, 3790, 4533, 3989, 4297, 3521, 6303, 2081,
      4601, 4568, 4153, 4129, 3685, 4409, 3796, 4185, 4460, 3595, 3750, 4627, 3910, 4076, 3602, 5873, 2086,
      4756, 4331, 4152, 3988, 3972, 4570, 3896, 3942, 3768, 4462, 4472, 3958, 4252, 3825, 4185, 3449, 5367,
      3984, 3371, 4062, 4436, 4084, 4353, 3660, 3806, 3734, 4662, 4385, 3979, 4344, 3975, 3839, 3177, 4211,
      5197, 4016, 4062, 4362, 3842, 3905, 4092, 3667, 3679, 4336, 4317, 3943, 4239, 3688, 4416, 3186, 6063,
      4523, 3048, 4046, 4409, 3885, 4001, 4415, 4267, -423322, -1465063, -3772294, 382762, -324256, 2375078, 251020, 1232298, 3777196,
      1411769, -1743116, 782170, -2212283, -1697714, -1045539, -317837, 898, -1631, 872, 1255, 1287, -2057, -1444, -1408, -1155, -1275,
      1235, 1186, -1009, -1338, -1439, 1303, 76781)

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
