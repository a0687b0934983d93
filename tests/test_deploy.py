"""`hushmic deploy` against the simulated board, end to end through mpremote's transport.

The simulated board is only a port here: deploy must find out from the board itself that it wants x64 .mpy files,
leave the running app over the hushmic protocol, copy, verify by SHA-256 computed on the board, and reset it into the
app. What the board holds afterwards is checked on its filesystem (SimBoard.fsdir) and, independently of hushmic's
own code, with the mpremote command line.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hushmic import cli
from hushmic import deploy as dep
from hushmic.link import BoardConnection, open_port
from hushmic.paths import BOARDS_DIR, FIRMWARE_DIR

pytest.importorskip("serial")
try:
    from hushmic.sim.launcher import SimBoard, vm_path

    vm_path()
except Exception as e:  # pragma: no cover - platform without the VM wheel
    pytest.skip(f"simulated board unavailable: {e}", allow_module_level=True)

WAV = Path(__file__).parent / "fixtures" / "sim" / "speech.wav"
MPREMOTE = str(Path(sys.executable).with_name("mpremote"))


def _run(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _fs_state(fsdir):
    """{name: (sha256, mtime_ns)} of the board's files."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(Path(fsdir).iterdir()) if p.is_file()}


def _hello(port):
    c = BoardConnection(port)
    c.open()
    try:
        return c.handshake(timeout=5)
    finally:
        c.close()


@pytest.fixture
def board(tmp_path):
    b = SimBoard(WAV, fast=True, workdir=tmp_path / "sim")
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """One board, deployed once with the CLI; the tests below continue on it, in file order."""
    b = SimBoard(WAV, fast=True, workdir=tmp_path_factory.mktemp("deployed") / "sim")
    port = b.start()
    staged = _fs_state(b.fsdir)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "hushmic", "deploy", "--port", port, "--profile", "simulated", "--json"],
                       capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    yield b, staged, r, elapsed
    b.stop()


