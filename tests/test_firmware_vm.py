"""Firmware tests that run inside the real MicroPython VM (unix port): golden vectors on the board side, viper
kernels against their plain twins, the audio loop under heap_lock(), tick wraps and overrun inference."""
import json
import subprocess
from pathlib import Path

import pytest

from vmtools import FAKES, FIRMWARE, MPY_CROSS, needs_vm, run_vm

pytestmark = needs_vm
GOLDEN = Path(__file__).parent / "golden" / "wire_vectors.json"
WAV = Path("/work/shared/eval/vad/dev_000.wav")
REPO = Path(__file__).resolve().parents[1]
SPEECH_WAV = REPO / "tests" / "fixtures" / "sim" / "speech.wav"


def _speech_wav():
    """A WAV with speech for the loop tests: the committed fixture (shared/ may be absent on a user's machine)."""
    return str(SPEECH_WAV)


def test_board_reproduces_golden_vectors_with_both_kernel_sets():
    out = run_vm(f"""
import json, array, struct
import wire, kernels, adpcm
from link import BoardLink
V = json.load(open({str(GOLDEN)!r}))

class Sink:
    def __init__(self): self.data = bytearray()
    def write(self, buf, off=0, n=None):
        self.data.extend(bytes(buf[off:off + n]))
    def readinto(self, b): return 0

import sys
fails = 0
for impl in ("plain", "viper"):
    if impl == "viper" and not kernels.HAVE_VIPER:
        continue
    kernels.crc16 = getattr(kernels, "crc16_" + impl)
    kernels.cobs_encode = getattr(kernels, "cobs_encode_" + impl)
    for v in V["frames"]:
        s = Sink()
        link = BoardLink(sys.stdin.buffer, s)
        link.ts_fn = lambda v=v: v["ts"]
        link.seq = v["seq"]
        p = bytes.fromhex(v["payload"])
        link.body[8:8 + len(p)] = p
        link.send(v["type"], len(p))
        if s.data.hex() != v["wire"]:
            fails += 1; print("FAIL", impl, v["name"])
    # ADPCM encoder, frame by frame with the carried state
    x = array.array("h", V["adpcm"]["samples"])
    st_l = [0, 0]; st_h = array.array("h", [0, 0])
    for k, hx in enumerate(V["adpcm"]["frames"]):
        out = bytearray(84)
        seg = x[160 * k:160 * (k + 1)]
        if impl == "plain": adpcm.encode(seg, 160, out, st_l)
        else: kernels.adpcm_encode_viper(seg, 160, out, st_h)
        if out.hex() != hx:
            fails += 1; print("FAIL adpcm", impl, k)
# receive side: host->board vectors arrive as the right commands
got = []
link = BoardLink(sys.stdin.buffer, Sink())
for v in V["frames"]:
    if v["type"] < 0x40: continue
    w = bytes.fromhex(v["wire"])
    link.rx[:len(w) - 1] = w[:-1]
    link._frame(len(w) - 1, lambda t, seq, p, n: got.append((t, seq, bytes(p[:n]).hex())))
exp = [(v["type"], v["seq"], v["payload"]) for v in V["frames"] if v["type"] >= 0x40]
if got != exp:
    fails += 1; print("FAIL rx", got, exp)
print("fails", fails)
""")
    assert out.strip().endswith("fails 0"), out


def test_viper_kernels_match_plain_twins_on_random_input():
    out = run_vm("""
import kernels, adpcm, array, random
if not kernels.HAVE_VIPER:
    print("no viper"); raise SystemExit
random.seed(7)
bad = 0
for t in range(60):
    raw = bytearray(640)
    for i in range(640): raw[i] = random.getrandbits(8)
    o1 = array.array('h', [0]*160); o2 = array.array('h', [0]*160)
    dc = random.getrandbits(20) - (1 << 19)
    s1 = array.array('i', [dc]); s2 = array.array('i', [dc & 0x3FFFFFFF])
    sh = 8 + t % 17
    if kernels.convert_plain(raw, 160, o1, sh, s1) != kernels.convert_viper(raw, 160, o2, sh, s2) or o1 != o2: bad += 1
    n = random.randint(0, 520); src = bytearray(n)
    for i in range(n): src[i] = random.choice((0, 1, 255, random.getrandbits(8)))
    d1 = bytearray(n + 10); d2 = bytearray(n + 10)
    if kernels.cobs_encode_plain(src, n, d1) != kernels.cobs_encode_viper(src, n, d2) or d1 != d2: bad += 1
    if kernels.crc16_plain(src, n) != kernels.crc16_viper(src, n): bad += 1
    x = array.array('h', [random.getrandbits(16) - 32768 if t % 3 == 0 else random.getrandbits(11) - 1024 for _ in range(160)])
    e1 = bytearray(84); e2 = bytearray(84); st = [0, 0]; sh2 = array.array('h', [0, 0])
    for f in range(3):
        adpcm.encode(x, 160, e1, st); kernels.adpcm_encode_viper(x, 160, e2, sh2)
        if e1 != e2: bad += 1
    b1 = bytearray(320); b2 = bytearray(320)
    kernels.pcm_pack_plain(b1, 0, x, 160); kernels.pcm_pack_viper(b2, 0, x, 160)
    if b1 != b2: bad += 1
    c1 = bytearray(n + 10); c2 = bytearray(n + 10)
    k = random.randint(0, n); off = random.randint(0, n - k)
    kernels.copy_plain(c1, 3, src, off, k); kernels.copy_viper(c2, 3, src, off, k)
    if c1 != c2 or bytes(c1[3:3 + k]) != bytes(src[off:off + k]): bad += 1
print("bad", bad)
""")
    assert out.strip() in ("bad 0", "no viper"), out


