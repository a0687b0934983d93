"""Board lifecycle on the simulated board: safe mode, watchdog start, maintenance mode, the mute integrity probe,
board profile validation."""
import json
import time
from pathlib import Path

import pytest

from hushmic.link import BoardConnection
from hushmic.paths import load_firmware_module
from hushmic.protocol import wire
from vmtools import collect, needs_vm

SPEECH = Path(__file__).parent / "fixtures" / "sim" / "speech.wav"
BOARDS = Path(__file__).resolve().parents[1] / "boards" / "esp32_s3"
profile = load_firmware_module("profile")






@needs_vm
def test_watchdog_starts_only_after_the_safe_mode_window(sim):
    b = sim(fast=True)
    c = BoardConnection(b.port)
    c.open()
    c.handshake()  # the app answers at once: the 2 s BOOT window does not delay it
    c.send("start")
    wdt = []
    end = time.monotonic() + 8.0  # 2 s of virtual time: well under 1 s, unless the machine is loaded
    while not wdt and time.monotonic() < end:
        collect(c, 0.2)
        wdt = [int(t) for t, what in b.events() if what.startswith("wdt start")]
    assert wdt and wdt[0] >= 2000  # virtual ms since boot
    c.close()


@needs_vm
def test_boot_button_held_enters_safe_mode_without_app_or_watchdog(sim):
    b = sim(fast=True, boot_held=True)
    c = BoardConnection(b.port)
    c.open()
    c.send_raw(b"\r\n")  # a host talking starts the simulated clock
    raw = b""
    end = time.monotonic() + 3
    while time.monotonic() < end and b">>>" not in raw:
        raw += c.ser.read(256)
    assert b"safe mode" in raw and b">>>" in raw  # the console says so, and the REPL is there
    with pytest.raises(Exception, match="no hello"):
        c.handshake(timeout=1.0)
    c.close()
    assert not [e for e in b.events() if e[1].startswith("wdt")]


@needs_vm
def test_leave_reboots_into_maintenance_mode_without_watchdog(sim):
    b = sim(fast=True)
    c = BoardConnection(b.port)
    c.open()
    c.handshake()
    collect(c, 2.5)  # past the safe-mode window: the watchdog is running
    n_wdt = len([e for e in b.events() if e[1].startswith("wdt start")])
    c.send("leave")
    got = collect(c, 1.0, until=lambda m: m.kind == "ack")
    assert got and got[-1].fields["about"] == wire.CMD_LEAVE
    time.sleep(1.0)
    ev = [e[1] for e in b.events()]
    assert "reset" in ev
    assert len([e for e in ev if e.startswith("wdt start")]) == n_wdt  # no watchdog after the reboot
    assert not (b.fsdir / "maint.flag").exists()  # the flag is consumed: the next reset runs the app
    c.close()


@needs_vm
def test_probe_reports_mic_silent_with_power_cut_wiring(sim):
    b = sim(fast=True, power_cut=True, mute=[(1.0, 50.0)])
    c = BoardConnection(b.port)
    c.open()
    c.handshake()
    c.send("start")
    got = collect(c, 3.0, until=lambda m: m.kind == "mute" and m.fields["mic_silent"] is not None)
    assert got[-1].kind == "mute" and got[-1].fields["mic_silent"] is True
    c.close()


@needs_vm
def test_probe_reports_live_mic_without_power_cut(sim):
    b = sim(fast=True, power_cut=False, mute=[(1.0, 50.0)])
    c = BoardConnection(b.port)
    c.open()
    c.handshake()
    c.send("start")
    got = collect(c, 3.0, until=lambda m: m.kind == "mute" and m.fields["mic_silent"] is not None)
    assert got[-1].kind == "mute" and got[-1].fields["mic_silent"] is False
    assert not [m for m in got if m.kind == "audio" and m.fields["fno"] >= 100]
    c.close()


