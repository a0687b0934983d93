"""`hushmic calibrate`: measure the noise floor and speech level and suggest the profile's `shift`.

The board converts each 32-bit I2S slot to int16 by a right shift (`shift`, 8..24); one step of shift is 6.02 dB.
MEMS mics differ (an INMP441 read naively sits near -60 dBFS), so the right shift depends on the mic and the room.

What is measured comes from the board itself, over the hushmic protocol:
- the board is configured to a known shift (its current one unless --shift) and the PCM codec (ADPCM would blur the
  peaks), and streams;
- noise floor: the VAD's own adaptive floor, sent in every heartbeat (dBFS x 10), during a quiet phase;
- speech level: the audio of the speech segments the board sends during a speaking phase: the 99.9th percentile of
  |sample| (a peak that one click cannot move), the RMS, and how many samples sit at full scale (clipping).

Suggestion: the shift that puts that speech peak at TARGET_PEAK_DBFS (-9, the middle of -12..-6 dBFS), so loud
speech still has headroom and quiet speech is well above the int16 floor: shift + round((peak - target) / 6.02).
If the measurement clipped, the true peak is unknown: the suggestion is at least two steps quieter and says to run
calibrate again at it. The board's settings are put back afterwards (config is not stored on the board).
"""
import math
import time

import numpy as np

from ..cli import emit_json, say
from ..errors import BadInput, HushmicError

NAME = "calibrate"
ORDER = 62
HELP = "measure noise floor and speech level; suggest the board profile's shift"
DESCRIPTION = """Measure your mic in your room and suggest the profile's `shift` (speech peaks at about -9 dBFS).

  hushmic calibrate --port /dev/ttyACM0 [--seconds 5]     # prompts: stay quiet, then speak
  hushmic calibrate --sim speech.wav --json               # unattended, on the simulated board

Put the suggested value in your profile's "shift" and run `hushmic deploy --profile ...`."""

TARGET_PEAK_DBFS = -9.0  # middle of the -12..-6 dBFS band the speech peaks should land in
DB_PER_SHIFT = 20 * math.log10(2)  # 6.0206 dB
SHIFT_MIN, SHIFT_MAX = 8, 24
FULL_SCALE = 32768.0
CLIP_LEVEL = 32700  # |sample| at or above this counts as clipped
WARMUP_S = 1.0  # the VAD's floor starts high and tracks down within ~0.1 s; ignore the first second


def add_arguments(p):
    where = p.add_mutually_exclusive_group()
    where.add_argument("--port", metavar="PORT", help="the board's serial port")
    where.add_argument("--sim", metavar="FILE.wav", help="run on the simulated board fed from this WAV (unattended)")
    p.add_argument("--seconds", type=float, default=None, metavar="N",
                   help="length of each phase (quiet, then speech) on a real board (default 5); on --sim, "
                        "use only the first N seconds of the WAV (default: all of it)")
    p.add_argument("--shift", type=int, default=None, metavar="S",
                   help=f"measure at this shift ({SHIFT_MIN}..{SHIFT_MAX}; default: the board's current one)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")


def dbfs(x):
    return round(20 * math.log10(max(float(x), 1e-9) / FULL_SCALE), 2)


def suggest(shift, peak_dbfs, clipped_fraction):
    """(suggested shift, reason) for a speech peak measured at `shift`."""
    steps = round((peak_dbfs - TARGET_PEAK_DBFS) / DB_PER_SHIFT)
    s = shift + steps
    clipped = clipped_fraction > 0.001
    if clipped:
        s = max(s, shift + 2)
    return max(SHIFT_MIN, min(SHIFT_MAX, s)), clipped