LOOP_SCRIPT = """
import micropython, gc, array, sys
import profile, app, wire, time
prof = profile.validate({prof})
class Sink:
    def __init__(self):
        self.n = 0
        self.frames = 0
    def write(self, buf, off, n):
        self.n += n
        self.frames += 1
    def readinto(self, b):
        return 0
sink = Sink()
from link import BoardLink
link = BoardLink(sys.stdin.buffer, sink, tx_bytes_per_s={rate})
a = app.App(prof, link)
a.codec = wire.{codec}
a.streaming = True
a._start_capture()
for i in range({warm}):
    a.step()
gc.collect()
sent0 = a.frames_sent
seg0 = a.segment
micropython.heap_lock()
try:
    for i in range({n}):
        if {rate}:
            link.pump()   # the paced path: frames wait in the queue and go out as the UART credit allows
        a.step()
finally:
    micropython.heap_unlock()
print("OK", a.frames_sent - sent0, a.segment - seg0, a.cap.overruns, a.drops, a.fno)
print("QMAX", link.q_max)
"""


@pytest.mark.parametrize("codec,rate", [("CODEC_ADPCM", 0), ("CODEC_PCM16", 0), ("CODEC_ADPCM", 11520)],
                         ids=["adpcm", "pcm16", "adpcm-paced"])
def test_audio_loop_allocates_nothing_under_heap_lock(codec, rate):
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(LOOP_SCRIPT.format(prof=repr(prof).replace("True", "True"), codec=codec, warm=50, n=1100, rate=rate),
                 paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7,
                                                      "uart_mirror_baud": 115200 if rate else 0},
                 timeout=180)
    ok = [l for l in out.splitlines() if l.startswith("OK")]
    assert ok, out
    _, sent, segs, overruns, drops, fno = ok[0].split()
    # the locked stretch really exercised speech: frames were sent and segments opened/closed under the lock
    assert int(sent) > 100 and int(segs) >= 1, out
    assert int(overruns) == 0 and int(drops) == 0
    if rate:
        assert "QMAX" in out and int(out.split("QMAX")[1].split()[0]) > 0, out  # the queue was used under the lock


DIGEST_SCRIPT = """
import sys, hashlib, kernels, profile, app, wire
prof = profile.validate({prof})
class Sink:
    def __init__(self): self.h = hashlib.sha256(); self.n = 0
    def write(self, buf, off, n):
        self.h.update(bytes(buf[off:off + n])); self.n += n
    def readinto(self, b): return 0
from link import BoardLink
sink = Sink()
link = BoardLink(sys.stdin.buffer, sink)
a = app.App(prof, link)
a.streaming = True
a._start_capture()
for i in range(1200):
    a.step()
import binascii
print("DIGEST", kernels.HAVE_VIPER, sink.n, binascii.hexlify(sink.h.digest()).decode())
"""


def test_firmware_falls_back_to_plain_twins_without_viper_and_sends_the_same_bytes(tmp_path):
    """The arm64 unix VM has no viper emitter: importing kernels_viper fails there. Simulate that with a
    kernels_viper that does not compile, and check the board's whole output is byte-identical."""
    broken = tmp_path / "noviper"
    broken.mkdir()
    (broken / "kernels_viper.py").write_text("def broken(:\n    pass\n")  # a SyntaxError at import, as there
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    cfg = {"wav": _speech_wav(), "fast": True}
    outs = []
    for paths in ((FAKES, FIRMWARE), (broken, FAKES, FIRMWARE)):
        out = run_vm(DIGEST_SCRIPT.format(prof=repr(prof)), paths=paths, sim_config=cfg, timeout=180)
        outs.append([l for l in out.splitlines() if l.startswith("DIGEST")][0].split())
    (_, v1, n1, d1), (_, v2, n2, d2) = outs
    assert v1 == "True" and v2 == "False"
    assert int(n1) > 50000 and (n1, d1) == (n2, d2)


def test_ticks_wrap_keeps_frame_numbers_continuous_and_counts_no_overrun():
    """ticks_ms and ticks_us start just below their 2**30 wraps; both wrap inside the run."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(LOOP_SCRIPT.format(prof=repr(prof), codec="CODEC_ADPCM", warm=0, n=600, rate=11520),
                 paths=(FAKES, FIRMWARE),  # paced: the UART credit is refilled by ticks_diff across the wrap too
                 sim_config={"wav": _speech_wav(), "fast": True, "uart_mirror_baud": 115200,
                             "ticks_ms_start": (1 << 30) - 2500,
                             "ticks_us_start": (1 << 30) - 3_000_000}, timeout=180)
    ok = [l for l in out.splitlines() if l.startswith("OK")]
    assert ok, out
    _, sent, segs, overruns, drops, fno = ok[0].split()
    assert int(overruns) == 0 and int(drops) == 0
    assert int(fno) == 600  # one frame number per 10 ms, across both wraps


def test_overrun_is_inferred_from_the_clock():
    """A reader that falls 0.5 s behind a 200 ms DMA buffer has lost audio: the capture counts it."""
    out = run_vm("""