# ---- usage errors: exit 2, one line ---------------------------------------------------------------------------
def test_no_port_exits_2_with_one_line(capsys):
    rc, out, err = _run(["deploy"], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--port" in err


def test_nonexistent_port_exits_2_with_one_line(capsys, tmp_path):
    rc, out, err = _run(["deploy", "--port", str(tmp_path / "ttyNOPE")], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no such serial port" in err


@pytest.mark.parametrize("patch,key", [({"bogus_key": 1}, "bogus_key"), ({"shift": 99}, "shift"),
                                       ({"mute_active": "sideways"}, "mute_active")])
def test_bad_profile_exits_2_naming_the_key(capsys, tmp_path, board, patch, key):
    d = json.loads((BOARDS_DIR / "simulated.json").read_text())
    d.update(patch)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    before = _fs_state(board.fsdir)
    rc, out, err = _run(["deploy", "--port", board.port, "--profile", str(bad)], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"'{key}'" in err
    assert _fs_state(board.fsdir) == before and board.respawns == 0  # refused before touching the board


def test_unknown_profile_name_exits_2(capsys, board):
    rc, out, err = _run(["deploy", "--port", board.port, "--profile", "no_such_board"], capsys)
    assert rc == 2 and "no_such_board" in err and len(err.strip().splitlines()) == 1


def test_busy_port_is_a_clear_error(capsys, board):
    holder = open_port(board.port)  # exclusive, like a running `hushmic listen` or serial monitor
    try:
        rc, out, err = _run(["deploy", "--port", board.port], capsys)
    finally:
        holder.close()
    assert rc == 1 and "busy" in err and out == ""


def test_not_a_micropython_board(capsys, tmp_path):
    # a serial port with nothing answering behind it
    m, s = os.openpty()
    link = tmp_path / "ttySILENT"
    os.symlink(os.ttyname(s), link)
    try:
        t0 = time.monotonic()
        rc, out, err = _run(["deploy", "--port", str(link)], capsys)
        assert time.monotonic() - t0 < 15
    finally:
        os.close(m)
        os.close(s)
    assert rc == 1 and "no MicroPython REPL answered" in err and out == ""


# ---- dry run --------------------------------------------------------------------------------------------------
def test_dry_run_changes_nothing(capsys, board):
    before = _fs_state(board.fsdir)
    rc, out, err = _run(["deploy", "--port", board.port, "--profile", "simulated", "--arch", "host", "--dry-run",
                         "--json"], capsys)
    assert rc == 0, err
    plan = json.loads(out)
    assert plan["dry_run"] is True and plan["arch"] == dep.host_arch()
    names = {f["name"]: f for f in plan["files"]}
    expected = {p.stem + ".mpy" for p in FIRMWARE_DIR.glob("*.py") if p.name != "main.py"} | {"main.py", "profile.json"}
    assert expected <= set(names)
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in plan["files"])
    # nothing written, nothing removed, no reset, and the app still runs
    assert _fs_state(board.fsdir) == before
    assert board.respawns == 0
    assert _hello(board.port)["profile"] == "simulated"


def test_dry_run_at_the_repl_compares_with_the_board(capsys, board):
    # a board already at the REPL (maintenance mode) can be asked without stopping anything
    c = BoardConnection(board.port)
    c.open()
    c.handshake()
    c.send("leave")
    c.close()
    assert dep.wait_for_prompt(board.port)
    respawns = board.respawns
    before = _fs_state(board.fsdir)
    rc, out, err = _run(["deploy", "--port", board.port, "--dry-run", "--json"], capsys)
    assert rc == 0, err
    plan = json.loads(out)
    assert plan["arch"] == "x64" and "sys.platform='linux'" in plan["arch_source"]
    acts = {f["name"]: f["action"] for f in plan["files"]}
    assert acts["main.py"] == "skip" and acts["profile.json"] == "skip" and acts["app.mpy"] == "copy"
    assert "app.py" in plan["removed"]
    assert _fs_state(board.fsdir) == before and board.respawns == respawns


# ---- the real thing -------------------------------------------------------------------------------------------
def test_deploy_end_to_end(deployed):
    b, staged, r, elapsed = deployed
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["arch"] == "x64" and res["platform"] == "linux" and res["verified"] is True
    assert res["before"] == "app"  # it found the app running and made it leave
    assert res["hello"]["profile"] == "simulated"
    # what the board holds is what was planned, byte for byte
    fs = _fs_state(b.fsdir)
    for f in res["files"]:
        assert fs[f["name"]][0] == f["sha256"], f["name"]
    # every module but main.py went as .mpy for x64; the sources that would shadow them are gone
    for src in FIRMWARE_DIR.glob("*.py"):
        if src.name == "main.py":
            assert "main.py" in fs and "main.mpy" not in fs
        else:
            assert src.stem + ".mpy" in fs and src.name not in fs
            assert res["imports"][src.stem] == src.stem + ".mpy"
    arches = {p.name: p.read_bytes()[2] >> 2 for p in b.fsdir.glob("*.mpy")}
    assert set(arches.values()) == {0, 2}  # bytecode, plus native code (the viper kernels) for x64 only
    assert json.loads((b.fsdir / "profile.json").read_text())["name"] == "simulated"
    assert "copied" in r.stderr or "copy" in r.stderr
    assert elapsed < 30


def test_app_runs_after_deploy(deployed):
    b, _, r, _ = deployed
    assert r.returncode == 0
    h = _hello(b.port)
    assert h["profile"] == "simulated" and h["firmware"]


def test_mpremote_sees_the_mpy_modules(deployed):
    """Independent of hushmic.deploy: leave the app, then ask the VM with the mpremote CLI where `app` comes from."""
    b, _, r, _ = deployed
    c = BoardConnection(b.port)
    c.open()
    c.handshake()
    c.send("leave")
    c.close()
    assert dep.wait_for_prompt(b.port)
    p = subprocess.run([MPREMOTE, "connect", b.port, "exec",
                        "import app, vad, kernels; print(app.__file__, vad.__file__, kernels.__file__)"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["app.mpy", "vad.mpy", "kernels.mpy"]


def test_second_deploy_copies_nothing(deployed, capsys):
    b, _, r, _ = deployed
    before = _fs_state(b.fsdir)
    rc, out, err = _run(["deploy", "--port", b.port, "--json"], capsys)  # board at the REPL from the test above
    assert rc == 0, err
    res = json.loads(out)
    assert res["copied"] == 0 and res["removed"] == [] and res["skipped"] == len(res["files"])
    assert res["profile"] == "simulated" and res["profile_source"] == "kept from the board"
    assert "nothing copied" in err
    after = _fs_state(b.fsdir)
    assert after == before  # same bytes AND same mtimes: not rewritten
    assert _hello(b.port)["profile"] == "simulated"


def test_changed_and_stale_files_are_fixed(deployed, capsys):
    """A file damaged on the board is found by its on-board hash and recopied; a stray app.py (which would shadow
    app.mpy) is removed; nothing else is touched."""
    b, _, _, _ = deployed
    before = _fs_state(b.fsdir)
    with open(b.fsdir / "wire.mpy", "r+b") as f:
        f.seek(40)
        byte = f.read(1)
        f.seek(40)
        f.write(bytes([byte[0] ^ 0xFF]))
    (b.fsdir / "app.py").write_text("raise SystemExit('stale source must not shadow app.mpy')\n")
    (b.fsdir / "notes.txt").write_text("a user's file: not ours, keep it\n")
    rc, out, err = _run(["deploy", "--port", b.port, "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    copied = [f["name"] for f in res["files"] if f["action"] == "copy"]
    assert copied == ["wire.mpy"] and res["copied"] == 1
    assert res["removed"] == ["app.py"]
    after = _fs_state(b.fsdir)
    assert after["wire.mpy"][0] == before["wire.mpy"][0]
    assert "app.py" not in after and "notes.txt" in after
    assert all(after[n] == before[n] for n in before if n != "wire.mpy")
    assert _hello(b.port)["firmware"]


def test_module_dropped_from_firmware_is_removed_via_the_manifest(deployed, capsys):
    """A module an earlier deploy put there (listed in its manifest) but that firmware/ no longer has is removed;
    a file of the same kind that no deploy recorded is left alone."""
    b, _, _, _ = deployed
    man = json.loads((b.fsdir / dep.MANIFEST).read_text())
    man["files"]["oldmod.mpy"] = "0" * 64
    (b.fsdir / dep.MANIFEST).write_text(json.dumps(man, sort_keys=True) + "\n")
    (b.fsdir / "oldmod.mpy").write_bytes(b"M\x06\x00\x1f")
    (b.fsdir / "usermod.mpy").write_bytes(b"M\x06\x00\x1f")
    rc, out, err = _run(["deploy", "--port", b.port, "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert res["removed"] == ["oldmod.mpy"]
    assert [f["name"] for f in res["files"] if f["action"] == "copy"] == [dep.MANIFEST]
    assert not (b.fsdir / "oldmod.mpy").exists() and (b.fsdir / "usermod.mpy").exists()
    assert "oldmod.mpy" not in json.loads((b.fsdir / dep.MANIFEST).read_text())["files"]


def test_arch_that_the_board_cannot_load_is_refused(deployed, capsys):
    b, _, _, _ = deployed
    before = _fs_state(b.fsdir)
    rc, out, err = _run(["deploy", "--port", b.port, "--arch", "xtensawin"], capsys)
    assert rc == 2 and out == ""
    assert "x64" in err.strip().splitlines()[-1]  # the reason: one line, last (progress lines come before it)
    assert _fs_state(b.fsdir) == before
    assert _hello(b.port)["firmware"]  # nothing was written, so the board was put back into its app


def test_arch_comes_from_what_the_board_reports():
    s3 = 6 | (3 << 8) | (10 << 10)  # sys.implementation._mpy on an ESP32-S3 running MicroPython 1.23+
    assert dep.arch_of("esp32", s3) == "xtensawin"
    assert dep.arch_of("linux", 6 | (3 << 8) | (2 << 10)) == "x64"
    assert dep.arch_of("esp32", 0) == "xtensawin"  # too old to report _mpy
    assert dep.arch_of("rp2", 6 | (3 << 8)) is None  # no native arch: bytecode
