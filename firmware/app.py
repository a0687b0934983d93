# The hushmic board application: capture -> VAD -> endpointer -> mute gate -> framing -> USB CDC.
#
# Steady state (one 10 ms frame) allocates nothing: every buffer below is made once in __init__, and
# tests/test_firmware_vm.py runs step() under micropython.heap_lock(). Everything the host sends goes through
# on_command(), which can change settings and start/stop streaming but has no path to unmute: only the switch
# (mute.py) can do that.
import array
import gc
import json
import struct
import sys
import time

import machine
import micropython
from micropython import const

import capture
import endpoint
import kernels
import wire
from mute import MuteSwitch
from led import Led
import vad
from vad import HOLD_FRAMES, Vad

FIRMWARE_VERSION = "0.1.0"
_FRAME = const(160)
_PCM_BYTES = const(320)
_HEARTBEAT_MS = const(1000)
_PROBE_PERIOD_MS = const(30000)
_WDT_MS = const(8000)
_AUDIO_OFF = const(13)  # HEADER_LEN + AUDIO_HDR: where codec data starts in the body
_FNO_MASK = const(0x3FFFFFFF)
_MAINT_FLAG = "maint.flag"

CONFIG_KEYS = ("shift", "sensitivity", "preroll_ms", "hangover_ms", "min_speech_ms", "max_utterance_ms", "codec")