import capture, array
class I2SStub:
    def readinto(self, mv): return 640
now = [(1 << 30) - 20000]   # starts just below the ticks_us wrap
def ticks_us(): return now[0] & ((1 << 30) - 1)
def ticks_diff(a, b):
    h = 1 << 29
    return ((a - b + h) & ((1 << 30) - 1)) - h
prof = {"shift": 16, "sck": 4, "ws": 5}
c = capture.Capture(prof, ticks_us=ticks_us, ticks_diff=ticks_diff)
c.i2s = I2SStub(); c.last_us = ticks_us()
out = array.array('h', [0] * 160)
lost = 0
for i in range(50):
    now[0] += 10000
    lost += c.read(out)
print("steady", lost, c.overruns)
now[0] += 700000   # the loop stalled for 0.7 s
lost = c.read(out)
print("stall", lost, c.overruns)
""", paths=(FIRMWARE,))
    lines = dict(l.split(" ", 1) for l in out.strip().splitlines())
    assert lines["steady"] == "0 0"
    lost, total = map(int, lines["stall"].split())
    assert lost == total and 49 <= lost <= 51  # 0.7 s behind - 0.2 s of buffer = 0.5 s = ~50 frames


def test_uptime_and_frame_numbers_stay_continuous_past_six_days():
    """ticks_diff only spans +-2**29 ms (6.2 days): the uptime must be accumulated, not recomputed from boot."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(f"""
import sys, profile, app
from link import BoardLink
class Sink:
    def write(self, buf, off, n): pass
    def readinto(self, b): return 0
now = [(1 << 30) - 5000]
def ticks_ms(): return now[0] & ((1 << 30) - 1)
def ticks_diff(a, b):
    h = 1 << 29
    return ((a - b + h) & ((1 << 30) - 1)) - h
