"""The local store: private modes, atomic writes under SIGKILL, keep policies, retention, logs without text."""
import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import shutil
import textwrap
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from hushmic import store as store_mod
from hushmic.cli import main as cli_main
from hushmic.errors import BadInput, HushmicError
from hushmic.store import Store

SECRET_TEXT = "my card number is four one one one and my name is Zebediah Quux"


def _tone(n=8000, f=440.0, amp=8000):
    t = np.arange(n) / 16000.0
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.int16)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def _all_paths(root):
    out = [Path(root)]
    for dp, dns, fns in os.walk(root):
        out += [Path(dp) / d for d in dns] + [Path(dp) / f for f in fns]
    return out


def test_private_modes_on_dirs_db_wal_and_wavs(tmp_path):
    old = os.umask(0o022)  # a permissive umask must not leak into the store
    try:
        root = tmp_path / "store"
        st = Store(root, keep="raw")
        sid = st.open_session("sim0", {"firmware": "0.1"})
        st.add_utterance(sid, 0, 0.0, 0.5, False, raw_pcm=_tone(), redacted_pcm=_tone(), text_redacted="hi")
        # while the store is open in WAL mode the -wal and -shm files exist: they must be private too
        names = {p.name for p in root.iterdir()}
        assert "hushmic.db" in names
        assert "hushmic.db-wal" in names and "hushmic.db-shm" in names, names
        wavs = list(root.rglob("*.wav"))
        assert len(wavs) == 2
        for p in _all_paths(root):
            want = 0o700 if p.is_dir() else 0o600
            assert _mode(p) == want, f"{p.relative_to(tmp_path)}: {oct(_mode(p))}"
        st.close()
    finally:
        os.umask(old)


def test_existing_loose_root_is_tightened(tmp_path):
    root = tmp_path / "loose"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    Store(root).close()
    assert _mode(root) == 0o700


def test_keep_redacted_never_writes_raw_audio(tmp_path):
    st = Store(tmp_path / "s")  # default policy
    assert st.keep == "redacted"
    sid = st.open_session("sim0", {})
    raw = _tone(f=300.0)
    red = np.zeros_like(raw)
    st.add_utterance(sid, 0, 0.0, 0.5, False, raw_pcm=raw, redacted_pcm=red, text_redacted="[NAME] called")
    st.add_utterance(sid, 1, 1.0, 1.5, False, raw_pcm=raw, redacted_pcm=None, text_redacted="x")  # no redacted audio
    wavs = list((tmp_path / "s").rglob("*.wav"))
    assert [p.name.endswith(".redacted.wav") for p in wavs] == [True]
    with wave.open(str(wavs[0])) as w:
        assert not np.frombuffer(w.readframes(w.getnframes()), "<i2").any()  # the redacted (silent) audio, not raw
    # nothing anywhere in the store holds the raw samples
    needle = raw[1000:1400].astype("<i2").tobytes()
    for p in _all_paths(tmp_path / "s"):
        if p.is_file():
            assert needle not in p.read_bytes(), p
    s = st.session(sid)
    assert all(u["raw_wav"] is None for u in s["utterances"])
    assert s["utterances"][1]["redacted_wav"] is None and s["utterances"][1]["text"] == "x"


def test_keep_none_keeps_text_only_and_raw_keeps_both(tmp_path):
    st = Store(tmp_path / "none", keep="none")
    sid = st.open_session("sim0", {})
    st.add_utterance(sid, 0, 0.0, 0.5, False, raw_pcm=_tone(), redacted_pcm=_tone(), text_redacted="hello")
    assert not list((tmp_path / "none").rglob("*.wav"))
    assert st.session(sid)["utterances"][0]["text"] == "hello"
    st2 = Store(tmp_path / "raw", keep="raw")
    sid = st2.open_session("sim0", {})
    st2.add_utterance(sid, 0, 0.0, 0.5, False, raw_pcm=_tone(), redacted_pcm=_tone(), text_redacted="hello")
    u = st2.session(sid)["utterances"][0]
    assert Path(u["raw_wav"]).is_file() and Path(u["redacted_wav"]).is_file()
    with pytest.raises(BadInput):
        Store(tmp_path / "bad", keep="everything")


def test_failed_commit_leaves_no_files(tmp_path):
    st = Store(tmp_path / "s")
    with pytest.raises(HushmicError):
        st.add_utterance("nosuchsession", 0, 0.0, 0.5, False, redacted_pcm=_tone())
    sid = st.open_session("sim0", {})
    orig = st._tx

    def boom():
        raise sqlite3.OperationalError("disk I/O error")
    st._tx = boom
    with pytest.raises(sqlite3.OperationalError):
        st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone())
    st._tx = orig
    assert not list((tmp_path / "s").rglob("*.wav"))
    assert st.utterance_count() == 0