class App:
    def __init__(self, profile, link, ticks_ms=time.ticks_ms, ticks_diff=time.ticks_diff):
        self.profile = profile
        self.link = link
        self.ep = endpoint.Endpointer(detector_hold=HOLD_FRAMES)
        self.ring = None
        self.ring_n = 0
        self._set_ring(*self._new_ring(self.ep.ring_frames))  # first, while the heap is least fragmented
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self._clock_last = ticks_ms()
        self._up_fno = 0  # whole 10 ms frames since boot (30 bits: wraps after 124 days)
        self._up_rem = 0  # and the remaining 0..9 ms
        link.ts_fn = ticks_ms
        self.cap = capture.Capture(profile)
        self.sensitivity = 5
        self.vad = Vad(self.sensitivity)
        # A fault is a state the board runs in but should not: its name in status, its text in the error that follows
        # hello's reply, and the LED. (status carries the name only: its JSON must fit one frame.)
        self.fault = None
        self.fault_text = None
        if self.vad.kind != "viper":
            self.fault = "vad_plain_kernel"
            self.fault_text = ("the VAD runs its plain kernel (%s), about 10 ms per 10 ms frame on the chip: too slow "
                               "for real time. Redeploy with `hushmic deploy`" % (vad.KERNEL_ERROR,))
        self.enc = kernels.AdpcmEncoder()
        self.codec = wire.CODEC_ADPCM
        self.led = Led(profile)
        self.led.fault = self.fault is not None
        self.streaming = False
        self.settle = 0
        self.segment = 0
        self.in_segment = False
        self.last_sent_fno = 0
        self.fno = 0  # frame number (10 ms units since boot) of the frame in self.cur
        # stats
        self.frames_captured = 0
        self.drops = 0  # frames lost on the board: overruns and tx_dropped
        self.tx_dropped = 0  # audio frames dropped because the host was not reading
        self.wdt = None
        self.last_hb = ticks_ms()
        self.last_probe = 0
        self.mic_silent = wire.MIC_SILENT_UNKNOWN
        self.probe_peak = 0
        self.mute = MuteSwitch(profile, self._on_mute_edge)
        link.gate = self.mute  # queued audio is read against the switch again when it is written
        self._mute_reported = False
        self._on_command = self.on_command  # bound once: self.on_command would allocate a bound method per loop
        self.led.show(wire.STATE_MUTED if self.mute.muted else wire.STATE_IDLE)

    @property
    def frames_sent(self):
        """Audio frames written to the host (a queued frame counts once it is written; one the switch stopped never)."""
        return self.link.audio_written

    def _new_ring(self, ring_frames):
        """A pre-roll ring for the endpointer's ring_frames past frames plus the current one, and its slot views.
        Allocated while the old ring still exists, so a MemoryError (no PSRAM, big pre-roll) changes nothing."""
        n = ring_frames + 1
        ring = array.array("h", range(_FRAME * n))  # one allocation of the exact size (a bytearray would be a 2nd)
        kernels.fill(ring, 2 * _FRAME * n)
        mv = memoryview(ring)
        return ring, [mv[i * _FRAME:(i + 1) * _FRAME] for i in range(n)]

    def _set_ring(self, ring, slots):
        if self.ring is not None:
            kernels.fill(self.ring, 2 * _FRAME * self.ring_n)  # no audio left behind in freed memory
        self.ring = ring
        self.slots = slots
        self.ring_n = len(slots)
        self.ring_pos = 0

    # ---- time ----------------------------------------------------------------------------------------------
    def _clock(self):
        """Advance the uptime by the ticks elapsed since the last call. ticks_diff only spans +-2**29 ms (6.2 days),
        so the uptime is accumulated step by step (the loop calls this many times a second), never recomputed."""
        now = self._ticks_ms()
        t = self._up_rem + self._ticks_diff(now, self._clock_last)
        self._clock_last = now
        if t >= 10:
            self._up_fno = (self._up_fno + t // 10) & _FNO_MASK
            t %= 10
        self._up_rem = t

    def uptime_ms(self):
        """Milliseconds since boot, modulo 2**30 (12.4 days), for the heartbeat."""
        self._clock()
        return (self._up_fno * 10 + self._up_rem) & _FNO_MASK

    def now_fno(self):
        self._clock()
        return self._up_fno

    # ---- mute ----------------------------------------------------------------------------------------------
    def _on_mute_edge(self):
        # From the pin IRQ, on the first edge: stop the clock now. The main loop does the rest.
        self.cap.stop()

    def _enter_mute(self):
        """Everything that must happen when the switch mutes: no audio, buffers wiped, host told, LED red."""
        self.cap.stop()
        was_in_segment = self.in_segment
        self.ep.reset()
        self.vad.reset()
        self.enc.reset()
        kernels.fill(self.ring, 2 * _FRAME * self.ring_n)
        kernels.fill(self.link.body, len(self.link.body))
        fno = self.now_fno()
        self._send_mute(1, fno)
        if was_in_segment:
            self._send_seg_end(self.last_sent_fno + 1, True)
        self.link.pump(True)  # the mute message goes now, not behind the queue or the probe; queued audio is dropped
        self.led.show(wire.STATE_MUTED)
        self._probe(fno)

    def _probe(self, fno):
        """Mute integrity probe (capture.Capture.probe, 300 ms): is anything driving the mic's data line? Never audio."""
        state, peak = self.cap.probe()
        self.mic_silent = state
        self.probe_peak = peak
        self.last_probe = self._ticks_ms()
        self._send_mute(1, fno)

    def _send_mute(self, muted, fno):
        b = self.link.body
        struct.pack_into("<BBIH", b, wire.HEADER_LEN, muted, self.mic_silent, fno, self.probe_peak)
        self.link.send(wire.MSG_MUTE, 8)

    def _leave_mute(self):
        self.mic_silent = wire.MIC_SILENT_UNKNOWN
        self._send_mute(0, self.now_fno())
        if self.streaming:
            self._start_capture()
        else:
            self.led.show(wire.STATE_IDLE)

    # ---- streaming -----------------------------------------------------------------------------------------
    def _start_capture(self):
        self.cap.start()
        self.settle = capture.SETTLE_FRAMES
        self.fno = self.now_fno()
        self.ep.reset()
        self.vad.reset()
        self.led.show(wire.STATE_LISTENING)

    def _stop_capture(self):
        if self.in_segment:
            self._send_seg_end(self.last_sent_fno + 1, True)
        self.cap.stop()
        self.ep.reset()
        self.led.show(wire.STATE_MUTED if self.mute.muted else wire.STATE_IDLE)

    def _send_seg_start(self, first_fno):
        self.segment = (self.segment + 1) & 0xFFFF
        self.in_segment = True
        struct.pack_into("<HI", self.link.body, wire.HEADER_LEN, self.segment, first_fno & _FNO_MASK)
        self.link.send(wire.MSG_SEG_START, 6)

    def _send_seg_end(self, end_fno, truncated):
        self.in_segment = False
        struct.pack_into("<HIB", self.link.body, wire.HEADER_LEN, self.segment, end_fno & _FNO_MASK, 1 if truncated else 0)
        self.link.send(wire.MSG_SEG_END, 7)

    def _send_audio(self, slot, fno):
        if self.mute.muted:  # last line of defence: the IRQ may have fired while this frame was in flight
            return
        w = self.wdt
        if w is not None:  # a pre-roll burst is up to 45 writes: feed inside it, not only once per loop
            w.feed()
        if not self.link.audio_ok():  # the host is not reading: drop and count, do not block
            self.tx_dropped += 1
            self.drops += 1
            return
        b = self.link.body
        struct.pack_into("<IB", b, wire.HEADER_LEN, fno & _FNO_MASK, self.codec)
        if self.codec == wire.CODEC_ADPCM:
            n = self.enc.encode(slot, _FRAME, self.link.audio_mv)
        else:
            kernels.pcm_pack(b, _AUDIO_OFF, slot, _FRAME)
            n = _PCM_BYTES
        if self.link.send(wire.MSG_AUDIO, wire.AUDIO_HDR + n, self.mute):  # re-checked with no branch before the write
            # (sent, or queued behind earlier frames: a queued frame is checked against the switch again)
            self.last_sent_fno = fno

    def step(self):
        """Capture and process one frame. Allocation-free; the heap-lock test runs exactly this."""
        slot = self.slots[self.ring_pos]
        lost = self.cap.read(slot)
        if lost < 0 or self.mute.muted:  # stopped, or the switch went on during the read
            return
        if lost:
            self.drops += lost
            self.fno = (self.fno + lost) & _FNO_MASK
        fno = self.fno
        self.fno = (fno + 1) & _FNO_MASK
        self.frames_captured += 1
        if self.settle:
            self.settle -= 1
            kernels.fill(slot, _PCM_BYTES)
            return
        d = self.vad.process(slot)
        r = self.ep.step(d)
        n = r & endpoint.EP_COUNT
        if r & endpoint.EP_START:
            self._send_seg_start(fno - n + 1)
            self.led.show(wire.STATE_SPEECH)
        k = n - 1
        while k >= 0:
            p = self.ring_pos - k
            if p < 0:
                p += self.ring_n
            self._send_audio(self.slots[p], fno - k)
            k -= 1
        if r & endpoint.EP_END:
            self._send_seg_end(self.last_sent_fno + 1, r & endpoint.EP_TRUNC)
            self.led.show(wire.STATE_LISTENING)
        self.ring_pos += 1
        if self.ring_pos == self.ring_n:
            self.ring_pos = 0

    # ---- host commands -------------------------------------------------------------------------------------
    def hello(self):
        return {
            "firmware": FIRMWARE_VERSION,
            "protocol": "%d.%d" % (wire.PROTO_MAJOR, wire.PROTO_MINOR),
            "profile": self.profile["name"],
            "mic": self.profile["mic"],
            "rate": capture.RATE,
            "frame_ms": 10,
            "codec": wire.CODEC_NAMES[self.codec],
            "codecs": list(wire.CODEC_NAMES),
            "viper": kernels.HAVE_VIPER,
            "vad_kernel": self.vad.kind,
            "mic_power_cut": self.profile["mic_power_cut"],
            "tx_limit_bps": self.link.tx_rate,  # 0: unpaced; else the UART0 mirror's cap (stdout_uart_baud / 10)
            "muted": self.mute.muted,
            "platform": sys.platform,
            "micropython": "%d.%d.%d" % sys.implementation.version[:3],
            "mpy": getattr(sys.implementation, "_mpy", 0),  # .mpy version and native arch: what deploy compiles for
        }

    def status(self):
        return {
            "state": wire.STATE_NAMES[self.state()],
            "streaming": self.streaming,
            "muted": self.mute.muted,
            "mic_silent": (False, True, None)[self.mic_silent],
            "uptime_ms": self.uptime_ms(),
            "config": self.config(),
            "frames_captured": self.frames_captured,
            "frames_sent": self.frames_sent,
            "drops": self.drops + self.link.q_dropped,
            "overruns": self.cap.overruns,
            "rx_errors": self.link.rx_errors,
            "tx_dropped": self.tx_dropped + self.link.q_dropped,
            "slow_writes": self.link.slow_writes,
            "tx_limit_bps": self.link.tx_rate,
            "tx_queued_max": self.link.q_max,
            "vad_kernel": self.vad.kind,
            "fault": self.fault,
            "mem_free": self._mem_free(),
        }

    @staticmethod
    def _mem_free():
        """Free heap after a collection (a heartbeat's mem_free also counts garbage not yet collected)."""
        gc.collect()
        return gc.mem_free()

    def config(self):
        return {
            "shift": self.cap.shift,
            "sensitivity": self.sensitivity,
            "preroll_ms": self.ep.preroll_ms,
            "hangover_ms": self.ep.hangover_ms,
            "min_speech_ms": self.ep.min_speech_ms,
            "max_utterance_ms": self.ep.max_utterance_ms,
            "codec": wire.CODEC_NAMES[self.codec],
        }

    def apply_config(self, cfg):
        """Validate everything first, then apply: a bad value changes nothing. Raises ValueError naming the key."""
        if not isinstance(cfg, dict):
            raise ValueError("config must be a JSON object")
        for k in cfg:
            if k not in CONFIG_KEYS:
                raise ValueError("unknown config key '%s'" % k)
        for k, v in cfg.items():
            if k == "codec":
                if v not in wire.CODEC_NAMES:
                    raise ValueError("codec must be one of %s" % ", ".join(wire.CODEC_NAMES))
                rate = self.link.tx_rate
                if v == "pcm16" and rate and rate < wire.PCM16_WIRE_BPS:
                    raise ValueError("pcm16 needs %d bytes/s but this board sends at most %d (its MicroPython mirrors "
                                     "stdout to UART0 at %d baud); use adpcm" % (wire.PCM16_WIRE_BPS, rate, rate * 10))
            elif isinstance(v, bool) or not isinstance(v, int):
                raise ValueError("'%s' must be an integer" % k)
        if "shift" in cfg and not 8 <= cfg["shift"] <= 24:
            raise ValueError("'shift' must be 8..24")
        if "sensitivity" in cfg and not 0 <= cfg["sensitivity"] <= 9:
            raise ValueError("'sensitivity' must be 0..9")
        new_ep = None
        if any(k in cfg for k in ("preroll_ms", "hangover_ms", "min_speech_ms", "max_utterance_ms")):
            cur = self.config()
            new_ep = endpoint.Endpointer(  # raises ValueError on a bad value, before anything changes
                preroll_ms=cfg.get("preroll_ms", cur["preroll_ms"]),
                hangover_ms=cfg.get("hangover_ms", cur["hangover_ms"]),
                min_speech_ms=cfg.get("min_speech_ms", cur["min_speech_ms"]),
                max_utterance_ms=cfg.get("max_utterance_ms", cur["max_utterance_ms"]),
                detector_hold=HOLD_FRAMES,
            )
        ring = None
        if new_ep is not None:
            gc.collect()
            try:
                ring = self._new_ring(new_ep.ring_frames)
            except MemoryError:
                raise ValueError("not enough memory for a %d-frame pre-roll ring (%d bytes): use a shorter preroll_ms "
                                 "or min_speech_ms" % (new_ep.ring_frames + 1, 2 * _FRAME * (new_ep.ring_frames + 1)))
        # all valid, and the memory is there: apply
        if ring is not None and new_ep is not None:  # (a ring is made only for a new_ep: says so to pyright)
            if self.in_segment:
                self._send_seg_end(self.last_sent_fno + 1, True)
            self.ep = new_ep
            self._set_ring(*ring)
            ring = None
            gc.collect()
        if "shift" in cfg:
            self.cap.shift = cfg["shift"]
        if "sensitivity" in cfg:
            self.vad.set_sensitivity(cfg["sensitivity"])
            self.sensitivity = cfg["sensitivity"]
        if "codec" in cfg:
            self.codec = wire.CODEC_NAMES.index(cfg["codec"])

    def state(self):
        if self.mute.muted:
            return wire.STATE_MUTED
        if not self.streaming:
            return wire.STATE_IDLE
        return wire.STATE_SPEECH if self.in_segment else wire.STATE_LISTENING

    def _reply_json(self, reply_type, about, obj):
        """A JSON reply in one frame (compact). One that would not fit is an error, never a cut, unparsable JSON."""
        text = json.dumps(obj, separators=(",", ":"))
        if len(text) > wire.MAX_PAYLOAD:
            self.link.error(wire.ERR_INTERNAL, about, "reply of %d bytes does not fit a frame" % len(text))
            return
        self.link.send_bytes(reply_type, text)

    def _ack(self, mtype, seq, data: "bytes | str" = b""):  # send_bytes takes either
        self.link.send_bytes(wire.MSG_ACK, data, (mtype, seq & 0xFF, seq >> 8))

    def on_command(self, mtype, seq, payload, n):
        """Handle one host frame. Never raises, never unmutes."""
        link = self.link
        try:
            if mtype == wire.CMD_HELLO:
                self._reply_json(wire.MSG_HELLO, mtype, self.hello())
                if self.fault_text:
                    link.error(wire.ERR_INTERNAL, mtype, "fault: " + self.fault_text)
            elif mtype == wire.CMD_PING:
                self._ack(mtype, seq, bytes(payload[:min(n, 64)]))
            elif mtype == wire.CMD_STATUS:
                self._reply_json(wire.MSG_STATUS, mtype, self.status())
            elif mtype == wire.CMD_CONFIG:
                if self.mute.muted:
                    link.error(wire.ERR_MUTED, mtype, "muted by the physical switch: config is refused until it is off")
                    return
                try:
                    cfg = json.loads(bytes(payload[:n]))
                    self.apply_config(cfg)
                except (ValueError, TypeError, KeyError) as e:
                    link.error(wire.ERR_BAD_ARG, mtype, "bad config: %s" % e)
                    return
                self._ack(mtype, seq, json.dumps(self.config(), separators=(",", ":")))
            elif mtype == wire.CMD_START:
                if self.mute.muted:
                    link.error(wire.ERR_MUTED, mtype, "muted by the physical switch: streaming starts only when it is off")
                    return
                if not self.streaming:
                    self.streaming = True
                    self._start_capture()
                self._ack(mtype, seq)
            elif mtype == wire.CMD_STOP:
                if self.streaming:
                    self.streaming = False
                    self._stop_capture()
                self._ack(mtype, seq)
            elif mtype == wire.CMD_LEAVE:
                self._ack(mtype, seq)
                leave_to_repl()
            else:
                link.error(wire.ERR_UNKNOWN, mtype, "unknown message type 0x%02x" % mtype)
        except Exception as e:  # the board never crashes because of what the host sends
            try:
                link.error(wire.ERR_INTERNAL, mtype, "internal error: %r" % e)
            except Exception:
                pass

    # ---- the loop ------------------------------------------------------------------------------------------
    def heartbeat(self):
        struct.pack_into(
            wire.HEARTBEAT_FMT, self.link.body, wire.HEADER_LEN,
            self.uptime_ms() & _FNO_MASK, self.frames_captured & _FNO_MASK, self.frames_sent & _FNO_MASK,
            (self.drops + self.link.q_dropped) & _FNO_MASK, self.cap.overruns & _FNO_MASK, self.vad.noise_floor, gc.mem_free() & _FNO_MASK,
            self.state(),
        )
        self.link.send(wire.MSG_HEARTBEAT, struct.calcsize(wire.HEARTBEAT_FMT))

    def service(self):
        """Everything between frames: queued frames out, host commands, the mute switch, heartbeat, probe."""
        self.link.pump()
        self.link.poll(self._on_command)
        m = self.mute
        if m.muted:
            if not self._mute_reported:
                self._mute_reported = True
                self._enter_mute()
            elif self._ticks_diff(self._ticks_ms(), self.last_probe) >= _PROBE_PERIOD_MS:
                self._probe(self.now_fno())
            if m.poll():
                self._mute_reported = False
                self._leave_mute()
        else:
            m.poll()
        now = self._ticks_ms()
        if self._ticks_diff(now, self.last_hb) >= _HEARTBEAT_MS:
            self.last_hb = now
            self.heartbeat()

    def run(self, wdt=None):
        self.wdt = wdt
        while True:
            if wdt is not None:
                wdt.feed()
            self.service()
            if self.cap.running and not self.mute.muted:
                self.step()
            else:
                time.sleep_ms(10)


def leave_to_repl():
    """machine.WDT cannot be stopped: flag maintenance mode and reboot into it (no app, no watchdog)."""
    with open(_MAINT_FLAG, "w") as f:
        f.write("1")
    machine.reset()


def main(safe_mode_window_ms=2000, seq_start=0):
    import profile as board_profile
    from link import BoardLink

    try:
        prof = board_profile.load()
    except board_profile.ProfileError as e:
        print("hushmic: %s" % e)
        return
    micropython.kbd_intr(-1)  # 0x03 inside binary frames must not raise KeyboardInterrupt
    link = BoardLink(tx_bytes_per_s=prof["stdout_uart_baud"] // 10)
    link.seq = seq_start & 0xFFFF  # tests start just below the 16-bit wrap
    app = App(prof, link)
    boot_pin = machine.Pin(prof["boot_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
    wdt = None
    t0 = time.ticks_ms()
    try:
        # Safe mode: holding BOOT at reset enters the ROM bootloader, so BOOT is polled during the first 2 s
        # instead; the watchdog starts only after that window.
        while time.ticks_diff(time.ticks_ms(), t0) < safe_mode_window_ms:
            if boot_pin.value() == 0:
                micropython.kbd_intr(3)
                print("hushmic: BOOT held: safe mode, app not started")
                return
            app.service()
            if app.cap.running and not app.mute.muted:
                app.step()
            else:
                time.sleep_ms(10)
        wdt = machine.WDT(timeout=_WDT_MS)
        app.run(wdt)
    finally:
        micropython.kbd_intr(3)