a = app.App(profile.validate({prof!r}), BoardLink(sys.stdin.buffer, Sink()), ticks_ms=ticks_ms, ticks_diff=ticks_diff)
total = 0
bad = 0
for step in range(8 * 24 * 6):          # 8 days in 10-minute steps, plus an odd 7 ms each time
    now[0] += 600007
    total += 600007
    if a.now_fno() != (total // 10) & ((1 << 30) - 1):
        bad += 1
print("bad", bad, a.now_fno(), total // 10)
""", paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True})
    bad, fno, want = out.strip().splitlines()[-1].split()[1:]
    assert bad == "0" and fno == want, out


def test_mute_wipes_the_preroll_ring_and_frame_buffers():
    """On the first edge towards mute every audio buffer is zeroed, so nothing from before the mute can leak later."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(f"""
import sys, profile, app
from link import BoardLink
class Sink:
    def write(self, buf, off, n): pass
    def readinto(self, b): return 0
a = app.App(profile.validate({prof!r}), BoardLink(sys.stdin.buffer, Sink()))
a.streaming = True
a._start_capture()
for i in range(150):          # 1.5 s of speech: the ring and buffers hold audio
    a.step()
before = sum(1 for v in a.ring if v) + sum(1 for v in a.cap.raw if v)
while not a.mute.muted:       # the switch goes on at 1.6 s (schedule below)
    a.step()
a.service()                   # the main loop's reaction
# (the frame body is wiped too, but the mute, probe and heartbeat frames are written into it right after)
after = sum(1 for v in a.ring if v) + sum(1 for v in a.cap.raw if v) + sum(1 for v in a.enc.state_h if v)
print("RESULT", before, after, a.cap.running, a.led.state)
""", paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True, "mute": [[1.6, 100.0]], "mute_pin": 7})
    _, before, after, running, led = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert int(before) > 1000, out
    assert int(after) == 0 and running == "False" and led == "3", out  # 3 = STATE_MUTED


def test_config_that_does_not_fit_in_ram_changes_nothing_and_the_app_keeps_running():
    """Issue 12 item 7: without PSRAM a big pre-roll ring may not fit. The new ring is allocated before the old one
    is dropped; a MemoryError is a bad config (error frame, old settings and ring kept), never a dead app."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(f"""
import sys, gc, json, profile, app, wire
from link import BoardLink
class Sink:
    def __init__(self): self.types = []
    def write(self, buf, off, n): pass
    def readinto(self, b): return 0
a = app.App(profile.validate({prof!r}), BoardLink(sys.stdin.buffer, Sink()))
errs = []
acks = []
a.link.error = lambda code, about, text: errs.append((code, text))
a._ack = lambda mtype, seq, data=b"": acks.append(mtype)
a.streaming = True
a._start_capture()
for i in range(100):
    a.step()
ring0, cfg0 = a.ring, a.config()
big = {{"preroll_ms": 2000, "min_speech_ms": 1000}}   # ~96 KB of ring
gc.collect()
fill = []
try:
    while gc.mem_free() > 60000:                      # leave too little for the new ring, even once the old one goes
        fill.append(bytearray(2048))
except MemoryError:
    pass
body = bytearray(json.dumps(big).encode())
a.on_command(wire.CMD_CONFIG, 1, memoryview(body), len(body))
fill = None
gc.collect()
for i in range(100):
    a.step()                                          # the app still runs
print("RESULT", len(errs), len(acks), a.ring is ring0, a.config() == cfg0, a.frames_captured)
print("ERRS", errs)
body = bytearray(json.dumps({{"preroll_ms": 1000, "min_speech_ms": 500}}).encode())
a.on_command(wire.CMD_CONFIG, 2, memoryview(body), len(body))   # with the memory back a big ring is accepted
print("AFTER", len(acks), a.config()["preroll_ms"], a.ring_n, errs[1:], gc.mem_free())
""", paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7})
    res = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert res[1:5] == ["1", "0", "True", "True"], out
    assert "memory" in [l for l in out.splitlines() if l.startswith("ERRS")][0], out
    after = [l for l in out.splitlines() if l.startswith("AFTER")][0].split()
    assert after[1:3] == ["1", "1000"] and int(after[3]) == 150, out


STRESS_SCRIPT = """
import sys, _thread, micropython, profile, app, wire, time
prof = profile.validate({prof})
st = {{"muted": False, "leaks": 0, "audio": 0, "unmutes": 0}}   # counted as frames are written (no growing log)
class Sink:
    def write(self, buf, off, n):
        # read everything before the first branch (where a scheduled handler may run): a C write would have
        # committed the bytes by then
        t = link.body[1] * (n > 0)
        was_muted = st["muted"]
        if t == wire.MSG_AUDIO:
            st["audio"] += 1
            if was_muted:
                st["leaks"] += 1
        elif t == wire.MSG_MUTE and link.body[wire.HEADER_LEN] == 0:
            st["muted"] = False
            st["unmutes"] += 1
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink())
a = app.App(prof, link)
a.streaming = True
a._start_capture()
class Done(Exception): pass
fired = [0]
def irq(_):
    # the switch's soft IRQ, as esp32 delivers it: scheduled, run between any two bytecodes of the main loop
    fired[0] += 1
    st["muted"] = True
    a.mute._irq(a.mute.pin)
stop = [False]
def helper():
    x = {seed}
    while not stop[0]:
        x = (x * 1103515245 + 12345) & 0x3FFFFFFF
        target = a.frames_captured + 3 + (x >> 8) % 90  # 30 ms .. 0.9 s of audio later (whatever the load) ...
        while a.frames_captured < target and not stop[0]:
            pass
        for i in range((x >> 4) % 4000):            # ... plus a random wait, in this thread's bytecodes
            pass
        try:
            micropython.schedule(irq, 0)
        except RuntimeError:
            pass
_thread.start_new_thread(helper, ())
class Wdt:                     # the loop feeds it every iteration: it ends the run after the last IRQ
    def feed(self):
        if fired[0] >= {n_irq}:
            raise Done()
try:
    a.run(Wdt())               # the real main loop
except Done:
    pass
finally:
    stop[0] = True
print("RESULT", fired[0], st["unmutes"], st["audio"], st["leaks"])
"""


def test_mute_irq_at_arbitrary_bytecode_boundaries_never_crashes_or_leaks():
    """Issue 12 item 8: esp32 pin IRQs are soft. A helper thread schedules the mute handler at random moments, so it
    runs between arbitrary bytecodes of the real main loop (App.run): the app must survive every one, and no audio
    frame may be written between the handler and the next unmute."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(STRESS_SCRIPT.format(prof=repr(prof), n_irq=200, seed=12345), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": _speech_wav(), "fast": True, "pace": 1000, "mute_pin": 7}, timeout=180)
    _, irqs, unmutes, audio, leaks = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert int(irqs) >= 200 and int(unmutes) >= 100, out   # the switch really went on and off many times
    assert int(audio) > 300, out                          # while speech was being sent
    assert int(leaks) == 0, out


FAULT_SCRIPT = """
import sys, json, profile, app, wire, led
from link import BoardLink
sent = []
class Sink:
    def write(self, buf, off, n):
        sent.append((link.body[1], bytes(link.body[wire.HEADER_LEN:wire.HEADER_LEN + 200])))
    def readinto(self, b): return 0
link = BoardLink(sys.stdin.buffer, Sink())
a = app.App(profile.validate({prof!r}), link)
a.on_command(wire.CMD_HELLO, 0, memoryview(b""), 0)
hello = a.hello()
errs = [p for t, p in sent if t == wire.MSG_ERROR and b"fault: the VAD runs its plain kernel" in p]
a.streaming = True
a._start_capture()
print("RESULT", hello.get("vad_kernel"), a.status()["vad_kernel"], a.status()["fault"] is not None, len(errs),
      a.led.np[0] == led.COLOURS[wire.STATE_ERROR])
"""


@pytest.mark.parametrize("viper", [True, False])
def test_vad_kernel_kind_is_reported_and_the_slow_path_is_a_fault(viper, tmp_path):
    """Issue 12 item 6: hello and status say which VAD kernel runs; the plain one (the chip cannot keep real time
    with it) is reported as a fault: an error frame after hello, status.fault, the error colour on the LED."""
    paths = (FAKES, FIRMWARE)
    if not viper:
        broken = tmp_path / "noviper"
        broken.mkdir()
        # the native kernel built for another architecture (the x86 VM refuses xtensawin code); its source is
        # still on the path, so the plain twin runs
        subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", str(broken / "vad_kernel.mpy"),
                        str(FIRMWARE / "vad_kernel.py")], check=True)
        paths = (broken, FAKES, FIRMWARE)
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(FAULT_SCRIPT.format(prof=prof), paths=paths, sim_config={"wav": _speech_wav(), "fast": True})
    res = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()[1:]
    if viper:
        assert res == ["viper", "viper", "False", "0", "False"], out
    else:
        assert res == ["plain", "plain", "True", "1", "True"], out