def test_leftovers_are_cleaned_on_open(tmp_path):
    root = tmp_path / "s"
    st = Store(root)
    sid = st.open_session("sim0", {})
    uid = st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone())
    st.close()
    sdir = root / "audio" / sid
    (sdir / ".tmp-abc123.wav").write_bytes(b"RIFF half")
    (sdir / "deadbeef0000.redacted.wav").write_bytes(b"RIFF orphan: renamed but never committed")
    st = Store(root)
    left = sorted(p.name for p in sdir.iterdir())
    assert left == [f"{uid}.redacted.wav"]
    st.close()


def test_cleanup_waits_while_another_store_is_open(tmp_path):
    root = tmp_path / "s"
    writer = Store(root)
    sid = writer.open_session("sim0", {})
    writer.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone())
    inflight = root / "audio" / sid / ".tmp-inflight.wav"
    inflight.write_bytes(b"RIFF being written right now")
    reader = Store(root)  # e.g. `hushmic sessions` while `hushmic listen` runs
    assert inflight.exists(), "a second opener must not delete a live writer's temp file"
    reader.close()
    writer.close()


CHILD = textwrap.dedent("""
    import sys, numpy as np
    from hushmic.store import Store
    st = Store(sys.argv[1], keep="raw")
    sid = st.open_session("sim0", {"serial": "X"})
    print("session", sid, flush=True)
    t = np.arange(16000 * 2) / 16000.0
    for i in range(100000):
        pcm = (8000 * np.sin(2 * np.pi * (200 + i % 50) * t)).astype(np.int16)
        st.add_utterance(sid, i, 2.0 * i, 2.0 * i + 2.0, False, raw_pcm=pcm, redacted_pcm=pcm // 2,
                         text_redacted=f"utterance {i}")
        print("ok", i, flush=True)
""")


def _check_consistent(root):
    st = Store(root)  # opening cleans leftovers
    assert st._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = 0
    for s in st.sessions():
        for u in st.session(s["id"])["utterances"]:
            n += 1
            for key in ("raw_wav", "redacted_wav"):
                assert u[key], f"utterance {u['id']} lost its {key}"
                with wave.open(u[key]) as w:
                    assert w.getnframes() == u["samples"] == 32000
                    assert w.getframerate() == 16000 and w.getnchannels() == 1
                    x = np.frombuffer(w.readframes(w.getnframes()), "<i2")
                    assert len(x) == 32000
            assert u["text"] == f"utterance {u['segment']}"
    files = [p for p in Path(root).rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".tmp-")], "temp files left after open"
    wavs = [p for p in files if p.suffix == ".wav"]
    assert len(wavs) == 2 * n, "orphan WAVs left after open (or missing ones)"
    st.close()
    return n


def test_sigkill_mid_stream_leaves_no_half_entries(tmp_path):
    root = tmp_path / "s"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    committed_total = 0
    rng = np.random.default_rng(7)
    for round_ in range(4):
        p = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, env=env, text=True)
        try:
            seen = 0
            for line in p.stdout:
                if line.startswith("ok"):
                    seen += 1
                    if seen >= 3:
                        break
            time.sleep(float(rng.uniform(0.0, 0.05)))  # land somewhere inside a later write
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)
            seen += sum(1 for line in p.stdout if line.startswith("ok"))  # reported before the kill
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
        assert seen >= 3, "the writer did not get going"
        committed_total += seen
        n = _check_consistent(root)
        assert n >= committed_total, "a committed utterance was lost"
        # the only extra rows allowed: one per round, committed just before the kill but not yet reported
        assert n <= committed_total + round_ + 1


