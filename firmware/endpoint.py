"""hushmic endpointer: turns per-frame VAD decisions into transmitted speech segments.

Pure integer logic, no audio, no allocation in `step()`. The caller keeps a ring of the last `ring_frames` audio
frames (10 ms each) and, for every frame, calls `r = ep.step(is_speech)`:

    n = r & EP_COUNT      # frames to transmit now, ENDING WITH the current frame:
                          #   0 none; 1 the current frame; k > 1 the k-1 frames before it (from the ring,
                          #   oldest first) and then the current one. A frame is never transmitted twice.
    r & EP_START          # a segment begins with the first of those frames
    r & EP_END            # the segment ends after those frames (n may be 0)
    r & EP_TRUNC          # (with EP_END) it ended because it reached max_utterance_ms

Parameters (milliseconds, rounded up to whole 10 ms frames; `configure()` validates them, ValueError otherwise):

    preroll_ms        400  (250..2000)  audio kept from BEFORE the detector fired, so onsets are never clipped
    hangover_ms       300  (0..2000)    non-speech sent after the last speech frame; speech within it continues
                                        the segment. The segment ends right after the hangover's last frame.
    min_speech_ms      50  (10..1000)   speech must last this long before a segment starts (rejects clicks);
                                        the frames that proved it are sent too, after the pre-roll
    max_utterance_ms 30000 (1000..600000) a segment that reaches this length ends with EP_END|EP_TRUNC; if
                                        speech goes on, the next segment starts with the very next frame (so no
                                        audio is lost, and none is sent twice)

    detector_hold  (frames, default 0) how many frames the detector keeps saying speech after its evidence has
                   stopped (its hysteresis hold, vad.HOLD_FRAMES). Those frames were already sent as speech, so
                   they count towards the hangover: the segment ends hangover_ms after the detector's last
                   speech evidence, not hangover_ms after its held decision fell. Not a config key: it belongs
                   to the detector.

    ring_frames = preroll + min_speech - 1 (frames): how many past frames the caller's ring must hold. It changes
    with configure(); re-read it then.

State machine (S = the detector says speech this frame, N = it does not; counts are in frames):

            +---------+   S (run=1)    +-----------+  S, run reaches min_speech   +-----------+
    reset ->|  IDLE   |--------------->|  PENDING  |----------------------------->|  SPEECH   |<--+
            | send 0  |<---------------| send 0    |  send pre-roll + run, START  | send 1    |   |
            +---------+  N (too short) +-----------+  (min_speech = 1: straight   +-----------+   |
              ^   ^                                    from IDLE)                     | N         | S within
              |   |  length reaches max_utterance: send 1, END|TRUNC                  v           | hangover
              |   +---------------------------------------------------------  +-----------+       |
              |                                                                |  HANGOVER |-------+
              +----------------------------------------------------------------| send 1    |
                 hangover frames of N sent: END with the last of them          +-----------+
                 (hangover = 0: END with count 0 at the first N; the hangover counts from the detector's last
                 evidence, i.e. detector_hold frames before its first N)

The pre-roll sent at START never reaches back past the last frame already transmitted, nor before the reset.
"""
try:  # the fallback below is for CPython (the host); pyright holds it to micropython.const's positional-only signature
    from micropython import const  # pyright: ignore[reportAssignmentType]  # same behaviour as the fallback
except ImportError:  # CPython (host tools, tests)

    def const(x):
        return x

EP_START = const(1 << 16)
EP_END = const(1 << 17)
EP_TRUNC = const(1 << 18)
EP_COUNT = const(0xFFFF)

_IDLE = const(0)
_PENDING = const(1)
_SPEECH = const(2)
_HANG = const(3)

_FRAME_MS = const(10)


def _frames(ms, name, lo, hi):
    if not isinstance(ms, int) or isinstance(ms, bool):
        raise ValueError(name + " must be an int (ms)")
    if ms < lo or ms > hi:
        raise ValueError("%s must be %d..%d ms, got %d" % (name, lo, hi, ms))
    return (ms + _FRAME_MS - 1) // _FRAME_MS