def test_link_drains_waiting_command_bytes_in_one_poll_bounded(tmp_path):
    """Issue 12 item 9: the board read one command byte per loop iteration, so a 20-byte command waited 20 frames
    (200 ms) before it was handled. One poll() now takes what is there, up to a bound (the audio loop goes on)."""
    from hushmic.protocol import encode_frame, wire as hwire

    cmds = tmp_path / "cmds.bin"
    cmds.write_bytes(encode_frame(hwire.CMD_PING, b"abcdefgh", 1) + encode_frame(hwire.CMD_STATUS, b"", 2)
                     + b"\x55" * 400 + b"\x00" + encode_frame(hwire.CMD_PING, b"z", 3))
    out = run_vm(f"""
import link
class Sink:
    def write(self, buf, off, n): pass
f = open({str(cmds)!r}, "rb")
l = link.BoardLink(f, Sink())
got = []
l.poll(lambda t, seq, p, n: got.append(seq))
print("FIRST", got)
for i in range(20):
    l.poll(lambda t, seq, p, n: got.append(seq))
print("ALL", got)
""", paths=(FIRMWARE,))
    lines = dict(l.split(" ", 1) for l in out.strip().splitlines())
    assert lines["FIRST"] == "[1, 2]", out   # both commands in one call; the garbage after them waits (bound)
    assert lines["ALL"] == "[1, 2, 3]", out


def test_overrun_inference_matches_the_real_dma_ring():
    """Issue 12 item 4: the esp32 port sizes the RX DMA ring as 32-bit stereo, ibuf // 2048 buffers of 256 samples
    (12800 bytes held 96 ms, not the 200 ms the overrun logic assumed), and drops the oldest buffer when full. The
    fake ring does the same; after a stall the frame numbers the board assigns must still match the audio."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(f"""
import sys, time, profile, app, capture
from link import BoardLink
class Sink:
    def write(self, buf, off, n): pass
    def readinto(self, b): return 0
a = app.App(profile.validate({prof!r}), BoardLink(sys.stdin.buffer, Sink()))
a.streaming = True
a._start_capture()
def off():   # (frame the board thinks it has) - (frame the audio really came from)
    return (a.fno - 1) - (a.cap.i2s._pos // 160 - 1)
for i in range(50):
    a.step()
d0 = off()
for stall_ms in (150, 500, 1300):
    time.sleep_ms(stall_ms)   # the loop stalls (a slow write, a long GC)
    a.step()
    print("STALL", stall_ms, off() - d0, a.cap.i2s.dropped // 160)
    for i in range(30):
        a.step()
print("RING_MS", a.cap.i2s.dma_samples // 16, capture.IBUF_US // 1000)
""", paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7})
    ring = [l.split()[1:] for l in out.splitlines() if l.startswith("RING_MS")][0]
    assert int(ring[0]) >= 200 and abs(int(ring[0]) - int(ring[1])) <= 10, out  # assumed = real, and >= 200 ms
    for line in (l for l in out.splitlines() if l.startswith("STALL")):
        _, stall, err, dropped = line.split()
        assert abs(int(err)) <= 2, out  # within the ring's 16 ms granularity


STALL_SCRIPT = """
import sys, time, machine, profile, app, wire
prof = profile.validate({prof})
STALL = [10 ** 9, 0]  # virtual ms: the host holds DTR but stops reading, from a segment start (a pre-roll burst)
st = {{"audio_after": 0, "stalled_writes": 0}}
class Sink:
    def write(self, buf, off, n):
        t = time.ticks_ms()
        if STALL[1] == 0 and link.body[1] == wire.MSG_SEG_START:
            STALL[0] = t
            STALL[1] = t + 12000
        if STALL[0] <= t < STALL[1]:
            st["stalled_writes"] += 1
            time.sleep_ms(500)    # MICROPY_HW_USB_CDC_TX_TIMEOUT: each write waits 500 ms, then gives up
            return 0
        if t >= STALL[1] + 500 and link.body[1] == wire.MSG_AUDIO:
            st["audio_after"] += 1
        return n
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink())
a = app.App(prof, link)
a.streaming = True
a._start_capture()
class Done(Exception): pass
class Wdt(machine.WDT):     # the fake's WDT resets the board after a gap longer than its timeout
    def feed(self):
        if STALL[1] and time.ticks_ms() > STALL[1] + 6000:
            raise Done()
        super().feed()
try:
    a.run(Wdt(timeout=8000))
except Done:
    pass
s = a.status()
print("RESULT", st["stalled_writes"], s.get("tx_dropped"), st["audio_after"], s["drops"] >= s["tx_dropped"])
"""


def test_a_host_that_stops_reading_costs_frames_not_the_watchdog():
    """Issue 12 item 2: USB CDC writes on esp32 wait up to 500 ms each when the host holds DTR but does not read;
    a 45-frame pre-roll burst then blocked ~23 s with no wdt.feed(). Slow writes are now timed, audio is dropped
    and counted while the link is congested, the watchdog is fed inside bursts, and audio flows again after."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(STALL_SCRIPT.format(prof=repr(prof)), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": _speech_wav(), "fast": True, "pace": 1000, "mute_pin": 7}, timeout=180)
    _, stalled, dropped, after, counted = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert int(stalled) >= 1 and int(dropped) > 100 and counted == "True", out
    assert int(stalled) <= 24 + 2, out  # at most ~one 500 ms probe a second, not one per frame
    assert int(after) > 50, out         # the stream recovered once the host read again


