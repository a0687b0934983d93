"""`hushmic listen` against simulated boards: several boards at once, unplug mid-utterance, bad and busy ports,
Ctrl-C, mute periods and retention in the store, and (the one long test) a 60 s real-time stream with 0 lost frames
and flat host memory. Transcription is off here (--no-transcribe): ASR is not the point, and its own tests cover it.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from hushmic.listen import Listener
from hushmic.store import Store

pytest.importorskip("hushmic.sim.launcher")
from hushmic.sim.launcher import SimBoard, vm_path  # noqa: E402

try:
    vm_path()
except Exception as e:  # pragma: no cover - platforms without the MicroPython VM wheel
    pytest.skip(f"simulated board unavailable: {e}", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
VAD = Path("/work/shared/eval/vad")
if not VAD.exists():
    VAD = REPO.parent / "shared" / "eval" / "vad"
WAV_A = VAD / "dev_000.wav"
WAV_B = VAD / "dev_001.wav"


@pytest.fixture(autouse=True)
def _needs_corpus(request):
    """Tests that play the VAD dev corpus skip without it; the Listener unit tests (_unit_listener) need none."""
    if not WAV_A.exists() and "_unit_listener" not in request.function.__code__.co_names:
        pytest.skip(f"the VAD dev corpus is not at {VAD}")


def _env(home):
    env = dict(os.environ)
    env["HUSHMIC_HOME"] = str(home)
    return env


def _hushmic(args, home, timeout=60, **kw):
    return subprocess.run([sys.executable, "-m", "hushmic", *args], env=_env(home), capture_output=True, text=True,
                          timeout=timeout, **kw)


def _events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _one_line_error(p):
    err = p.stderr.strip()
    assert "Traceback" not in p.stderr, p.stderr
    assert err and len(err.splitlines()) == 1, p.stderr
    assert p.stdout == ""
    return err


# ---------------------------------------------------------------------------------------------- several boards
def test_two_simulated_boards_each_utterance_in_its_own_session(tmp_path):
    p = _hushmic(["listen", "--sim", str(WAV_A), "--sim", str(WAV_B), "--fast", "--json", "--no-transcribe"], tmp_path)
    assert p.returncode == 0, p.stderr
    evs = _events(p.stdout)
    assert all("board" in e and "t" in e and "event" in e for e in evs)
    assert evs[-1]["event"] == "stats" and evs[-1]["final"] is True
    assert evs[-1]["frames_lost"] == 0 and evs[-1]["frames_sent"] == evs[-1]["frames_received"] > 0
    ends = {}
    for e in evs:
        if e["event"] == "segment_end":
            ends.setdefault(e["board"], set()).add((e["segment"], e["start"], e["end"], e["truncated"]))
    assert set(ends) == {"sim0", "sim1"} and all(ends.values())
    with Store(tmp_path) as st:
        sessions = st.sessions()
        assert sorted(s["board"] for s in sessions) == ["sim0", "sim1"]
        for s in sessions:
            full = st.session(s["id"])
            got = {(u["segment"], u["start"], u["end"], u["truncated"]) for u in full["utterances"]}
            assert got == ends[s["board"]], s["board"]
            assert full["ended"] is not None and full["stats"]["frames_lost"] == 0
    # the same board alone gives the same utterances on its timeline (the other board does not disturb it)
    alone = _hushmic(["listen", "--sim", str(WAV_B), "--fast", "--json", "--no-transcribe", "--no-store"], tmp_path)
    segs = {(e["start"], e["end"]) for e in _events(alone.stdout) if e["event"] == "segment_end"}
    assert segs == {(s, e) for _, s, e, _ in ends["sim1"]}


def test_several_ports_at_once(tmp_path):
    """Two boards by --port (simulated boards opened by path, as real ones are): events carry the port's name."""
    with SimBoard(WAV_A, fast=True, name="pa") as a, SimBoard(WAV_B, fast=True, name="pb") as b:
        p = _hushmic(["listen", "--port", a.port, "--port", b.port, "--json", "--no-transcribe", "--duration", "4"],
                     tmp_path)
    assert p.returncode == 0, p.stderr
    evs = _events(p.stdout)
    boards = {e["board"] for e in evs}
    assert {"ttypa", "ttypb"} <= boards
    hellos = [e for e in evs if e["event"] == "hello"]
    assert {e["board"] for e in hellos} == {"ttypa", "ttypb"}
    assert any(e["event"] == "segment_end" and e["board"] == "ttypa" for e in evs)
    assert any(e["event"] == "segment_end" and e["board"] == "ttypb" for e in evs)
    assert evs[-1]["event"] == "stats" and evs[-1]["frames_lost"] == 0


