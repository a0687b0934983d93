"""firmware/endpoint.py: pre-roll, hangover, minimum speech and maximum utterance length.

Property tests run the module in CPython against an independent simulation of
the caller's ring; the same sequences are then replayed inside the MicroPython VM, which must give the same
results, and step() must not allocate there (heap_lock).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hushmic.paths import load_firmware_module

REPO = Path(__file__).resolve().parent.parent
FW = REPO / "firmware"
VM = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")


ep_mod = load_firmware_module("endpoint")
EP_START, EP_END, EP_TRUNC, EP_COUNT = ep_mod.EP_START, ep_mod.EP_END, ep_mod.EP_TRUNC, ep_mod.EP_COUNT


def simulate(decisions, **cfg):
    """Drive the endpointer like the firmware does; returns (sent flags, segments [(start, end, trunc)], raw)."""
    ep = ep_mod.Endpointer(**cfg)
    sent = [0] * len(decisions)
    segs = []
    cur = None
    raw = []
    for i, d in enumerate(decisions):
        r = ep.step(d)
        raw.append(r)
        n = r & EP_COUNT
        assert n <= ep.ring_frames + 1
        assert n <= i + 1
        for j in range(i - n + 1, i + 1):
            assert sent[j] == 0, "frame sent twice"
            sent[j] = 1
        if r & EP_START:
            assert cur is None, "START inside a segment"
            assert n >= 1
            cur = i - n + 1
        elif n:
            assert cur is not None, "frames sent outside a segment"
        if r & EP_END:
            assert cur is not None
            end = i + 1 if n else i
            segs.append((cur, end, bool(r & EP_TRUNC)))
            cur = None
        else:
            assert not (r & EP_TRUNC)
    if cur is not None:
        segs.append((cur, len(decisions), False))
    return sent, segs, raw


def runs_of(bits):
    out, s = [], None
    for i, b in enumerate(list(bits) + [0]):
        if b and s is None:
            s = i
        elif not b and s is not None:
            out.append((s, i))
            s = None
    return out


cfgs = st.fixed_dictionaries({
    "preroll_ms": st.integers(250, 600),
    "hangover_ms": st.integers(0, 400),
    "min_speech_ms": st.integers(10, 120),
    "max_utterance_ms": st.integers(1000, 3000),
    "detector_hold": st.integers(0, 4),
})
decisions = st.lists(st.integers(0, 1), min_size=0, max_size=700).map(
    lambda xs: [x for x in xs for _ in range(3)])  # runs, like a detector with hysteresis


@settings(max_examples=150, deadline=None)
@given(decisions, cfgs)
def test_invariants(dec, cfg):
    sent, segs, _ = simulate(dec, **cfg)
    pre = (cfg["preroll_ms"] + 9) // 10
    hang = (cfg["hangover_ms"] + 9) // 10
    mn = (cfg["min_speech_ms"] + 9) // 10
    mx = (cfg["max_utterance_ms"] + 9) // 10
    dh = cfg["detector_hold"]
    # segments are contiguous, disjoint, in order, and exactly the runs of sent (or touch after a TRUNC)
    for (a, b, _t) in segs:
        assert all(sent[a:b]) and b - a <= mx
    assert sum(b - a for a, b, _ in segs) == sum(sent)
    # every speech run that reaches min_speech is sent whole, with the pre-roll before it
    for a, b in runs_of(dec):
        if b - a >= mn:
            assert all(sent[a:b]), (a, b)
            lo = max(0, a - pre)
            # pre-roll: everything from a - pre is sent (it may belong to an earlier segment's tail)
            assert all(sent[lo:a]), (lo, a)
    # a segment ends exactly `hangover` frames after the detector's last evidence, which came `detector_hold`
    # frames before the last speech frame it reported (at once if the hold already spent the hangover; counted in
    # frames) before the last frame of the last speech run that lasted min_speech; shorter blips in the hangover
    # are sent but do not extend it
    for (a, b, t) in segs:
        assert any(dec[a:b]), "a segment with no speech"
        proven = [e - 1 for s, e in runs_of(dec) if e - s >= mn and a < e <= b]
        if not t and b < len(dec):
            assert proven and b - 1 - proven[-1] == max(hang - dh, 0), (a, b, proven, hang, dh)
    # short isolated blips (< min_speech, far from any segment) are never sent
    for a, b in runs_of(dec):
        if b - a < mn and all(d == 0 for d in dec[max(0, a - hang - 1):a]) and \
                all(d == 0 for d in dec[b:b + pre + mn + 1]) and not any(sent[max(0, a - hang - 1):a]):
            assert not any(sent[a:b])


def test_onset_and_end_timing():
    dec = [0] * 100 + [1] * 50 + [0] * 100
    sent, segs, raw = simulate(dec, preroll_ms=300, hangover_ms=300, min_speech_ms=50)
    assert segs == [(70, 180, False)]             # 30 frames pre-roll, 30 frames hangover
    assert raw[104] == (35 | EP_START)             # fires on the 5th speech frame with 30 + 5 frames
    assert raw[179] == (1 | EP_END)


def test_detector_hold_counts_towards_the_hangover():
    # the detector held its decision for 2 frames after its evidence stopped: frames 150, 151 were "speech"
    # only because of the hold, so the 300 ms hangover counts from frame 150 and the segment ends after 179
    dec = [0] * 100 + [1] * 52 + [0] * 100
    _, segs, raw = simulate(dec, preroll_ms=300, hangover_ms=300, min_speech_ms=50, detector_hold=2)
    assert segs == [(70, 180, False)]
    assert raw[179] == (1 | EP_END)
    _, segs, raw = simulate(dec, preroll_ms=300, hangover_ms=10, min_speech_ms=50, detector_hold=2)
    assert segs == [(70, 152, False)] and raw[152] == EP_END   # the hold outlasts the hangover: end at once
    for bad in (-1, 101, 1.5, "2"):
        with pytest.raises(ValueError):
            ep_mod.Endpointer(detector_hold=bad)


def test_a_blip_in_the_hangover_is_sent_but_does_not_extend_it():
    # a 3-frame blip (noise, a detector with a 2-frame hold) 10 frames into the hangover: sent, not extending
    dec = [0] * 100 + [1] * 50 + [0] * 10 + [1] * 3 + [0] * 100
    _, segs, _ = simulate(dec, preroll_ms=300, hangover_ms=300, min_speech_ms=50)
    assert segs == [(70, 180, False)]
    # a run of min_speech frames is speech again: the hangover restarts after it
    dec = [0] * 100 + [1] * 50 + [0] * 10 + [1] * 5 + [0] * 100
    _, segs, _ = simulate(dec, preroll_ms=300, hangover_ms=300, min_speech_ms=50)
    assert segs == [(70, 195, False)]
    # a run that starts near the end of the hangover and proves itself after it becomes the next segment,
    # with nothing sent twice and nothing of it lost
    dec = [0] * 100 + [1] * 50 + [0] * 28 + [1] * 8 + [0] * 100
    sent, segs, raw = simulate(dec, preroll_ms=300, hangover_ms=300, min_speech_ms=50)
    assert segs == [(70, 180, False), (180, 216, False)] and all(sent[178:186])
    assert raw[182] == (3 | EP_START)   # the run counted from 178, so it starts as soon as it lasts 50 ms


def test_hangover_zero_and_bridging():
    dec = [0] * 40 + [1] * 20 + [0] * 5 + [1] * 20 + [0] * 40
    _, segs, raw = simulate(dec, preroll_ms=250, hangover_ms=0, min_speech_ms=10)
    assert segs == [(15, 60, False), (60, 85, False)]
    assert raw[60] == EP_END                       # count 0: the silent frame is not sent
    _, segs, _ = simulate(dec, preroll_ms=250, hangover_ms=100, min_speech_ms=10)
    assert segs == [(15, 95, False)]               # a 50 ms gap is bridged by a 100 ms hangover


def test_max_length_truncates_and_continues_without_gap_or_repeat():
    dec = [0] * 30 + [1] * 450 + [0] * 60
    sent, segs, _ = simulate(dec, preroll_ms=300, hangover_ms=200, min_speech_ms=10, max_utterance_ms=2000)
    assert segs[0] == (0, 200, True) and segs[1] == (200, 400, True) and segs[2][0] == 400
    assert sum(sent) == 480 + 20 - 0   # 30 pre-roll (all there is) + 450 + 20 hangover


def test_configure_validation_and_ring():
    ep = ep_mod.Endpointer()
    assert ep.ring_frames == 40 + 5 - 1
    for bad in ({"preroll_ms": 240}, {"preroll_ms": 2001}, {"hangover_ms": -1}, {"min_speech_ms": 0},
                {"max_utterance_ms": 999}, {"preroll_ms": 300.0}, {"hangover_ms": True}):
        with pytest.raises(ValueError):
            ep.configure(**bad)
    assert ep.preroll_ms == 400 and ep.hangover_ms == 300   # unchanged after a failed configure
    ep.configure(preroll_ms=500, min_speech_ms=100)
    assert ep.ring_frames == 50 + 10 - 1 and ep.preroll_ms == 500


def test_reset_forgets_history():
    ep = ep_mod.Endpointer(min_speech_ms=10)
    for _ in range(50):
        ep.step(0)
    ep.reset()
    assert ep.step(1) == (1 | EP_START)   # no pre-roll from before the reset (mute wiped it)


@pytest.mark.skipif(VM is None, reason="MicroPython VM not installed")
def test_same_results_in_the_vm_without_allocation():
    import random
    rnd = random.Random(5)
    seqs = []
    for k in range(6):
        dec = []
        while len(dec) < 1500:
            dec += [rnd.randint(0, 1)] * rnd.randint(1, 40)
        seqs.append(dec)
    cfg = dict(preroll_ms=300, hangover_ms=150, min_speech_ms=60, max_utterance_ms=3000, detector_hold=2)
    expect = [simulate(d, **cfg)[2] for d in seqs]
    script = """
import micropython, json, array
from endpoint import Endpointer
seqs = %s
for dec in seqs:
    ep = Endpointer(**%s)
    d = array.array('b', dec)
    out = array.array('i', bytes(4 * len(dec)))
    micropython.heap_lock()
    for i in range(len(d)):
        out[i] = ep.step(d[i])
    micropython.heap_unlock()
    print(json.dumps(list(out)))
""" % (json.dumps(seqs), json.dumps(cfg))
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "t.py"
        p.write_text(script)
        r = subprocess.run([VM, str(p)], capture_output=True, text=True,
                           env=dict(os.environ, MICROPYPATH=f"{FW}{os.pathsep}.frozen"), timeout=60)
    assert r.returncode == 0, r.stderr + r.stdout
    got = [json.loads(line) for line in r.stdout.split("\n") if line.strip()]
    assert got == expect