def test_the_mic_start_up_garbage_never_reaches_the_vad():
    """Issue 12 item 5: an INMP441 needs 2^18 SCK cycles (256 ms at 1.024 MHz) after its clock starts before its
    data is valid; the fake mic outputs a full-scale square wave for that long. None of it may reach the VAD (its
    noise floors would start on garbage), after a start and after an unmute."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(f"""
import sys, profile, app
from link import BoardLink
class Sink:
    def write(self, buf, off, n): pass
    def readinto(self, b): return 0
a = app.App(profile.validate({prof!r}), BoardLink(sys.stdin.buffer, Sink()))
bad = [0, 0]
proc = a.vad.process
def spy(frame):
    bad[0] += 1
    m = 0
    for v in frame:
        if v > m: m = v
        elif -v > m: m = -v
    if m >= 30000:      # the square wave; the speech fixture peaks far lower
        bad[1] += 1
    return proc(frame)
a.vad.process = spy
a.streaming = True
a._start_capture()
for i in range(200):
    a.step()
a.cap.stop(); a._start_capture()   # the clock stops and starts again (as after a mute)
for i in range(200):
    a.step()
print("RESULT", bad[0], bad[1])
""", paths=(FAKES, FIRMWARE), sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7})
    _, frames, garbage = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert int(frames) > 300, out
    assert int(garbage) == 0, out


def test_a_corrupted_command_is_answered_with_an_error_and_never_acted_on(tmp_path):
    """Issue 12: removing the board's CRC check passed the suite. A PING with one payload bit flipped must reach no
    handler (so no ack), be counted in rx_errors and answered with ERR_BAD_FRAME; the intact copy is handled."""
    from hushmic.protocol import encode_frame, wire as hwire

    good = encode_frame(hwire.CMD_PING, b"abcdefgh", 9)
    bad = bytearray(good)
    bad[good.find(b"abcd") + 2] ^= 0x04  # inside the payload: COBS still parses, only the CRC can tell
    assert 0 not in bad[:-1]
    cmds = tmp_path / "cmds.bin"
    cmds.write_bytes(bytes(bad) + good)
    out = run_vm(f"""
import link, wire
errs = []
class Sink:
    def write(self, buf, off, n):
        if l.body[1] == wire.MSG_ERROR:
            errs.append((l.body[wire.HEADER_LEN], bytes(l.body[wire.HEADER_LEN + 2:wire.HEADER_LEN + 14])))
l = link.BoardLink(open({str(cmds)!r}, "rb"), Sink())
got = []
l.poll(lambda t, seq, p, n: got.append((t, seq, bytes(p[:n]))))
print("GOT", got)
print("ERRS", l.rx_errors, errs)
""", paths=(FIRMWARE,))
    lines = dict(l.split(" ", 1) for l in out.strip().splitlines())
    assert lines["GOT"] == "[(%d, 9, b'abcdefgh')]" % hwire.CMD_PING, out
    assert lines["ERRS"].startswith("1 [(%d, b'CRC mismatch')]" % hwire.ERR_BAD_FRAME), out


MUTE_EDGE_SCRIPT = """
import sys, time, profile, app, wire
prof = profile.validate({prof})
EDGE_MS = 1605   # the switch goes on here (the sim's schedule): inside speech, and inside a 10 ms frame
sent = []
class Sink:
    def write(self, buf, off, n):
        if link.body[1] == wire.MSG_AUDIO:
            b = link.body
            sent.append(b[8] | (b[9] << 8) | (b[10] << 16))    # the frame number (10 ms units)
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink())
a = app.App(prof, link)
a.streaming = True
a._start_capture()
svc = a.service
at_service = []
def service():
    if a.mute.muted and not a._mute_reported:
        at_service.append(a.cap.running)   # the loop's first look after the edge: the IRQ has stopped the clock
    svc()
a.service = service
class Done(Exception): pass
class W:
    def feed(self):
        if time.ticks_ms() > 2500: raise Done()
try:
    a.run(W())
except Done:
    pass
late = [f for f in sent if (f + 1) * 10 > EDGE_MS]   # frames whose audio reaches past the edge
print("RESULT", len(sent), max(sent), late, at_service)
"""


def test_mute_takes_effect_at_the_edge_frame_and_the_irq_stops_the_clock():
    """Issue 12: a wrong IRQ edge, or an IRQ that does not stop the clock itself, passed the suite. The switch goes
    on at 1605 ms in the middle of speech: the last audio frame sent is the one that ended before the edge (159,
    1590-1600 ms), and the clock is already stopped when the main loop first sees the mute (the IRQ did it)."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(MUTE_EDGE_SCRIPT.format(prof=repr(prof)), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7, "mute": [[1.605, 100.0]]})
    res = [l for l in out.splitlines() if l.startswith("RESULT")][0].split(" ", 1)[1]
    assert int(res.split()[0]) > 50, out           # speech was being sent up to the edge
    assert res.split(" ", 2)[1:] == ["159", "[] [False]"], out


