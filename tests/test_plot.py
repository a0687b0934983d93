"""`hushmic plot`: a session from the store and a WAV file; a clear one-line exit 1 without matplotlib."""
import json
import os
import stat
from pathlib import Path
import sys

import numpy as np
import pytest

from hushmic.audio_io import write_wav
from hushmic.cli import main as cli_main
from hushmic.store import Store

mpl = pytest.importorskip("matplotlib", reason="matplotlib is the optional `plot` extra (pip install 'hushmic[plot]')")


def _speechy(seconds, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000.0
    syll = (np.sin(2 * np.pi * 3.0 * t) > 0).astype(float)
    return (6000 * syll * np.sin(2 * np.pi * 180 * t) + 50 * rng.standard_normal(len(t))).astype(np.int16)


def _png_size(path):
    data = open(path, "rb").read(32)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _pixels(path):
    import matplotlib.image as mpimg
    return mpimg.imread(path)


def _red_columns(img):
    """Columns of the picture that hold the 'redacted' red (#d62728 at alpha 0.85 on white) in the lane panel."""
    want = [0.85 * c / 255 + 0.15 for c in (0xd6, 0x27, 0x28)]
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    red = (np.abs(r - want[0]) < 0.03) & (np.abs(g - want[1]) < 0.03) & (np.abs(b - want[2]) < 0.03)
    return np.nonzero(red.any(axis=0))[0]


@pytest.fixture
def session(tmp_path):
    st = Store(tmp_path / "s")
    sid = st.open_session("sim0", {"profile": "devkitc1_inmp441"})
    x = _speechy(2.0)
    st.add_utterance(sid, 0, 1.0, 3.0, False, redacted_pcm=x, text_redacted="call [PERSON]",
                     audit={"spans": [{"type": "PERSON", "t0": 0.5, "t1": 1.0}]})
    st.add_utterance(sid, 1, 4.0, 5.5, True, redacted_pcm=_speechy(1.5, 1), text_redacted="cut off")
    st.add_mute(sid, 6.0, 8.0)
    st.close_session(sid, {})
    st.close()
    return tmp_path / "s", sid


def test_plot_session(session, tmp_path, capsys):
    root, sid = session
    out = tmp_path / "s.png"
    assert cli_main(["plot", sid, "-o", str(out), "--store", str(root), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["segments"], r["truncated"], r["mutes"], r["redacted_spans"]) == (2, 1, 1, 1)
    assert r["duration"] >= 8.0
    w, h = _png_size(out)
    assert w > 1000 and h > 400
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    cols = _red_columns(_pixels(out))
    assert len(cols), "the redacted span is not drawn"
    # the PERSON span is 1.5-2.0 s of an ~8 s timeline: its red must sit in that stretch of the x axis
    frac_lo, frac_hi = cols.min() / w, cols.max() / w
    assert 0.1 < frac_lo < frac_hi < 0.35, (frac_lo, frac_hi)


def test_plot_wav_with_spans_and_mutes(tmp_path, capsys):
    wav = tmp_path / "a.wav"
    x = np.zeros(16000 * 4, np.int16)
    x[16000:40000] = _speechy(1.5)
    write_wav(wav, x)
    spans = tmp_path / "r.json"
    spans.write_text(json.dumps({"spans": [{"type": "PHONE", "t0": 1.5, "t1": 2.0, "start": 0, "end": 4}]}))
    out = tmp_path / "w.png"
    assert cli_main(["plot", str(wav), "-o", str(out), "--mute", "3:3.5", "--spans", str(spans), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["mutes"] == 1 and r["redacted_spans"] == 1 and r["duration"] == 4.0
    # the VAD layer: either the firmware VAD ran (a segment around the speech) or a note says why not
    assert r["segments"] >= 1 or any("VAD layer skipped" in n for n in r["notes"])
    assert _png_size(out)[0] > 1000


def test_plot_bad_inputs(session, tmp_path):
    root, sid = session
    assert cli_main(["plot", "nosuchsession", "-o", str(tmp_path / "x.png"), "--store", str(root)]) == 2
    assert cli_main(["plot", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "x.png")]) == 2
    with pytest.raises(SystemExit) as e:  # argparse's own usage error
        cli_main(["plot", sid, "--mute", "2:1", "-o", str(tmp_path / "x.png"), "--store", str(root)])
    assert e.value.code == 2
    assert cli_main(["plot", sid, "--mute", "1:2", "-o", str(tmp_path / "x.png"), "--store", str(root)]) == 2
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_is_one_line_exit_1(session, tmp_path, monkeypatch, capsys):
    root, sid = session
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert cli_main(["plot", sid, "-o", str(tmp_path / "x.png"), "--store", str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "matplotlib" in err[0] and "hushmic[plot]" in err[0] and "Traceback" not in err[0]


def test_a_file_is_plotted_from_blocks_with_the_same_envelope_and_vad_as_whole(tmp_path):
    """wav_timeline streams the file (flat memory for an hour); its envelope and VAD equal the whole-file ones."""
    import numpy as np

    from hushmic import plot, vad_runner
    from hushmic.audio_io import read_wav

    wav = Path(__file__).resolve().parent / "fixtures" / "sim" / "speech.wav"
    x, rate, _ = read_wav(wav)
    try:
        whole = vad_runner.run_vad(x)
    except Exception as e:  # pragma: no cover - no VM on this platform
        pytest.skip(f"MicroPython VM unavailable: {e}")
    tl = plot.wav_timeline(wav)
    ref = plot.Timeline(title="ref", duration=len(x) / rate, rate=rate, pieces=[(0.0, x)])
    for got, want in zip(plot._envelope(tl), plot._envelope(ref)):
        np.testing.assert_allclose(got, want)
    assert tl.segments == [(a, b, False) for a, b in plot._runs(whole.sent, 0.01)]
    assert tl.detector == plot._runs(whole.frames, 0.01)
