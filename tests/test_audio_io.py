"""WAV input: every malformed file is a one-line BadInput (exit 2), never a traceback; output is private and atomic."""
import os
import stat
import struct
import wave

import numpy as np
import pytest

from hushmic import audio_io
from hushmic.errors import BadInput


def _fmt(size=16, fields=(1, 1, 16000, 32000, 2, 16)):
    return b"fmt " + struct.pack("<I", size) + struct.pack("<HHIIHH", *fields)[:size]


BROKEN = {
    "empty": b"",
    "not riff": b"hello world, not a wav at all",
    "riff without wave": b"RIFF" + struct.pack("<I", 4) + b"AVI ",
    "short fmt chunk": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + _fmt(size=2),
    "no data chunk": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + _fmt(),
    "unknown format tag": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + _fmt(fields=(0x55, 1, 16000, 32000, 2, 16)) + b"data\x00\x00\x00\x00",
    "truncated header": b"RIFF" + struct.pack("<I", 100) + b"WA",
}


@pytest.mark.parametrize("name", BROKEN)
def test_malformed_wavs_are_bad_input(tmp_path, name):
    f = tmp_path / "x.wav"
    f.write_bytes(BROKEN[name])
    with pytest.raises(BadInput) as e:
        audio_io.load_speech(f)
    assert str(f) in str(e.value) and "\n" not in str(e.value)


def test_truncated_wav_is_refused_with_both_lengths(tmp_path):
    """Issue 13, defect 8: a data chunk shorter than its header says was read silently, and times were reported
    past the real end. Now it is bad input naming both lengths and the repair; a streaming size (0xFFFFFFFF) is not
    a truncation."""
    f = tmp_path / "x.wav"
    f.write_bytes(b"RIFF" + struct.pack("<I", 100) + b"WAVE" + _fmt() + b"data" + struct.pack("<I", 32000) + b"\x01\x02\x03\x04")
    with pytest.raises(BadInput, match=r"truncated: its header promises 1\.00 s .* holds 0\.00 s.*--ignore-length"):
        audio_io.read_wav_strict(f)
    good = tmp_path / "whole.wav"
    audio_io.write_wav(good, np.arange(16000, dtype=np.int16))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:44 + 16000])  # a copy cut off half-way
    with pytest.raises(BadInput, match=r"1\.00 s .* 0\.50 s"):
        audio_io.load_speech(cut)
    stream = tmp_path / "stream.wav"
    stream.write_bytes(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + _fmt() + b"data"
                       + struct.pack("<I", 0xFFFFFFFF) + b"\x01\x02\x03\x04")
    assert audio_io.read_wav_strict(stream).tolist() == [0x0201, 0x0403]


def _riff(fmt_fields, bits_payload=b"\x00" * 8, ext_tag=None):
    fmt = struct.pack("<HHIIHH", *fmt_fields)
    if ext_tag is not None:  # WAVE_FORMAT_EXTENSIBLE: cbSize, valid bits, channel mask, GUID (tag first)
        fmt += struct.pack("<HHI", 22, fmt_fields[5], 4) + struct.pack("<H", ext_tag) + b"\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(bits_payload)) + b"WAVE" + b"fmt "
            + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(bits_payload)) + bits_payload)


@pytest.mark.parametrize("name,data,words", [
    ("empty", b"", ["empty (0 bytes)"]),
    ("float", _riff((3, 1, 16000, 64000, 4, 32)), ["32-bit float, 16000 Hz, 1 channel", "sox"]),
    ("24-bit", _riff((1, 1, 16000, 48000, 3, 24), b"\x00" * 9), ["24-bit PCM", "sox"]),
    ("a-law", _riff((6, 1, 8000, 8000, 1, 8)), ["A-law, 8000 Hz", "sox"]),
    ("extensible float", _riff((0xFFFE, 2, 48000, 384000, 8, 32), ext_tag=3), ["32-bit float, 48000 Hz, 2 channel", "sox"]),
], ids=["empty", "float", "24-bit", "a-law", "extensible-float"])
def test_other_encodings_are_named_with_the_conversion(tmp_path, name, data, words):
    """Friction: these got 'not a readable PCM WAV file ()' or 'unknown format: 3/65534/6'."""
    f = tmp_path / "x.wav"
    f.write_bytes(data)
    with pytest.raises(BadInput) as e:
        audio_io.load_speech(f)
    msg = str(e.value)
    assert "\n" not in msg and str(f) in msg and "unknown format" not in msg and "()" not in msg, msg
    for w in words:
        assert w in msg, msg
    if name != "empty":
        assert "sox '" + str(f) + "' -r 16000 -c 1 -b 16 -e signed-integer out.wav" in msg


def test_wrong_rate_and_channels_are_named(tmp_path):
    f = tmp_path / "s.wav"
    with wave.open(str(f), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(np.zeros(882, dtype="<i2").tobytes())
    with pytest.raises(BadInput, match="44100 Hz, 2 channel"):
        audio_io.read_wav_strict(f)
    y = audio_io.load_speech(f)  # tools that accept any WAV convert instead
    assert len(y) == 160


def test_write_wav_is_private_and_leaves_no_temp_file(tmp_path):
    out = audio_io.write_wav(tmp_path / "sub" / "o.wav", np.arange(100, dtype=np.int16))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert os.listdir(tmp_path / "sub") == ["o.wav"]
    assert audio_io.read_wav_strict(out).tolist() == list(range(100))


def test_write_wav_failure_is_one_line_not_a_traceback(tmp_path):
    """Issue 13, defect 5: a write that fails after the work is done (here: the target became a directory) is a
    HushmicError with one line, and leaves no temp file."""
    from hushmic.errors import HushmicError
    (tmp_path / "o.wav").mkdir()
    with pytest.raises(HushmicError, match="o.wav: cannot write") as e:
        audio_io.write_wav(tmp_path / "o.wav", np.zeros(10, np.int16))
    assert "\n" not in str(e.value)
    assert os.listdir(tmp_path) == ["o.wav"]
    with pytest.raises(HushmicError, match="cannot write"):
        audio_io.write_wav("/proc/hushmic-test/o.wav", np.zeros(10, np.int16))