UART_SCRIPT = """
import sys, time, machine, profile, app, wire, _stdout
prof = profile.validate({prof})
out = open("wire.bin", "wb")       # a real file: its bytes are written by the VM, so the fake UART0 sees them
fnos = []
class Sink:
    def write(self, buf, off, n):
        if n and off == 0 and link.body[1] == wire.MSG_AUDIO:   # a frame's first write (a paced link splits frames)
            b = link.body
            fnos.append(b[8] | (b[9] << 8) | (b[10] << 16))
        elif n and off == 0 and link.body[1] == wire.MSG_SEG_START:
            fnos.append(-1)
        return out.write(memoryview(buf)[off:off + n])
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink(), tx_bytes_per_s={rate})
a = app.App(prof, link)
if {rate}:
    try:
        a.apply_config({{"codec": "pcm16"}})
        print("PCM accepted")
    except ValueError as e:
        print("PCM refused:", e)
a.streaming = True
a._start_capture()
t0 = time.ticks_ms()
class Done(Exception): pass
class W:
    def feed(self):
        if time.ticks_diff(time.ticks_ms(), t0) > {run_ms}: raise Done()
try:
    a.run(W())
except Done:
    pass
ms = time.ticks_diff(time.ticks_ms(), t0)
holes = 0
for i in range(1, len(fnos)):
    if fnos[i] >= 0 and fnos[i - 1] >= 0 and fnos[i] != fnos[i - 1] + 1:   # a hole inside one segment's audio
        holes += fnos[i] - fnos[i - 1] - 1
print("RESULT", a.segment, len(fnos) - fnos.count(-1), a.cap.i2s.dropped // 160, holes, _stdout.bytes_out * 1000 // ms, link.q_max)
"""


@pytest.mark.parametrize("paced", [False, True], ids=["unpaced", "paced"])
def test_the_uart0_mirror_caps_output_and_paced_frames_never_overrun_the_mic(paced):
    """Issue 12 item 1: ESP32_GENERIC_S3 mirrors stdout to UART0 at 115200 baud, and each write waits until the
    128-byte FIFO has taken it all. The simulated board now does the same (fakes/_stdout.py), and shows the defect:
    unpaced (today's firmware before the fix), each segment's pre-roll burst (45 ADPCM frames, ~4.5 KB) blocks
    ~0.4 s, the 208 ms DMA ring overflows and audio right after the pre-roll is lost. Paced to the UART's rate,
    with the rest queued in order, nothing is lost, the output stays under the cap, and PCM16 (34 KB/s) is
    refused with the reason instead of failing silently."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    rate = 11520 if paced else 0
    out = run_vm(UART_SCRIPT.format(prof=repr(prof), rate=rate, run_ms=25000), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": str(REPO / "host_tools" / "data" / "demo.wav"), "fast": True, "mute_pin": 7,
                             "uart_mirror_baud": 115200},
                 timeout=300)
    _, segs, frames, dropped, holes, bps, qmax = [l for l in out.splitlines() if l.startswith("RESULT")][0].split()
    assert int(segs) >= 3 and int(frames) > 300, out
    assert int(bps) <= 11520 + 200, out  # the mirror's cap holds either way: the fake charges what was written
    if paced:
        assert "PCM refused" in out and "use adpcm" in out, out
        assert int(dropped) == 0 and int(holes) == 0, out
        assert 3000 < int(qmax) <= 6144, out  # the pre-roll waited in the queue
    else:
        assert int(dropped) > 0 and int(holes) > 0, out  # what the firmware did before pacing


MUTE_QUEUE_SCRIPT = """
import sys, time, profile, app, wire
prof = profile.validate({prof})
out = open("wire.bin", "wb")
log = []   # (virtual ms of the write, type, frame number or -1)
class Sink:
    def write(self, buf, off, n):
        b = link.body
        if n and off == 0:   # a frame's first write (a paced link splits frames across loop iterations)
            log.append((time.ticks_ms(), b[1], (b[8] | (b[9] << 8) | (b[10] << 16)) if b[1] == wire.MSG_AUDIO else -1))
        return out.write(memoryview(buf)[off:off + n])
    def readinto(self, b): return 0
from link import BoardLink
link = BoardLink(sys.stdin.buffer, Sink(), tx_bytes_per_s=11520)
a = app.App(prof, link)
a.streaming = True
a._start_capture()
class Done(Exception): pass
class W:
    def feed(self):
        if time.ticks_ms() > {end_ms}: raise Done()
try:
    a.run(W())
except Done:
    pass
