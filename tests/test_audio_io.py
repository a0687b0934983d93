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


def test_data_chunk_that_lies_about_its_size_reads_what_is_there(tmp_path):
    f = tmp_path / "x.wav"
    f.write_bytes(b"RIFF" + struct.pack("<I", 100) + b"WAVE" + _fmt() + b"data" + struct.pack("<I", 999999) + b"\x01\x02\x03\x04")
    x = audio_io.read_wav_strict(f)
    assert x.tolist() == [0x0201, 0x0403]


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