def analyse(samples, floors, shift):
    """samples: int16 speech audio measured at `shift`; floors: heartbeat noise floors in dBFS. Returns the result."""
    warnings = []
    res = {"shift_measured": shift, "target_peak_dbfs": TARGET_PEAK_DBFS, "speech_seconds": round(len(samples) / 16000, 2)}
    noise = float(np.median(floors)) if len(floors) else None
    res["noise_floor_dbfs"] = None if noise is None else round(noise, 1)
    if len(samples) < 1600:  # 0.1 s
        raise HushmicError("no speech reached the host: speak louder or closer, check the wiring (all zeros? the mic's "
                           "L/R pin must be tied to GND) and that the mute switch is off"
                           + (f"; noise floor {noise:.1f} dBFS" if noise is not None else ""))
    a = np.abs(samples.astype(np.int32))
    peak = float(np.percentile(a, 99.9))
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    clipped_fraction = float(np.mean(a >= CLIP_LEVEL))
    res.update(speech_peak_dbfs=dbfs(peak), speech_max_dbfs=dbfs(a.max()), speech_rms_dbfs=dbfs(rms),
               clipped_fraction=round(clipped_fraction, 5))
    s, clipped = suggest(shift, res["speech_peak_dbfs"], clipped_fraction)
    delta_db = -(s - shift) * DB_PER_SHIFT
    res["suggested_shift"] = s
    res["change_db"] = round(delta_db, 2)
    res["expected_peak_dbfs"] = round(res["speech_peak_dbfs"] + delta_db, 2)
    res["expected_noise_floor_dbfs"] = None if noise is None else round(noise + delta_db, 1)
    if noise is not None:
        res["snr_db"] = round(res["speech_rms_dbfs"] - noise, 1)
        if res["snr_db"] < 10:
            warnings.append(f"speech is only {res['snr_db']} dB above the noise floor: a noisy room, a distant "
                            "talker, or a mic problem")
    if clipped:
        warnings.append(f"{100 * clipped_fraction:.2f}% of speech samples were at full scale at shift {shift}: the true "
                        f"peak is unknown; run calibrate again with --shift {s}")
    if s in (SHIFT_MIN, SHIFT_MAX) and s != shift + round((res["speech_peak_dbfs"] - TARGET_PEAK_DBFS) / DB_PER_SHIFT):
        warnings.append(f"the ideal shift is outside {SHIFT_MIN}..{SHIFT_MAX}; {s} is the nearest")
    res["warnings"] = warnings
    return res