starts = [t for t, k, f in log if k == wire.MSG_SEG_START]
mute_at = [t for t, k, f in log if k == wire.MSG_MUTE]
print("START", starts[0] if starts else -1)
print("QMAX", link.q_max)
print("AFTER", mute_at[0] if mute_at else -1, [(t, f) for t, k, f in log if k == wire.MSG_AUDIO and t >= {edge_ms}])
print("LAST", max([f for t, k, f in log if k == wire.MSG_AUDIO] or [-1]))
"""


def test_a_mute_while_the_preroll_waits_in_the_queue_sends_none_of_it():
    """Issue 12: a mute during a pre-roll burst. With output paced to the UART0 mirror, a segment's pre-roll waits
    in the transmit queue for up to ~3 s. The switch goes on 300 ms after the segment starts, while most of it is
    still queued: not one audio frame may be written after the edge (queued frames are read against the switch
    again, with no branch before the write), and the mute message still goes out."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    cfg = {"wav": str(REPO / "host_tools" / "data" / "demo.wav"), "fast": True, "mute_pin": 7,
           "uart_mirror_baud": 115200}
    first = run_vm(MUTE_QUEUE_SCRIPT.format(prof=repr(prof), end_ms=6000, edge_ms=10 ** 9), paths=(FAKES, FIRMWARE),
                   sim_config=cfg)
    start = int([l for l in first.splitlines() if l.startswith("START")][0].split()[1])
    assert start > 0, first
    edge = start + 300
    out = run_vm(MUTE_QUEUE_SCRIPT.format(prof=repr(prof), end_ms=edge + 3000, edge_ms=edge), paths=(FAKES, FIRMWARE),
                 sim_config=dict(cfg, mute=[[edge / 1000.0, 100.0]]))
    lines = dict(l.split(" ", 1) for l in out.strip().splitlines() if l.split(" ", 1)[0] in ("QMAX", "AFTER", "LAST"))
    assert int(lines["QMAX"]) > 2000, out  # the pre-roll really was queued when the switch went on
    mute_ms, after = lines["AFTER"].split(" ", 1)
    assert int(mute_ms) >= edge and int(mute_ms) <= edge + 60, out  # the mute message went out at once
    assert after == "[]", out  # nothing written after the edge
    assert 0 < int(lines["LAST"]) < edge // 10, out


PROBE_SCRIPT = """
import profile, capture, wire
prof = profile.validate({prof})
cap = capture.Capture(prof)
state, peak = cap.probe()
print("PROBE", ("false", "true", "unknown")[state], peak, cap.running)
"""


@pytest.mark.parametrize("power_cut,startup,expect", [
    (True, "square", "true"),    # switch cuts the mic's power: SD floats (reads noise unless pulled down)
    (False, "zeros", "false"),   # software-only mute, a mic that outputs zeros while it starts up
    (False, "square", "false"),  # software-only mute, start-up garbage
], ids=["power-cut-floating-sd", "powered-mic-quiet-start-up", "powered-mic-garbage-start-up"])
def test_the_mute_probe_is_honest_about_the_mic(power_cut, startup, expect):
    """Issue 12 item 5: the 50 ms probe judged an INMP441 on its start-up output (2^18 SCK cycles, 256 ms, of no
    valid data) and read a floating SD line as a live mic. With the power cut, an undriven line must read silent
    (the datasheet's pull-down); a powered mic must read live even when it outputs zeros while it starts up, which
    the old probe called silent: false reassurance about the one thing the switch is for."""
    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(PROBE_SCRIPT.format(prof=repr(prof)), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7, "sd": prof["sd"],
                             "mute": [[0.0, 100.0]], "power_cut": power_cut, "mic_startup_output": startup})
    _, state, peak, running = [l for l in out.splitlines() if l.startswith("PROBE")][0].split()
    assert state == expect, out
    assert running == "False", out  # the clock is stopped again after the probe


STATUS_SCRIPT = """
import sys, json, profile, app, wire, binascii
from link import BoardLink
prof = profile.validate({prof})
got = bytearray()
class Sink:
    def write(self, buf, off, n):
        got.extend(bytes(buf[off:off + n]))
        return n
    def readinto(self, b): return 0
a = app.App(prof, BoardLink(sys.stdin.buffer, Sink()))
a.fault, a.fault_text = "vad_plain_kernel", "the VAD runs its plain kernel (" + "x" * 150 + ")"
big = (1 << 30) - 1   # every counter at its widest
a.frames_captured = a.drops = a.tx_dropped = big
a.cap.overruns = a.link.slow_writes = a.link.rx_errors = a.link.audio_written = a.link.q_max = big
a.on_command(wire.CMD_HELLO, 1, memoryview(b""), 0)
a.on_command(wire.CMD_STATUS, 2, memoryview(b""), 0)
print("WIRE", binascii.hexlify(got).decode())
"""


def test_status_and_hello_fit_one_frame_even_with_a_fault_and_every_counter_at_its_widest():
    """doctor found status cut at 512 bytes (unparsable JSON) on a board with a fault. Status carries the fault's
    name (its text follows hello, in an error), replies are compact, and a reply that cannot fit is an error."""
    from hushmic.protocol import FrameDecoder, parse

    prof = json.loads((REPO / "boards" / "esp32_s3" / "simulated.json").read_text())
    out = run_vm(STATUS_SCRIPT.format(prof=repr(prof)), paths=(FAKES, FIRMWARE),
                 sim_config={"wav": _speech_wav(), "fast": True, "mute_pin": 7})
    data = bytes.fromhex([l for l in out.splitlines() if l.startswith("WIRE")][0].split()[1])
    msgs = [parse(f) for f in FrameDecoder().feed(data)]
    kinds = [m.kind for m in msgs]
    assert kinds == ["hello", "error", "status"], (kinds, msgs)
    assert msgs[0].fields["micropython"].count(".") == 2
    assert "plain kernel" in msgs[1].fields["message"]
    st = msgs[2].fields
    assert st["fault"] == "vad_plain_kernel" and st["drops"] == (1 << 30) - 1 and st["mem_free"] > 0, st
