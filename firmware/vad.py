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
   (bench/train_vad.py, on generated clips that are not the dev set, with extra loss weight on the frames just
   after each segment's end and at its onset, so that it lets go promptly). Its output is a logit x 256.
5. Hysteresis: speech starts when the logit is above `on`, stops when it has been below `off` for `hold` + 1
   frames (HOLD_FRAMES = hold: the endpointer counts those held frames as part of its hangover).
   `set_sensitivity(level)` moves both thresholds (level 0 = fewest false alarms, 9 = most sensitive).

Units of `noise_floor`: dBFS x 10 of the full-band noise floor (an estimate from the L1 norm, so about +1 dB off
an RMS reading), e.g. -612 means -61.2 dBFS. It is a small int, for heartbeat stats.

Memory: state 320 words + 235 halfwords of scratch + ~1.6 K weights, all allocated in __init__. reset() zeroes
the state and the decimated sample history and sets the feature ring to all-zero features.

Cost: everything per frame happens in one kernel, `_kern` in vad_kernel.py. It is built twice from that source:
once with `@micropython.viper` (native code, 32-bit machine words on the S3), ahead of time by mpy-cross on deploy,
and once as plain bytecode (the "twin": the same text without the decorator, exec'd from the source; used
automatically when the VM has no viper emitter, e.g. the arm64 unix port). Both give bit-identical results (see
vad_kernel.py). `Vad.kind` and `hello`'s `vad_kernel` say which one runs; the app reports the plain one as a fault.
tests/test_vad_firmware.py checks the identity and the zero allocation.
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
HOLD_FRAMES = const(2)  # hysteresis hold; also endpoint.Endpointer(detector_hold=...): held after the evidence


# MLP weights: [nin, nh, q1, q2, 0, 0, 0, 0, W+4096 (nh rows of nin), C (nh), V (nh), c]; written by bench/train_vad.py.
# Trained on 407 generated clips (not dev), 51->16->1, loss x3 at segment ends, x3 at onsets; train F1 0.889 FA 0.049
_W = (51, 16, 7, 10, 0, 0, 0, 0, 3905, 4374, 4034, 3732, 3509, 3775, 3899, 4827, 3710,
      2920, 3981, 4096, 4287, 4383, 4030, 4138, 4055, 4108, 4657, 4236, 4066, 4113, 3969, 3859, 4581, 5819,
      3893, 3209, 4115, 4092, 3601, 4144, 4342, 4464, 3883, 4520, 3889, 3812, 4170, 4394, 3742, 2822, 3860,
      4947, 4381, 4077, 4036, 4030, 4044, 3945, 3655, 3757, 4375, 3881, 3666, 4331, 3938, 4193, 1384, 4871,
      4481, 2973, 4063, 4147, 4727, 4051, 4519, 4467, 3938, 4220, 3951, 3861, 4354, 3831, 4408, 2111, 4862,
      4137, 3252, 4064, 4223, 3967, 4053, 4045, 4236, 4035, 4462, 4129, 3832, 4357, 3827, 4574, 2599, 5342,
      3803, 3793, 4022, 4345, 3961, 3891, 3933, 4529, 4077, 4122, 4106, 4087, 4236, 4375, 4750, 3091, 5131,
      4344, 4162, 4194, 4318, 4566, 4667, 4269, 4217, 4006, 4034, 4044, 4052, 3974, 4089, 4306, 4260, 4528,
      4238, 3983, 4106, 4138, 4307, 4703, 4197, 4181, 4167, 4289, 3856, 4221, 4305, 4431, 4727, 4639, 3766,
      4412, 4585, 4133, 4155, 4054, 4628, 4021, 3819, 4133, 5078, 4267, 4082, 4030, 3590, 3681, 3799, 4493,
      4647, 3643, 4038, 4363, 4046, 3956, 3368, 4161, 4007, 4770, 4119, 3883, 3927, 3772, 3109, 3362, 3835,
      4583, 3882, 4041, 4203, 3996, 3973, 4207, 3888, 3897, 4915, 4102, 3814, 3993, 3941, 3325, 4279, 4758,
      4482, 3598, 4090, 4260, 3876, 3988, 4247, 4201, 5177, 4279, 4117, 4125, 4397, 4624, 3730, 4301, 5280,
      5232, 2850, 4148, 4212, 4344, 4006, 4693, 4137, 4419, 3734, 3680, 3704, 3982, 4123, 4099, 3370, 3306,
      4706, 4141, 4097, 3964, 3904, 3829, 3433, 3764, 4167, 3690, 3784, 3759, 3989, 4033, 4148, 3729, 3093,
      4360, 3988, 4057, 4099, 4179, 4105, 4382, 4235, 4093, 4337, 3661, 3934, 4549, 3917, 4255, 4231, 4334,
      4130, 4079, 4101, 4102, 4126, 3020, 3856, 4026, 4198, 4374, 3559, 4054, 4408, 4068, 4097, 4506, 4232,
      4117, 3764, 4087, 4075, 4210, 2849, 3959, 4349, 4540, 4290, 3406, 4014, 4346, 3978, 4117, 4319, 4262,
      4529, 3996, 4127, 3956, 4041, 1823, 4398, 4801, 3630, 3845, 3875, 3833, 3645, 3145, 3850, 4140, 3428,
      3826, 4133, 4077, 3949, 3951, 3649, 4558, 3490, 4089, 4284, 4148, 4219, 4047, 3476, 3331, 3531, 4638,
      4111, 3815, 4083, 4128, 4294, 3595, 4288, 3918, 4188, 4172, 4321, 4174, 4074, 3546, 3516, 3854, 3783,
      4394, 4010, 4096, 4106, 4120, 3764, 4137, 4535, 4097, 4237, 3852, 3680, 4190, 3615, 3373, 4977, 4002,
      4145, 3657, 4211, 4984, 4497, 3621, 4681, 4166, 4316, 4354, 4134, 4054, 4254, 3948, 2201, 5614, 3290,
      3525, 4024, 4044, 4721, 4805, 3497, 4308, 4151, 4285, 4339, 3849, 4024, 4175, 3813, 3064, 4352, 4269,
      4120, 4288, 4041, 4445, 3905, 3454, 4436, 4038, 4553, 4259, 4301, 4529, 4395, 4368, 2641, 5030, 4225,
      3816, 4505, 4150, 4473, 5477, 3759, 4235, 3960, 4067, 3615, 3774, 4013, 3843, 4020, 3297, 3680, 3899,
      4282, 4344, 4145, 4097, 3879, 3751, 4112, 3622, 4312, 3840, 3839, 4007, 3853, 3866, 3858, 3862, 3237,
      4594, 4102, 4126, 3809, 4264, 4225, 4230, 4205, 4047, 4087, 3526, 3934, 4612, 3791, 3653, 4181, 3783,
      3597, 3984, 4108, 4255, 3820, 4172, 4485, 4566, 4098, 4127, 3455, 4047, 4518, 3868, 3978, 4282, 4460,
      3357, 4066, 4074, 4101, 4014, 3724, 4254, 4012, 4333, 4255, 3530, 3939, 4350, 3483, 4788, 4541, 4684,
      4302, 4117, 4098, 4132, 4234, 3662, 4447, 3094, 4767, 3751, 3909, 3741, 3600, 4584, 4042, 4136, 2217,
      4244, 5911, 4123, 4032, 3780, 4306, 4324, 4694, 4709, 3732, 3888, 3930, 3559, 3751, 3822, 4371, 5126,
      3255, 3230, 4092, 4056, 4326, 4079, 4121, 4273, 4518, 3901, 3986, 4069, 4116, 4454, 4608, 4655, 5062,
      3265, 3998, 4164, 3944, 3814, 3786, 3724, 3676, 3775, 3713, 4126, 3653, 4040, 4218, 4130, 3035, 3240,
      4299, 4601, 4150, 3731, 4501, 4269, 3339, 3637, 3919, 3794, 4124, 3785, 4289, 4491, 4337, 3381, 3513,
      4406, 4264, 4085, 4003, 3956, 4403, 4193, 3995, 4021, 3930, 4246, 3959, 4443, 4099, 4235, 4719, 5115,
      4451, 2918, 4032, 4581, 3743, 4587, 4718, 5059, 3568, 4456, 3360, 4309, 4061, 4271, 2721, 5737, 2732,
      5085, 3145, 4160, 4141, 4122, 4985, 3603, 3170, 3743, 4496, 3558, 4484, 4117, 4253, 3427, 5479, 3419,
      4841, 3412, 4125, 4111, 4115, 5459, 3632, 3475, 3963, 4482, 3783, 4602, 3994, 4179, 3705, 5347, 3217,
      4582, 4022, 4111, 4140, 3863, 6009, 3630, 3417, 4106, 3213, 4050, 4212, 3826, 3764, 5306, 2459, 4369,
      4385, 4924, 4151, 4049, 4147, 4158, 4274, 4025, 4477, 3491, 4382, 4415, 3994, 4014, 4938, 3536, 3992,
      3982, 4922, 4090, 4083, 4139, 4460, 3840, 4234, 4739, 3654, 4233, 4548, 3988, 3846, 4945, 4230, 4102,
      4083, 4879, 4076, 4174, 3980, 4333, 4250, 4332, 4836, 3843, 4315, 4603, 4004, 4622, 2140, 4451, 3320,
      3833, 4838, 4065, 4158, 4545, 4036, 3714, 4238, 4531, 3726, 4000, 4183, 3590, 3901, 3843, 4442, 3360,
      4331, 4455, 4083, 4204, 3904, 3995, 3958, 4270, 4673, 3674, 4014, 4283, 3601, 3759, 4179, 4429, 3999,
      4774, 3992, 4112, 4288, 3893, 4084, 3764, 4403, 4059, 3861, 3986, 3850, 4168, 3929, 3216, 1624, 4559,
      4371, 3637, 4066, 4382, 3989, 4561, 4201, 4127, 4125, 4279, 4089, 3982, 4230, 3975, 4026, 3129, 4830,
      4677, 3394, 4104, 4551, 4302, 4135, 4341, 4190, 4065, 4128, 4066, 3912, 4323, 4090, 4817, 3356, 5273,
      4283, 3340, 4045, 4300, 4001, 3904, 4180, 3940, 881812, 1967314, -3764998, 1070358, 607348, 1265943, 3618961, -43980, 678610,
      956578, 385576, 322090, 49804, -1957113, 277017, 827853, 1001, -1635, 779, 1431, 1864, -2421, -1564, -1943, -1460, -1445,
      1580, 1313, -1634, -1478, -1173, 1248, 122691)

_KERNEL_MODULE = "vad_kernel"


def _plain_source():
    """vad_kernel.py's text without the viper decorator, found on sys.path (the simulated board, the host). A board
    holds only the compiled .mpy: there the plain twin does not exist, which is fine, it is too slow for real time."""
    for d in sys.path:
        try:
            with open((d + "/" if d else "") + _KERNEL_MODULE + ".py") as f:
                return f.read().replace("@micropython.viper\n", "")
        except OSError:
            pass
    raise ImportError("no %s.py source for the plain VAD kernel" % _KERNEL_MODULE)


_kernels = {}
KERNEL_ERROR = None  # why the viper kernel is not available (None when it is)


def _compile(kind):
    """The kernel as 'viper' (the ahead-of-time native module) or 'plain'; raises where that kind cannot load."""
    k = _kernels.get(kind)
    if k is None:
        if kind == "viper":
            from vad_kernel import _kern as k
        elif kind == "plain":
            g = {}
            exec(_plain_source(), g)
            k = g["_kern"]
        else:
            raise ValueError("kernel must be 'viper' or 'plain'")
        _kernels[kind] = k
    return k


def kernel_kind():
    """'viper' where the native kernel loads, else 'plain' (KERNEL_ERROR then says why)."""
    global KERNEL_ERROR
    try:
        _compile("viper")
        KERNEL_ERROR = None
        return "viper"
    except Exception as e:  # SyntaxError: no native emitter (arm64 unix port); ValueError: .mpy for another arch
        KERNEL_ERROR = "%s: %s" % (type(e).__name__, e)
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
        st[_ST_HOLDN] = HOLD_FRAMES

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
        # Stub gap: viper turns any buffer (array, bytearray, memoryview) into a ptr32/ptr16 argument at the call, but
        # the stubs declare ptr32/ptr16 as int subclasses, so pyright calls an array "not assignable".
        return self._k(frame, self._st, self._w, self._sc)  # pyright: ignore[reportArgumentType]  # viper ptr args

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
