"""The local store: private modes, atomic writes under SIGKILL, keep policies, retention, logs without text."""
import json
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
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