def test_kill_between_rename_and_commit_leaves_orphan_that_is_removed(tmp_path):
    """The exact crash window: WAVs renamed into place, row not yet committed."""
    root = tmp_path / "s"
    code = textwrap.dedent("""
        import os, sys, numpy as np
        from hushmic import store
        st = store.Store(sys.argv[1], keep="raw")
        sid = st.open_session("sim0", {})
        def die():
            os._exit(9)  # as abrupt as SIGKILL: no cleanup handlers run
        st._tx = die
        st.add_utterance(sid, 0, 0.0, 1.0, False, raw_pcm=np.ones(16000, np.int16), redacted_pcm=np.ones(16000, np.int16))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code, str(root)], env=env)
    assert r.returncode == 9
    assert len(list(root.rglob("*.wav"))) == 2  # renamed into place, never committed
    st = Store(root)
    assert st.utterance_count() == 0
    assert not list(root.rglob("*.wav"))
    st.close()


def _age(st, sid, days):
    old = time.time() - days * 86400
    with st._tx() as db:
        db.execute("UPDATE utterances SET created=? WHERE session_id=?", (old, sid))
        db.execute("UPDATE sessions SET started=? WHERE id=?", (old, sid))


def test_purge_removes_rows_and_files(tmp_path):
    root = tmp_path / "s"
    st = Store(root, keep="raw")
    old_sid = st.open_session("sim0", {})
    new_sid = st.open_session("sim1", {})
    for sid in (old_sid, new_sid):
        for i in range(3):
            st.add_utterance(sid, i, i, i + 0.5, False, raw_pcm=_tone(), redacted_pcm=_tone(), text_redacted="t")
    _age(st, old_sid, 40)
    old_files = [Path(u[k]) for u in st.session(old_sid)["utterances"] for k in ("raw_wav", "redacted_wav")]
    assert all(p.exists() for p in old_files)
    st.close_session(old_sid, {})  # an open session is never purged (test_purge_never_deletes_an_open_session)

    dry = st.purge(dry_run=True)
    assert (dry["utterances"], dry["sessions"], dry["files"]) == (3, 1, 6) and dry["bytes"] > 0
    assert all(p.exists() for p in old_files) and len(st.sessions()) == 2

    r = st.purge()  # default retention: 30 days
    assert (r["utterances"], r["sessions"], r["files"]) == (3, 1, 6)
    assert not any(p.exists() for p in old_files)
    assert not (root / "audio" / old_sid).exists()
    assert [s["id"] for s in st.sessions()] == [new_sid]
    with pytest.raises(BadInput):
        st.session(old_sid)

    assert st.purge(older_than_days=1)["utterances"] == 0
    st.close_session(new_sid, {})
    r = st.purge(all=True)
    assert r["utterances"] == 3 and r["sessions"] == 1
    assert st.sessions() == [] and not list(root.rglob("*.wav"))
    st.close()


def test_purge_cli(tmp_path, capsys):
    root = tmp_path / "s"
    st = Store(root)
    sid = st.open_session("sim0", {})
    st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone(), text_redacted="t")
    _age(st, sid, 10)
    st.close()
    assert cli_main(["purge", "--store", str(root), "--older-than", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["utterances"] == 0
    assert cli_main(["purge", "--store", str(root), "--older-than", "5", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["utterances"] == 1
    assert cli_main(["purge", "--store", str(root), "--older-than", "5", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert {k: r[k] for k in ("dry_run", "all", "older_than_days", "utterances", "sessions", "files")} == \
        {"dry_run": False, "all": False, "older_than_days": 5.0, "utterances": 1, "sessions": 1, "files": 1}
    assert r["bytes"] == 44 + 2 * 8000
    assert not list(root.rglob("*.wav"))


def test_sessions_cli(tmp_path, capsys):
    root = tmp_path / "s"
    st = Store(root)
    sid = st.open_session("sim0", {"profile": "devkitc1_inmp441"})
    st.add_utterance(sid, 0, 1.0, 2.0, True, redacted_pcm=_tone(16000), text_redacted="hello [NAME]")
    st.close_session(sid, {"frames": 100})
    st.close()
    assert cli_main(["sessions", "--store", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in out["sessions"]] == [sid] and out["sessions"][0]["utterances"] == 1
    assert cli_main(["sessions", "show", sid[:6], "--store", str(root), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["id"] == sid and s["utterances"][0]["truncated"] is True and s["utterances"][0]["text"] == "hello [NAME]"
    cap = capsys.readouterr()
    assert cli_main(["sessions", "--store", str(root)]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and sid in cap.err  # human output never on stdout
    assert cli_main(["sessions", "show", "nope", "--store", str(root)]) == 2
    assert cli_main(["sessions", "show", "--store", str(root)]) == 2


def test_logs_never_contain_transcripts_or_hello_fields(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    root = tmp_path / "s"
    st = Store(root, keep="raw")
    board = "/dev/serial/by-id/usb-Espressif_USB_JTAG_serial_debug_unit_F4:12:FA:C0:FF:EE-if00"
    sid = st.open_session(board, {"serial": "SN-4242-SECRET", "mac": "f4:12:fa:c0:ff:ee"})
    st.add_utterance(sid, 0, 0.0, 0.5, True, raw_pcm=_tone(), redacted_pcm=_tone(),
                     text_redacted=SECRET_TEXT, backend="whisper", audit={"spans": [{"type": "NAME", "t0": 0.1, "t1": 0.2}]})
    st.close_session(sid, {"frames": 5})
    st.purge(all=True, dry_run=True)
    st.purge(all=True)
    st.close()
    Store(root).close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "hushmic.store" in {r.name for r in caplog.records} and sid in text  # it does log, with ids
    for word in ("Zebediah", "Quux", "card", "four one", "SN-4242", "f4:12", "F4:12", "Espressif", "/dev/"):
        assert word not in text, f"log leaked {word!r}"


def test_several_boards_write_concurrently(tmp_path):
    """`listen` with several boards: one Store, one thread per board; every utterance lands in its own session."""
    import threading
    st = Store(tmp_path / "s")
    sids = [st.open_session(f"sim{i}", {}) for i in range(3)]
    errors = []

    def worker(k):
        try:
            for i in range(15):
                st.add_utterance(sids[k], i, i, i + 0.5, False, redacted_pcm=_tone(1600, 200 + 100 * k),
                                 text_redacted=f"board {k} utt {i}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, sid in enumerate(sids):
        utts = st.session(sid)["utterances"]
        assert [u["segment"] for u in utts] == list(range(15))
        assert all(u["text"].startswith(f"board {k} ") for u in utts)
        assert all(Path(u["redacted_wav"]).parent.name == sid for u in utts)
    st.close()


# ---------------------------------------------------------------------------------------------- issue 13
def _tree(d):
    """Every file and directory under d with its bytes and mode (links not followed), to prove nothing changed."""
    out = {}
    for p in sorted(Path(d).rglob("*")):
        st = os.lstat(p)
        out[str(p)] = (stat.S_IMODE(st.st_mode), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
    out[str(d)] = stat.S_IMODE(os.lstat(d).st_mode)
    return out


def test_planted_symlinks_never_lead_outside_the_store(tmp_path, capsys):
    """Defect 1: audio/ a link to another folder and .lock a link to another file made `hushmic sessions` delete that
    folder's files and chmod both. Now the store refuses to open, and nothing outside it changes."""
    victim = tmp_path / "victim"
    (victim / "deep").mkdir(parents=True)
    (victim / "a.wav").write_bytes(b"precious")
    (victim / "deep" / "b.txt").write_bytes(b"precious too")
    os.chmod(victim, 0o755)
    vfile = tmp_path / "victim.conf"
    vfile.write_text("keep me")
    os.chmod(vfile, 0o644)
    before = _tree(victim), vfile.read_bytes(), stat.S_IMODE(os.stat(vfile).st_mode)

    root = tmp_path / "s"
    Store(root).close()
    shutil.rmtree(root / "audio")
    (root / "audio").symlink_to(victim)
    os.unlink(root / ".lock")
    (root / ".lock").symlink_to(vfile)
    assert cli_main(["sessions", "--store", str(root)]) == 2
    err = capsys.readouterr().err
    assert "symlink" in err and len(err.strip().splitlines()) == 1
    assert (_tree(victim), vfile.read_bytes(), stat.S_IMODE(os.stat(vfile).st_mode)) == before

    # the lock alone, and the database as a link
    (root / "audio").unlink()
    (root / "audio").mkdir(mode=0o700)
    with pytest.raises(BadInput, match=r"\.lock is a symlink"):
        Store(root)
    (root / ".lock").unlink()
    os.rename(root / "hushmic.db", tmp_path / "elsewhere.db")
    (root / "hushmic.db").symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(BadInput, match=r"hushmic\.db is a symlink"):
        Store(root)
    assert stat.S_IMODE(os.stat(vfile).st_mode) == 0o644


def test_cleanup_deletes_only_names_the_store_makes(tmp_path):
    """Inside audio/: a session-named link to another folder, a stranger's file, and a link named like a WAV:
    cleanup (sole opener) removes only its own orphans and temp files, never through a link."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "0123456789ab.redacted.wav").write_bytes(b"not the store's")
    (victim / ".tmp-x.wav").write_bytes(b"not the store's either")
    root = tmp_path / "s"
    st = Store(root)
    sid = st.open_session("sim0", {})
    uid = st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone())
    st.close_session(sid, {})
    st.close()
    (root / "audio" / "abcdefabcdef").symlink_to(victim)
    sdir = root / "audio" / sid
    (sdir / "notes.txt").write_text("the user's own note")
    (sdir / "fedcba987654.redacted.wav").symlink_to(victim / "0123456789ab.redacted.wav")
    (sdir / "deadbeef0000.redacted.wav").write_bytes(b"a real orphan")
    (sdir / ".tmp-half.wav").write_bytes(b"a real temp file")
    Store(root).close()
    assert sorted(p.name for p in victim.iterdir()) == [".tmp-x.wav", "0123456789ab.redacted.wav"]
    assert (root / "audio" / "abcdefabcdef").is_symlink()
    left = {p.name for p in sdir.iterdir()}
    assert left == {"fedcba987654.redacted.wav", f"{uid}.redacted.wav", "notes.txt"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown to another user")
def test_store_of_another_user_is_refused(tmp_path, capsys):
    """Defect 2: a 0777 folder owned by nobody, used by root: modes were tightened and files written."""
    root = tmp_path / "theirs"
    root.mkdir()
    os.chmod(root, 0o777)
    os.chown(root, 65534, 65534)
    assert cli_main(["sessions", "--store", str(root)]) == 2
    err = capsys.readouterr().err
    assert "not to you" in err and "--store" in err and len(err.strip().splitlines()) == 1
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o777 and os.listdir(root) == []
    # our own store with a file of theirs inside
    mine = tmp_path / "mine"
    Store(mine).close()
    os.chown(mine / "hushmic.db", 65534, 65534)
    with pytest.raises(BadInput, match="hushmic.db belongs to user"):
        Store(mine)


def test_purge_never_deletes_an_open_session(tmp_path):
    """Defect 4: purge (or listen --retention-days) while listen runs deleted the live session, and every later
    utterance failed. Now the open session stays (its old utterances go), and the writer goes on."""
    root = tmp_path / "s"
    live = Store(root)
    sid = live.open_session("sim0", {})
    live.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone(), text_redacted="before")
    p = subprocess.run([sys.executable, "-m", "hushmic", "purge", "--all", "--store", str(root), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["utterances"] == 1 and r["sessions"] == 0 and r["open_sessions_kept"] == 1
    with Store(root, max_age_days=0) as other:  # as `listen --retention-days 0` would at its start
        assert other.purge()["sessions"] == 0
        assert other.session_is_open(sid) is True
    live.add_utterance(sid, 1, 1.0, 1.5, False, redacted_pcm=_tone(), text_redacted="after")
    live.close_session(sid, {"frames": 1})
    with Store(root) as st:
        assert [u["text"] for u in st.session(sid)["utterances"]] == ["after"]
        assert st.session_is_open(sid) is False
        assert st.purge(all=True)["sessions"] == 1
    live.close()
    assert not (root / "audio" / sid).exists()


def test_session_gone_is_a_specific_error(tmp_path):
    st = Store(tmp_path / "s")
    sid = st.open_session("sim0", {})
    with sqlite3.connect(tmp_path / "s" / "hushmic.db") as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM sessions WHERE id=?", (sid,))
    for call in (lambda: st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=_tone()),
                 lambda: st.add_utterance(sid, 0, 0.0, 0.5, False, text_redacted="no audio"),
                 lambda: st.add_mute(sid, 0.0, 1.0),
                 lambda: st.close_session(sid, {})):
        with pytest.raises(store_mod.SessionGone) as e:
            call()
        assert e.value.session_id == sid and isinstance(e.value, HushmicError)
    assert not list((tmp_path / "s").rglob("*.wav"))
    st.close()


KILLED = textwrap.dedent("""
    import os, sys, numpy as np
    from hushmic.store import Store
    st = Store(sys.argv[1])
    sid = st.open_session("sim0", {})
    st.add_utterance(sid, 0, 0.0, 0.5, False, redacted_pcm=np.zeros(8000, np.int16), text_redacted="x")
    print(sid, flush=True)
    sys.stdin.read()
""")


def test_session_of_a_killed_process_is_closed_on_next_open(tmp_path):
    """Friction: a session killed mid-run showed `ended -` for ever. The next open closes it (its lock is free),
    while a session another live process holds stays open."""
    root = tmp_path / "s"
    live = Store(root)
    live_sid = live.open_session("live", {})
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    sid = proc.stdout.readline().strip()
    with Store(root) as st:  # while it runs: open, not closed
        assert st.session(sid)["ended"] is None and st.session_is_open(sid) is True
    proc.kill()
    proc.wait()
    with Store(root) as st:
        s = st.session(sid)
        assert s["ended"] is not None and s["ended"] >= s["started"] and s["stats"] == {"recovered": True}
        assert st.session(live_sid)["ended"] is None
    live.close()
