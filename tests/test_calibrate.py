"""`hushmic calibrate` on the simulated board, with WAVs whose level is known.

The simulated profile's shift 16 is unity gain, so a clip scaled by 2^-k must get a suggestion exactly k shift steps
lower (more gain), and the suggested shift must put its speech peaks inside -12..-6 dBFS.
"""
import json
import math

import numpy as np
import pytest

from hushmic import audio_io, cli
from hushmic.commands import calibrate as cal

try:
    from hushmic.sim.launcher import SimBoard, vm_path

    vm_path()
except Exception as e:  # pragma: no cover
    pytest.skip(f"simulated board unavailable: {e}", allow_module_level=True)

from pathlib import Path

SPEECH = Path(__file__).parent / "fixtures" / "sim" / "speech.wav"
SECONDS = 8.0


def _clip(tmp_path, name, peak_dbfs=None, gain=1.0, seconds=SECONDS):
    """The first `seconds` of the speech fixture, scaled so its 99.9th-percentile |sample| is at peak_dbfs (or by
    gain), saturated to int16 like a real converter."""
    x = audio_io.read_wav_strict(SPEECH)[: int(seconds * 16000)].astype(np.float64)
    if peak_dbfs is not None:
        gain = 32768 * 10 ** (peak_dbfs / 20) / np.percentile(np.abs(x), 99.9)
    y = np.clip(np.round(x * gain), -32768, 32767).astype(np.int16)
    p = tmp_path / name
    audio_io.write_wav(p, y)
    return p


def _calibrate(capsys, wav, *extra):
    rc = cli.main(["calibrate", "--sim", str(wav), "--json", *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out), err


def test_suggestion_moves_by_the_level_difference(capsys, tmp_path):
    loud = _clip(tmp_path, "loud.wav", peak_dbfs=-3.0)  # 6 dB above the target at unity: one step quieter
    quiet = _clip(tmp_path, "quiet.wav", peak_dbfs=-3.0 - 20 * math.log10(16))  # 24.08 dB = 4 shift steps quieter
    r_loud, err = _calibrate(capsys, loud)
    r_quiet, _ = _calibrate(capsys, quiet)
    assert r_loud["shift_measured"] == r_quiet["shift_measured"] == 16
    # the measured peaks differ by what was done to the WAV
    assert abs((r_loud["speech_peak_dbfs"] - r_quiet["speech_peak_dbfs"]) - 20 * math.log10(16)) < 0.5
    # right way: too loud -> more shift (less gain); too quiet -> less shift (more gain) ...
    assert r_loud["suggested_shift"] > 16 > r_quiet["suggested_shift"]
    # ... and by the right amount: 4 steps of 6.02 dB for a 24.08 dB difference
    assert r_loud["suggested_shift"] - r_quiet["suggested_shift"] == 4
    for r in (r_loud, r_quiet):
        assert -12.0 <= r["expected_peak_dbfs"] <= -6.0
        assert r["clipped_fraction"] < 0.001 and r["warnings"] == []  # a few peaks may touch full scale
        assert r["noise_floor_dbfs"] < r["speech_rms_dbfs"] < r["speech_peak_dbfs"]
        assert r["segments"] >= 1 and r["heartbeats"] >= 3
    assert "suggested shift" in err


def test_clipping_is_reported_and_never_suggests_more_gain(capsys, tmp_path):
    hot = _clip(tmp_path, "hot.wav", gain=8.0)  # 18 dB hotter than the fixture: heavily clipped int16
    r, err = _calibrate(capsys, hot)
    assert r["clipped_fraction"] > 0.001
    assert r["suggested_shift"] >= r["shift_measured"] + 2
    assert any("full scale" in w for w in r["warnings"]) and "warning" in err


def test_measuring_at_another_shift_gives_the_same_answer(capsys, tmp_path):
    # the board's level at --shift 18 is 12 dB lower; the suggestion must not depend on where it was measured
    wav = _clip(tmp_path, "mid.wav", peak_dbfs=-3.0)
    r16, _ = _calibrate(capsys, wav)
    r18, _ = _calibrate(capsys, wav, "--shift", "18")
    assert r18["shift_measured"] == 18
    assert abs((r16["speech_peak_dbfs"] - r18["speech_peak_dbfs"]) - 2 * cal.DB_PER_SHIFT) < 0.5
    assert r16["suggested_shift"] == r18["suggested_shift"]


def test_phased_measurement_on_a_real_time_board(tmp_path):
    """The --port path (quiet phase, then speaking phase, by wall clock) on a real-time simulated board."""
    x = audio_io.read_wav_strict(SPEECH)[: 4 * 16000]
    rng = np.random.default_rng(1)
    quiet = (rng.normal(0, 30, 24000)).astype(np.int16)  # 1.5 s of room noise, about -61 dBFS rms
    wav = tmp_path / "room_then_speech.wav"
    audio_io.write_wav(wav, np.concatenate([quiet, x]))
    with SimBoard(wav, fast=False) as b:
        r = cal.measure(b.port, quiet_s=1.5, speech_s=2.5, prompts=False)
    assert r["noise_floor_dbfs"] < -50 and r["speech_seconds"] > 1.0
    assert r["noise_floor_dbfs"] < r["speech_peak_dbfs"] - 30


def test_suggest_is_pure_arithmetic():
    assert cal.suggest(16, -9.0, 0.0) == (16, False)
    assert cal.suggest(16, -3.0, 0.0) == (17, False)
    assert cal.suggest(11, -60.0, 0.0) == (8, False)  # clamped to the board's range
    assert cal.suggest(16, -1.0, 0.01) == (18, True)


def test_usage_errors_exit_2(capsys, tmp_path):
    assert cli.main(["calibrate"]) == 2
    assert cli.main(["calibrate", "--sim", str(tmp_path / "none.wav")]) == 2
    short = _clip(tmp_path, "short.wav", seconds=1.0)
    assert cli.main(["calibrate", "--sim", str(short)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "at least 2 s" in err