class Endpointer:
    """Pre-roll, hangover, minimum speech length and maximum utterance length (see the module docstring)."""

    def __init__(self, preroll_ms=400, hangover_ms=300, min_speech_ms=50, max_utterance_ms=30000, detector_hold=0):
        if not isinstance(detector_hold, int) or detector_hold < 0 or detector_hold > 100:
            raise ValueError("detector_hold must be 0..100 frames")
        self._dhold = detector_hold
        self._pre = 0
        self._hang = 0
        self._min = 1
        self._max = 1
        self.ring_frames = 0
        self._avail = 0
        self.configure(preroll_ms, hangover_ms, min_speech_ms, max_utterance_ms)
        self.reset()

    def configure(self, preroll_ms=None, hangover_ms=None, min_speech_ms=None, max_utterance_ms=None):
        """Change any parameter (None keeps it). Validates all of them before changing any."""
        pre = self._pre if preroll_ms is None else _frames(preroll_ms, "preroll_ms", 250, 2000)
        hang = self._hang if hangover_ms is None else _frames(hangover_ms, "hangover_ms", 0, 2000)
        mn = self._min if min_speech_ms is None else _frames(min_speech_ms, "min_speech_ms", 10, 1000)
        mx = self._max if max_utterance_ms is None else _frames(max_utterance_ms, "max_utterance_ms", 1000, 600000)
        if mx < mn + pre:
            raise ValueError("max_utterance_ms must exceed preroll_ms + min_speech_ms")
        self._pre, self._hang, self._min, self._max = pre, hang, mn, mx
        self.ring_frames = pre + mn - 1
        if self._avail > self.ring_frames:
            self._avail = self.ring_frames

    @property
    def preroll_ms(self):
        return self._pre * _FRAME_MS

    @property
    def hangover_ms(self):
        return self._hang * _FRAME_MS

    @property
    def min_speech_ms(self):
        return self._min * _FRAME_MS

    @property
    def max_utterance_ms(self):
        return self._max * _FRAME_MS

    @property
    def in_segment(self):
        return self._state >= _SPEECH

    def reset(self):
        """Forget everything (mute, reconnect): no segment open, no past frames available for pre-roll."""
        self._state = _IDLE
        self._avail = 0     # past frames in the caller's ring not yet transmitted (<= ring_frames)
        self._run = 0       # speech frames in PENDING
        self._sil = 0       # non-speech frames in HANGOVER
        self._len = 0       # frames transmitted in the open segment

    def _start(self):
        # Send the run (run-1 past frames + this one) plus up to `pre` older frames, never re-sending any.
        n = self._pre + self._run
        if n > self._avail + 1:
            n = self._avail + 1
        self._state = _SPEECH
        self._avail = 0
        self._len = n
        if n >= self._max:
            self._state = _IDLE
            return n | EP_START | EP_END | EP_TRUNC
        return n | EP_START

    def step(self, is_speech):
        """One frame's decision in, what to transmit out (see the module docstring)."""
        st = self._state
        if st == _IDLE or st == _PENDING:
            if is_speech:
                self._run = self._run + 1 if st == _PENDING else 1
                if self._run >= self._min:
                    return self._start()
                self._state = _PENDING
            else:
                self._state = _IDLE
                self._run = 0
            if self._avail < self.ring_frames:
                self._avail += 1
            return 0
        # SPEECH or HANGOVER: the current frame is transmitted (or the segment ends before it)
        if st == _SPEECH:
            if not is_speech:
                self._state = _HANG
                self._sil = self._dhold + 1   # the detector's held frames were hangover already
                self._run = 0
                if self._sil > self._hang:
                    # the hangover is already spent: the segment ended with the previous frame; not this one
                    self._state = _IDLE
                    self._avail = 1 if self.ring_frames else 0
                    return EP_END
        else:
            self._sil += 1
            if is_speech:
                # speech is back only once it lasts min_speech (as for a start): a shorter blip in the hangover
                # is sent, but it does not restart the hangover
                self._run += 1
                if self._run >= self._min:
                    self._state = _SPEECH
                    self._run = 0
            else:
                self._run = 0
        self._len += 1
        if self._len >= self._max:
            self._state = _IDLE
            self._run = 0
            self._avail = 0
            return 1 | EP_END | EP_TRUNC
        if self._state == _HANG and self._sil == self._hang:
            # a speech run still short of min_speech goes on counting towards a new segment
            self._state = _PENDING if self._run else _IDLE
            self._avail = 0
            return 1 | EP_END
        return 1
