"""The mute integrity probe survives the capture being stopped under it (the defect pyright found in capture.py).

The mute switch's pin IRQ is soft on esp32: its handler can run between any two bytecodes and calls Capture.stop(),
which deinits the I2S and sets capture.i2s = None. probe() read self.i2s again after start(): stopped in between, it
raised AttributeError ('NoneType' has no readinto), and stopped during a read, the OSError of the deinit'd channel,
out of the app's service loop. Both moments are forced here in the real VM, with the simulated machine.I2S, and
a probe cut short must answer "unknown", never "silent"."""
import json

from vmtools import FAKES, FIRMWARE, SPEECH_WAV, needs_vm, run_vm

pytestmark = needs_vm
PROFILE = FIRMWARE.parent / "boards" / "esp32_s3" / "simulated.json"

SCRIPT = """
import capture, machine, profile
prof = profile.validate({prof!r})

def run(name, c):
    try:
        r = c.probe()
    except Exception as e:
        print(name, "RAISED", type(e).__name__, e)
        return
    print(name, "OK", r[0], c.i2s is None, sum(c.raw))

# 1. the handler runs right after start(), before the first read: self.i2s is None when probe() reads it
c = capture.Capture(prof)
start = c.start
def start_then_stop():
    start()
    c.stop()
c.start = start_then_stop
run("before_read", c)

# 2. the handler runs while a read is under way: the channel is deinit'd and readinto raises OSError
c = capture.Capture(prof)
readinto = machine.I2S.readinto
def readinto_then_stop(self, buf):
    machine.I2S.readinto = readinto
    c.stop()
    return readinto(self, buf)
machine.I2S.readinto = readinto_then_stop
run("during_read", c)
"""


def test_probe_tolerates_a_stop_from_the_mute_irq():
    prof = json.loads(PROFILE.read_text())
    out = run_vm(SCRIPT.format(prof=prof), paths=(FAKES, FIRMWARE), sim_config={"wav": str(SPEECH_WAV), "fast": True})
    lines = {ln.split(" ", 1)[0]: ln.split()[1:] for ln in out.splitlines() if ln.startswith(("before_", "during_"))}
    for name in ("before_read", "during_read"):
        assert lines.get(name, ["missing"])[0] == "OK", out
        _, state, stopped, raw_sum = lines[name]
        # a probe cut short cannot vouch for the mic: MIC_SILENT_UNKNOWN (2), not "silent"; the capture left stopped
        assert state == "2" and stopped == "True", out
        assert raw_sum == "0", out  # and no sample left in the raw buffer
