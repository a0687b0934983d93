"""Issue 13, defect 9: a launcher killed with SIGKILL left `hushmic-sim-*` folders (with sim.json naming the input's
absolute path) in the temp folder for ever. The next simulated board removes the stale ones, and only those."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

from hushmic.sim import workdir

CHILD = textwrap.dedent("""
    import sys, time
    from hushmic.sim.launcher import SimBoard
    sb = SimBoard(sys.argv[1])
    (sb.dir / "sim.json").write_text('{"wav": "/home/someone/private/recording.wav"}')
    print(sb.dir, flush=True)
    time.sleep(60)
""")


def test_folder_of_a_killed_launcher_is_removed_by_the_next_one(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR in this process
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "in.wav")], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        left = proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()
    assert left and os.path.isdir(left) and os.path.dirname(left) == str(tmp_path)
    from hushmic.sim.launcher import SimBoard
    sb = SimBoard(tmp_path / "in.wav")
    try:
        assert not os.path.exists(left)
        assert os.path.isdir(sb.dir) and sb.dir.name.startswith(f"hushmic-sim-{os.getpid()}-")
    finally:
        sb.stop()
    assert not sb.dir.exists()


def test_only_stale_folders_of_this_user_go(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    names = {
        "dead": f"hushmic-sim-{dead.pid}-abc123",
        "me": f"hushmic-sim-{os.getpid()}-def456",
        "parent": f"hushmic-sim-{os.getppid()}-ghi789",
        "legacy_old": "hushmic-sim-zz9x_01q",
        "legacy_new": "hushmic-sim-yy8w_02r",
        "other": "unrelated-dir",
    }
    for n in names.values():
        (tmp_path / n).mkdir()
        (tmp_path / n / "sim.json").write_text("{}")
    old = time.time() - 2 * workdir.LEGACY_MAX_AGE_S
    os.utime(tmp_path / names["legacy_old"], (old, old))
    (tmp_path / f"hushmic-sim-{dead.pid}-link").symlink_to(victim)  # a link is never followed nor removed
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        theirs = tmp_path / f"hushmic-sim-{dead.pid}-theirs"
        theirs.mkdir()
        os.chown(theirs, 65534, 65534)
    removed = set(workdir.clean_stale(tmp_path))
    assert removed == {names["dead"], names["legacy_old"]}
    left = set(os.listdir(tmp_path))
    assert names["me"] in left and names["parent"] in left and names["legacy_new"] in left
    assert f"hushmic-sim-{dead.pid}-link" in left and (victim / "keep.txt").exists()
    if os.geteuid() == 0:
        assert f"hushmic-sim-{dead.pid}-theirs" in left