@pytest.mark.parametrize("faults", ["0.002:7", "0.002:3"])
def test_faults_on_the_line(tmp_path, faults):
    """Seed 7 used to corrupt the board's first hello reply, and the retry cost ~25 s of the recording at --fast
    pace: the recording must stream whole, with CRC errors and counted losses."""
    p = _hushmic(["listen", "--sim", str(WAV_A), "--fast", "--json", "--no-transcribe", "--no-store",
                  "--faults", faults], tmp_path)
    assert p.returncode == 0, p.stderr
    evs = _events(p.stdout)
    st = evs[-1]
    assert st["event"] == "stats" and st["frames_sent"] > 700
    assert st["crc_errors"] > 0 and st["frames_lost"] == st["frames_sent"] - st["frames_received"]
    assert st["frames_received"] > 0.6 * st["frames_sent"]
    assert [e for e in evs if e["event"] == "segment_end"]


# ---------------------------------------------------------------------------------------------- unplug
def test_unplug_mid_utterance_saves_it_truncated_and_reconnects(tmp_path):
    evs = []
    st = Store(tmp_path)
    # real-time pace: in fast mode the replugged VM would play the rest of the WAV before the host is back
    sb = SimBoard(WAV_A, fast=False, name="sim0")
    sb.start()
    lst = Listener([(sb.name, sb.port, lambda: sb.timeline_offset, None)], evs.append, store=st)
    try:
        lst.start()
        b = lst.boards["sim0"]
        deadline = time.monotonic() + 20
        unplugged_at = None
        while time.monotonic() < deadline:
            lst.pump(0.02)
            if unplugged_at is None and b.utt is not None and len(b.utt.frames) >= 40:
                sb.unplug()  # the VM dies mid-utterance and the port disappears
                unplugged_at = time.monotonic()
                while time.monotonic() - unplugged_at < 0.6:
                    lst.pump(0.02)
                assert not b.connected
                sb.replug()
            if unplugged_at is not None and b.connects == 2:
                done = [e for e in evs if e["event"] == "segment_end" and not e["truncated"]]
                if len(done) >= 2:
                    break
        assert unplugged_at is not None, "no utterance to cut"
        lst.stop_streams()  # as listen does at the end: stop, ask for the counters, drain
        lst.request_status()
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            lst.pump(0.05)
    finally:
        lst.shutdown()
        sb.stop()
    ends = [e for e in evs if e["event"] == "segment_end"]
    hellos = [e for e in evs if e["event"] == "hello"]
    assert len(hellos) == 2 and b.connects == 2
    cut = [e for e in ends if e["truncated"]]
    assert len(cut) == 1
    after = [e for e in ends if e["start"] > cut[0]["end"]]
    assert len(after) >= 2 and not any(e["truncated"] for e in after), ends
    with st:
        (s,) = st.sessions()
        utts = st.session(s["id"])["utterances"]
    stored = {(u["segment"], u["truncated"]) for u in utts}
    assert stored == {(e["segment"], e["truncated"]) for e in ends}
    assert (cut[0]["segment"], True) in stored
    stats = lst.final_stats()
    assert stats["frames_lost"] == 0 and stats["frames_sent"] == stats["frames_received"]