@pytest.mark.parametrize("path", sorted(BOARDS.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_profile_validates(path):
    p = profile.validate(json.loads(path.read_text()))
    assert p["name"] == path.stem


@pytest.mark.parametrize("change, needle", [
    ({"shfit": 11}, "unknown key 'shfit'"),
    ({"shift": 30}, "'shift' = 30 is outside 8..24"),
    ({"mic": "PDM"}, "'mic' = 'PDM' is not one of"),
    ({"mute_active": True}, "'mute_active' must be a str"),
    ({"ws": 4}, "four different GPIOs"),
])
def test_profile_errors_name_the_bad_key(change, needle):
    d = json.loads((BOARDS / "devkitc1_inmp441.json").read_text())
    d.update(change)
    with pytest.raises(profile.ProfileError, match=needle.replace("(", r"\(").replace(".", r"\.")):
        profile.validate(d)


@pytest.mark.parametrize("key", ["sck", "ws", "sd", "mute_pin", "led_pin"])
@pytest.mark.parametrize("gpio, why", [(19, "native USB"), (20, "native USB"), (22, "no such GPIO"),
                                       (25, "no such GPIO"), (26, "SPI flash"), (32, "SPI flash")])
def test_profile_refuses_pins_an_esp32_s3_cannot_give(key, gpio, why):
    """Issue 12 item 9: GPIO 19/20 are the native USB port (the REPL and the link), 22-25 do not exist on the S3,
    26-32 wire the SPI flash: a profile naming one would kill the link or the board."""
    d = json.loads((BOARDS / "devkitc1_inmp441.json").read_text())
    d[key] = gpio
    with pytest.raises(profile.ProfileError, match=f"'{key}' = {gpio} .*{why}"):
        profile.validate(d)


@pytest.mark.parametrize("gpio", [1, 18, 21, 33, 48])
def test_profile_accepts_free_pins(gpio):
    d = json.loads((BOARDS / "devkitc1_inmp441.json").read_text())
    d["led_pin"] = gpio
    assert profile.validate(d)["led_pin"] == gpio


def test_profile_missing_key_is_named():
    d = json.loads((BOARDS / "devkitc1_inmp441.json").read_text())
    del d["sd"]
    with pytest.raises(profile.ProfileError, match="missing key 'sd'"):
        profile.validate(d)


@needs_vm
def test_host_hellos_during_boot_do_not_interrupt_main_py(sim):
    """Issue 12 item 3: every HELLO at seq 0 holds a 0x03 byte. On the chip 0x03 raises KeyboardInterrupt while
    main.py runs unless kbd_intr(-1) is already in force; the strict simulated board does the same (SigCgt). A host
    that says hello while the board boots must find the app, not a REPL with no watchdog."""
    from hushmic.protocol import encode_frame

    hello0 = encode_frame(wire.CMD_HELLO, b"", 0)
    assert 0x03 in hello0
    b = sim(fast=True)
    c = BoardConnection(b.port)
    c.open()
    got = []
    end = time.monotonic() + 4.0
    while time.monotonic() < end and not got:
        c.send_raw(hello0)  # what a host that (re)connects during boot sends, again and again
        got = [m for m in c.read() if m.kind == "hello"]
    c.close()
    assert got, "no hello: the board fell to the REPL (KeyboardInterrupt during boot)"
    assert b.respawns == 0
    log = b.vm_log.read_text() if b.vm_log.exists() else ""
    assert "KeyboardInterrupt" not in log


@needs_vm
def test_an_app_that_fails_to_import_says_so_and_shows_the_error_colour(tmp_path):
    """Issue 12 item 9: an import failure at boot (a missing module, an .mpy for another MicroPython) gives a
    one-line reason and the LED's error colour, not a bare traceback and a dark LED; Ctrl-C works again after."""
    from vmtools import FAKES, FIRMWARE, run_vm

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "app.py").write_text("import no_such_module\n")
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "profile.json").write_text((BOARDS / "simulated.json").read_text())
    led_log = tmp_path / "led.log"
    main_src = (FIRMWARE / "main.py").read_text()
    out = run_vm(main_src + "\nimport led, wire\nprint('ERRCOL %d,%d,%d' % led.COLOURS[wire.STATE_ERROR])\n",
                 paths=(broken, FAKES, FIRMWARE), cwd=fs,
                 sim_config={"wav": str(SPEECH), "fast": True, "led_log": str(led_log)})
    assert "hushmic: the app failed to load" in out and "no_such_module" in out, out
    assert "Traceback" not in out
    errcol = [ln.split()[1] for ln in out.splitlines() if ln.startswith("ERRCOL")][0]
    assert led_log.read_text().splitlines()[-1].split()[1] == errcol
