"""`hushmic devices`: USB-id classification (native USB vs bridges), simulated-board registration, polite probing."""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import serial

from hushmic import devices
from hushmic.cli import main as cli_main

sim = pytest.importorskip("hushmic.sim.launcher")
WAV = "/work/shared/eval/vad/dev_000.wav"


def _vm_ok():
    try:
        sim.vm_path()
        return os.path.exists(WAV)
    except Exception:
        return False


needs_sim = pytest.mark.skipif(not _vm_ok(), reason="simulated board unavailable (VM wheel or dev WAV missing)")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HUSHMIC_HOME", str(tmp_path))
    return tmp_path


def _port(device, vid, pid, desc="x"):
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=desc, product=None, manufacturer=None,
                           serial_number="SN1", location="1-1")


def test_classification_and_order(monkeypatch, capsys):
    from serial.tools import list_ports

    fake = [
        _port("/dev/ttyUSB0", 0x10C4, 0xEA60), _port("/dev/ttyACM0", 0x303A, 0x4001), _port("/dev/ttyS0", None, None),
        _port("/dev/ttyUSB1", 0x1A86, 0x7523), _port("/dev/ttyUSB2", 0x0403, 0x6015), _port("/dev/ttyACM1", 0x2341, 0x43),
        _port("/dev/ttyACM2", 0x303A, 0x1001),
    ]
    monkeypatch.setattr(list_ports, "comports", lambda: fake)
    assert cli_main(["devices", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [d["port"] for d in out] == ["/dev/ttyACM0", "/dev/ttyACM2", "/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2"]
    kinds = {d["port"]: d["kind"] for d in out}
    assert kinds["/dev/ttyACM0"] == kinds["/dev/ttyACM2"] == "native-usb"
    assert kinds["/dev/ttyUSB0"] == kinds["/dev/ttyUSB1"] == kinds["/dev/ttyUSB2"] == "usb-uart"
    assert [d["recommended"] for d in out] == [True, True, False, False, False]
    assert out[0]["usb_id"] == "303a:4001"
    # --all adds the other serial ports
    assert cli_main(["devices", "--json", "--all"]) == 0
    allp = {d["port"]: d["kind"] for d in json.loads(capsys.readouterr().out)}
    assert allp["/dev/ttyS0"] == "other" and allp["/dev/ttyACM1"] == "other"
    # human listing: stderr only
    assert cli_main(["devices"]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and "native USB" in cap.err and "USB-UART" in cap.err


def test_only_bridges_hint(monkeypatch, capsys):
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: [_port("/dev/ttyUSB0", 0x10C4, 0xEA60)])
    assert cli_main(["devices"]) == 0
    assert "native USB port" in capsys.readouterr().err


def test_nothing_found_says_what_to_do(monkeypatch, capsys):
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: [])
    assert cli_main(["devices"]) == 0
    err = capsys.readouterr().err
    assert "hushmic demo" in err and "docs/ports.md" in err


def test_stale_registration_is_cleaned(home):
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(p.stdout)
    d = devices.run_dir()
    d.mkdir(parents=True)
    ghost = d / f"sim-{dead_pid}-deadbeef.json"
    ghost.write_text(json.dumps({"name": "ghost", "port": "/nonexistent", "pid": dead_pid}))
    assert devices.list_sims() == []
    assert not ghost.exists()


@needs_sim
def test_simulated_board_listed_while_running_and_probe(home, capsys):
    with sim.SimBoard(WAV, fast=True, name="simdev") as sb:
        reg = list(devices.run_dir().glob("sim-*.json"))
        assert len(reg) == 1 and oct(reg[0].stat().st_mode & 0o777) == "0o600"
        assert cli_main(["devices", "--json"]) == 0
        out = [d for d in json.loads(capsys.readouterr().out) if d["kind"] == "simulated"]
        assert [(d["port"], d["name"], d["wav"]) for d in out] == [(sb.port, "simdev", "dev_000.wav")]
        # --probe asks a free port for hello
        assert cli_main(["devices", "--json", "--probe"]) == 0
        (d,) = [d for d in json.loads(capsys.readouterr().out) if d["kind"] == "simulated"]
        assert d["probe"]["status"] == "ok"
        assert d["probe"]["hello"]["profile"] == "simulated" and "firmware" in d["probe"]["hello"]
        # a port in use (here an exclusive handle, as `hushmic listen` holds it) is reported busy, not touched
        holder = serial.Serial(sb.port, exclusive=True)
        try:
            assert cli_main(["devices", "--json", "--probe"]) == 0
            (d,) = [d for d in json.loads(capsys.readouterr().out) if d["kind"] == "simulated"]
            assert d["probe"]["status"] == "busy"
        finally:
            holder.close()
    assert cli_main(["devices", "--json"]) == 0
    assert [d for d in json.loads(capsys.readouterr().out) if d["kind"] == "simulated"] == []
    assert list(devices.run_dir().glob("sim-*.json")) == []