# ---------------------------------------------------------------------------------------------- bad ports
def test_nonexistent_port_one_line_exit_2(tmp_path):
    p = _hushmic(["listen", "--port", "/nonexistent/ttyACM9", "--json"], tmp_path)
    assert p.returncode == 2
    assert "/nonexistent/ttyACM9" in _one_line_error(p)


def test_busy_port_one_line_exit_1(tmp_path):
    with SimBoard(WAV_A, fast=True, name="busy") as sb:
        holder = serial.Serial(sb.port, exclusive=True)
        try:
            p = _hushmic(["listen", "--port", sb.port, "--json"], tmp_path)
        finally:
            holder.close()
    assert p.returncode == 1
    assert "busy" in _one_line_error(p)


# ---------------------------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_flushes_truncated_utterance_and_closes_session(tmp_path):
    """Real-time pace; SIGINT lands inside the first utterance (1.5 s to 3.7 s of dev_000)."""
    proc = subprocess.Popen([sys.executable, "-m", "hushmic", "listen", "--sim", str(WAV_A), "--json",
                             "--no-transcribe"], env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stdout:
            ev = json.loads(line)
            seen.append(ev)
            if ev["event"] == "segment_start":
                time.sleep(0.5)
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    evs = seen + _events(out)
    assert evs[-1]["event"] == "stats" and evs[-1]["final"] is True
    ends = [e for e in evs if e["event"] == "segment_end"]
    assert len(ends) == 1 and ends[0]["truncated"] is True and ends[0]["end"] > ends[0]["start"]
    with Store(tmp_path) as st:
        (s,) = st.sessions()
        full = st.session(s["id"])
    assert full["ended"] is not None
    assert [(u["segment"], u["truncated"]) for u in full["utterances"]] == [(ends[0]["segment"], True)]


# ---------------------------------------------------------------------------------------------- store
def test_mute_periods_recorded_and_retention_applied_at_start(tmp_path):
    with Store(tmp_path) as st:  # an utterance from 40 days ago, and one from today
        old = st.open_session("old-board", {})
        st.add_utterance(old, 1, 0.0, 1.0, False, redacted_pcm=np.zeros(16000, np.int16), text_redacted="old")
        new = st.open_session("new-board", {})
        st.add_utterance(new, 1, 0.0, 1.0, False, redacted_pcm=np.zeros(16000, np.int16), text_redacted="new")
    db = sqlite3.connect(tmp_path / "hushmic.db")
    with db:
        db.execute("UPDATE utterances SET created = created - 40 * 86400 WHERE session_id = ?", (old,))
        db.execute("UPDATE sessions SET started = started - 40 * 86400 WHERE id = ?", (old,))
    db.close()
    p = _hushmic(["listen", "--sim", str(WAV_A), "--fast", "--json", "--no-transcribe", "--mute", "6:9"], tmp_path)
    assert p.returncode == 0, p.stderr
    with Store(tmp_path) as st:
        boards = {s["board"]: s for s in st.sessions()}
        assert "old-board" not in boards and "new-board" in boards
        full = st.session(boards["sim0"]["id"])
    (mute,) = full["mutes"]
    assert mute[0] == pytest.approx(6.0, abs=0.06) and mute[1] == pytest.approx(9.0, abs=0.1)
    assert all(not (mute[0] <= u["start"] < mute[1]) for u in full["utterances"])


def test_muted_at_end_is_recorded_open(tmp_path):
    p = _hushmic(["listen", "--sim", str(WAV_A), "--fast", "--json", "--no-transcribe", "--mute", "11:600"], tmp_path)
    assert p.returncode == 0, p.stderr
    with Store(tmp_path) as st:
        (s,) = st.sessions()
        mutes = st.session(s["id"])["mutes"]
    assert len(mutes) == 1 and mutes[0][0] == pytest.approx(11.0, abs=0.06) and mutes[0][1] is None


# ---------------------------------------------------------------------------------------------- 60 s stream
def test_stream_60s_realtime_no_loss_flat_memory(tmp_path):
    sys.path.insert(0, str(REPO))
    try:
        from bench.stream_bench import run_stream
    finally:
        sys.path.remove(str(REPO))
    r = run_stream(seconds=60, store_dir=tmp_path)
    assert r["frames_sent"] > 1000
    assert r["frames_lost"] == 0 and r["frames_received"] == r["frames_sent"]
    assert r["crc_errors"] == 0
    assert r["utterances"] >= 10
    # host memory steady: Python heap growth (tracemalloc) after warm-up, and RSS
    assert r["py_heap_growth_kb"] < 1024, r
    assert r["rss_growth_kb"] < 8 * 1024, r


# ---------------------------------------------------------------------------------------------- Listener logic
def _msg(kind, **f):
    from hushmic.protocol import Message

    return Message(kind, 0, 0, f)


HELLO = {"firmware": "0.1.0", "protocol": "1.0", "profile": "p", "rate": 16000, "frame_ms": 10, "codec": "adpcm",
         "muted": False}


def _unit_listener(offset_fn=None):
    evs = []
    lst = Listener([("b", "/nonexistent", offset_fn, None)], evs.append)
    return lst, lst.boards["b"], evs


def _audio(fno):
    return _msg("audio", fno=fno, codec=1, samples=np.full(160, 1000, dtype=np.int16))


def test_real_board_timeline_counts_from_listen_start():
    lst, b, evs = _unit_listener()
    lst.t0 = time.monotonic() - 2.0  # listen started 2 s ago
    lst.handle(b, _msg("connected", hello=dict(HELLO)))
    lst.handle(b, _msg("status", uptime_ms=3_600_000, frames_sent=0))  # the board has been up for an hour
    lst.handle(b, _msg("segment_start", segment=1, fno=360_050))
    t = [e for e in evs if e["event"] == "segment_start"][0]["t"]
    assert 2.0 <= t <= 3.0


def test_board_reset_under_an_open_port_truncates_and_rebases():
    lst, b, evs = _unit_listener()
    lst.handle(b, _msg("connected", hello=dict(HELLO)))
    lst.handle(b, _msg("heartbeat", uptime_ms=20_000, frames_captured=0, frames_sent=300, drops=0, overruns=0,
                       noise_floor=-600, free_heap=0, state="listening"))
    lst.handle(b, _msg("segment_start", segment=1, fno=2000))
    for k in range(10):
        lst.handle(b, _audio(2000 + k))
    lst.handle(b, _msg("heartbeat", uptime_ms=400, frames_captured=0, frames_sent=0, drops=0, overruns=0,
                       noise_floor=-600, free_heap=0, state="idle"))  # uptime went back: it rebooted
    lst.shutdown()
    ends = [e for e in evs if e["event"] == "segment_end"]
    assert len(ends) == 1 and ends[0]["truncated"] is True
    assert any(e["event"] == "error" and "restarted" in e["message"] for e in evs)
    assert b.resets_seen == 1 and lst.final_stats()["frames_sent"] == 300


def test_board_muted_at_connect_is_known_and_its_audio_not_kept():
    lst, b, evs = _unit_listener(offset_fn=lambda: 0.0)
    lst.handle(b, _msg("connected", hello=dict(HELLO, muted=True), offset=0.0))
    assert b.muted and [e for e in evs if e["event"] == "mute"] == [{"event": "mute", "t": 0.0, "muted": True}]
    lst.handle(b, _audio(50))  # a board must never do this; the host does not keep it either
    assert b.utt is None and lst.final_stats()["audio_frames_while_muted"] == 1
    lst.shutdown()


def test_nothing_kept_past_the_end_of_the_recording():
    lst, b, evs = _unit_listener(offset_fn=lambda: 0.0)
    lst.end_t = 5.0
    lst.handle(b, _msg("connected", hello=dict(HELLO), offset=0.0))
    lst.handle(b, _msg("segment_start", segment=1, fno=520))
    lst.handle(b, _audio(520))
    lst.handle(b, _msg("segment_end", segment=1, fno=560, truncated=False))
    lst.shutdown()
    assert not [e for e in evs if e["event"].startswith("segment")]