class _Collector:
    """Reads one board: heartbeat floors and segment audio, each tagged with the board's time (s since boot)."""

    def __init__(self, conn):
        self.conn = conn
        self.floors = []  # (t, dBFS)
        self.frames = []  # (t, int16 array)
        self.t = 0.0
        self.segments = 0
        self.muted = False

    def _handle(self, m):
        if m.kind == "heartbeat":
            self.t = m.fields["uptime_ms"] / 1000.0
            if m.fields["state"] in ("listening", "speech"):
                self.floors.append((self.t, m.fields["noise_floor"] / 10.0))
        elif m.kind == "audio":
            self.frames.append((m.fields["fno"] / 100.0, m.fields["samples"]))
        elif m.kind == "segment_start":
            self.segments += 1
        elif m.kind == "mute" and m.fields["muted"]:
            self.muted = True

    def pump(self, until_fn, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until_fn():
            for m in self.conn.read():
                self._handle(m)
            if self.muted:
                raise HushmicError("the mute switch is on: turn it off to calibrate")

    def wait_ack(self, about, timeout=3.0):
        """Wait for the board's ack of a command; every other message in the same reads is still recorded."""
        from ..protocol import wire

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ack = None
            for m in self.conn.read():
                if m.kind == "ack" and m.fields["about"] == about:
                    ack = m.fields
                elif m.kind == "error" and m.fields.get("about") == about:
                    if m.fields.get("code") == wire.ERR_MUTED:
                        raise HushmicError("the mute switch is on: turn it off to calibrate")
                    raise HushmicError(f"the board refused: {m.fields.get('message')}")
                else:
                    self._handle(m)
            if ack is not None:
                return ack
        raise HushmicError("the board did not acknowledge the command")


def _status(conn, timeout=3.0):
    conn.send("status")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in conn.read():
            if m.kind == "status":
                return m.fields
    raise HushmicError("the board did not answer a status request")


def measure(port, shift=None, quiet_s=5.0, speech_s=5.0, wav_seconds=None, prompts=True):
    """Run the measurement on the board at `port`. Real board: a quiet phase then a speaking phase, by wall clock.
    Simulated (wav_seconds set): one pass over the WAV, by the board's own clock; the floor and the speech come
    from the same pass (the floor is a minimum tracker, so speech does not lift it)."""
    import json

    from ..link import BoardConnection
    from ..protocol import wire

    conn = BoardConnection(port, name="calibrate")
    conn.open()
    try:
        hello = conn.handshake()
        if hello.get("muted"):
            raise HushmicError("the mute switch is on: turn it off to calibrate")
        st = _status(conn)
        original = st.get("config", {})
        s = original.get("shift") if shift is None else shift
        if not isinstance(s, int):
            raise HushmicError("the board did not report its shift")
        col = _Collector(conn)
        # PCM16 for exact levels, unless the board's output cannot carry it (an ESP32_GENERIC_S3 build mirrors stdout
        # to UART0 and is capped near 11.5 KB/s: hello's tx_limit_bps)
        limit = hello.get("tx_limit_bps") or 0
        codec = "pcm16" if not limit or limit >= wire.PCM16_WIRE_BPS else "adpcm"
        conn.send("config", json.dumps({"shift": s, "codec": codec}).encode())
        col.wait_ack(wire.CMD_CONFIG)
        conn.send("start")
        col.wait_ack(wire.CMD_START)
        t_start = col.t
        try:
            if wav_seconds is not None:
                end = wav_seconds - 0.05  # after the WAV the simulated mic reads zeros: not the room's floor
                col.pump(lambda: col.t >= end, timeout=60 + 3 * wav_seconds)
                floors = [f for t, f in col.floors if WARMUP_S <= t < end]
                frames = [x for t, x in col.frames if t < end]
            else:
                if prompts:
                    say(f"calibrate: stay QUIET for {quiet_s:g} s (measuring the room's noise floor)...")
                q0 = time.monotonic()
                col.pump(lambda: time.monotonic() - q0 >= quiet_s, timeout=quiet_s + 1)
                floors = [f for t, f in col.floors if t >= t_start + WARMUP_S] or [f for _, f in col.floors]
                n_quiet = len(col.frames)
                if prompts:
                    say(f"calibrate: now SPEAK normally, at your usual distance, for {speech_s:g} s...")
                s0 = time.monotonic()
                col.pump(lambda: time.monotonic() - s0 >= speech_s + 0.5, timeout=speech_s + 2)
                frames = [x for _, x in col.frames[n_quiet:]]
        finally:
            conn.send("stop")
            back = {k: original[k] for k in ("shift", "codec") if k in original}
            if back:
                conn.send("config", json.dumps(back).encode())
            time.sleep(0.05)
        samples = np.concatenate(frames) if frames else np.zeros(0, np.int16)
        res = analyse(samples, floors, s)
        res.update(profile=hello.get("profile"), mic=hello.get("mic"), segments=col.segments,
                   heartbeats=len(floors))
        return res
    finally:
        conn.close()


def run(args):
    if not args.port and not args.sim:
        raise BadInput("give the board's port with --port PORT, or --sim FILE.wav for the simulated board")
    if args.shift is not None and not SHIFT_MIN <= args.shift <= SHIFT_MAX:
        raise BadInput(f"--shift must be {SHIFT_MIN}..{SHIFT_MAX}")
    if args.seconds is not None and not args.seconds > 0:
        raise BadInput("--seconds must be > 0")
    if args.sim:
        from .. import audio_io
        from ..sim.launcher import SimBoard

        x = audio_io.read_wav_strict(args.sim)
        dur = len(x) / audio_io.RATE
        if args.seconds:
            dur = min(dur, args.seconds)
        if dur < 2.0:
            raise BadInput(f"{args.sim}: {dur:.1f} s of audio; calibrate needs at least 2 s with some speech")
        with SimBoard(args.sim, fast=True) as b:
            say(f"calibrate: simulated board on {args.sim} ({dur:.1f} s, unattended)")
            res = measure(b.port, shift=args.shift, wav_seconds=dur)
    else:
        secs = args.seconds or 5.0
        res = measure(args.port, shift=args.shift, quiet_s=secs, speech_s=secs)
    say(f"noise floor {res['noise_floor_dbfs']} dBFS, speech peak {res['speech_peak_dbfs']} dBFS "
        f"(rms {res['speech_rms_dbfs']}), measured at shift {res['shift_measured']} over {res['speech_seconds']} s "
        f"of speech")
    say(f"suggested shift: {res['suggested_shift']} (speech peaks at about {res['expected_peak_dbfs']} dBFS, "
        f"noise floor at {res['expected_noise_floor_dbfs']} dBFS). Put \"shift\": {res['suggested_shift']} in the "
        f"profile and run `hushmic deploy --profile ...`.")
    for w in res["warnings"]:
        say(f"warning: {w}")
    if args.json:
        emit_json(res)
    return 0
