"""WAV in and out for every host command: one place that validates input and gives clear errors.

Audio inside hushmic is 16 kHz mono int16 numpy arrays. `read_wav` refuses what it cannot read with BadInput
(exit 2); `load_speech` additionally converts stereo to mono and resamples other rates for the tools that accept them.
"""
import os
import struct
import tempfile
import wave
from pathlib import Path

import numpy as np

from .errors import BadInput, HushmicError

RATE = 16000


_FORMATS = {1: "PCM", 3: "32-bit float", 6: "A-law", 7: "mu-law", 2: "MS ADPCM", 0x11: "IMA ADPCM",
            0x55: "MP3", 0x50: "MPEG"}
_STREAMING_SIZE = 0xFFFFFFFF  # data size written by streaming encoders that cannot seek back: read to the end


def sox_hint(path):
    """The one-line conversion to what hushmic reads natively (16 kHz mono 16-bit PCM)."""
    return f"convert it: sox '{path}' -r 16000 -c 1 -b 16 -e signed-integer out.wav"


def describe_wav(path):
    """What a RIFF/WAVE file holds, from its fmt chunk: 'A-law, 8000 Hz, 1 channel(s), 8-bit' or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            for _ in range(64):
                ch = f.read(8)
                if len(ch) < 8:
                    return None
                cid, size = ch[:4], struct.unpack("<I", ch[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(min(size, 40))
                    if len(fmt) < 16:
                        return None
                    tag, chans, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
                    if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag is in the GUID
                        tag = struct.unpack("<H", fmt[24:26])[0]
                    name = _FORMATS.get(tag, f"format {tag}")
                    if tag == 1:
                        name = f"{bits}-bit PCM"
                    return f"{name}, {rate} Hz, {chans} channel(s)"
                f.seek(size + (size & 1), 1)
    except (OSError, struct.error):
        return None
    return None


def open_wav(path):
    """Open a PCM16 WAV for reading in blocks: (wave reader, rate, channels, frames), or BadInput with the reason
    (the same refusals as read_wav, truncation included). The caller closes the reader."""
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{path}: no such file")
    if p.is_dir():
        raise BadInput(f"{path}: is a directory, not a WAV file")
    f = None
    try:
        size = p.stat().st_size
        if size == 0:
            raise BadInput(f"{path}: is empty (0 bytes), not a WAV file")
        f = open(p, "rb")
        w = wave.open(f, "rb")
        ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        data_at = f.tell()   # wave stops at the start of the data chunk
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as e:
        if f is not None:
            f.close()
        what = describe_wav(p)
        if what:
            raise BadInput(f"{path}: {what}, which hushmic does not read (16-bit PCM WAV only); "
                           f"{sox_hint(path)}") from None
        raise BadInput(f"{path}: not a readable PCM WAV file ({e or 'truncated or malformed header'})") from None
    except OSError as e:
        if f is not None:
            f.close()
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None
    if width != 2:
        f.close()
        raise BadInput(f"{path}: {8 * width}-bit PCM, {rate} Hz, {ch} channel(s); hushmic reads 16-bit PCM: "
                       f"{sox_hint(path)}")
    if ch < 1 or rate <= 0:
        f.close()
        raise BadInput(f"{path}: invalid WAV header (channels={ch}, rate={rate})")
    frame = 2 * ch
    claimed = n * frame
    held = max(0, size - data_at)
    if held < claimed and claimed < _STREAMING_SIZE - frame:
        f.close()
        raise BadInput(f"{path}: truncated: its header promises {n / rate:.2f} s of audio but the file holds "
                       f"{held // frame / rate:.2f} s (a cut-off copy or recording?); copy it again, or rewrite "
                       f"the header: sox --ignore-length '{path}' out.wav")
    return _Closing(w, f), rate, ch, min(n, held // frame)   # a streaming header: what the file holds


class _Closing:
    """A wave reader that also closes the file it reads."""

    def __init__(self, w, f):
        self.w, self.f = w, f

    def readframes(self, n):
        return self.w.readframes(n)

    def close(self):
        self.w.close()
        self.f.close()


def frames_to_array(raw, ch):
    """PCM16 bytes of `ch` interleaved channels -> int16 array ((n,) mono, (n, ch) otherwise); a torn last frame
    is dropped."""
    usable = len(raw) // (2 * ch) * (2 * ch)
    x = np.frombuffer(raw[:usable], dtype="<i2").astype(np.int16)
    return x.reshape(-1, ch) if ch > 1 else x


def to_mono(x):
    """(n, ch) int16 -> (n,) int16, the channels averaged (mono passes through)."""
    x = np.asarray(x)
    return x.astype(np.int32).mean(axis=1).astype(np.int16) if x.ndim == 2 else x


def read_wav(path):
    """Return (samples int16 ndarray, rate, channels) for a PCM16 WAV, or raise BadInput with the reason.

    Refused with one line that names what the file is and how to convert it: empty files, other encodings (float,
    24-bit, A-law, ...), and truncated files (a data chunk shorter than its header says: a copy or recording that
    was cut off; its times would run past the real end)."""
    w, rate, ch, n = open_wav(path)
    try:
        raw = w.readframes(n)
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as e:
        raise BadInput(f"{path}: not a readable PCM WAV file ({e or 'truncated or malformed header'})") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None
    finally:
        w.close()
    return frames_to_array(raw, ch), rate, ch


def read_wav_strict(path):
    """16 kHz mono 16-bit only (the board's format), else BadInput naming what is wrong."""
    x, rate, ch = read_wav(path)
    if ch != 1 or rate != RATE:
        raise BadInput(f"{path}: {rate} Hz, {ch} channel(s); this command needs 16000 Hz mono 16-bit PCM "
                       f"(the board's format): {sox_hint(path)}")
    return x


def load_speech(path):
    """Any PCM16 WAV as 16 kHz mono int16: stereo is averaged, other rates are resampled. Empty -> BadInput."""
    x, rate, ch = read_wav(path)
    x = to_mono(x)
    if len(x) == 0:
        raise BadInput(f"{path}: the WAV file holds no audio")
    if rate != RATE:
        x = resample(x, rate, RATE)
    return x


def resample(x, rate_in, rate_out):
    """Band-limited resampling: a windowed-sinc low-pass (Blackman, cut-off at 0.45 x the lower rate) on the
    higher-rate side, and linear interpolation on a signal that is then oversampled at least ~2.2x, so that
    44.1/48 kHz recordings do not fold their 8-22 kHz content into the speech band. int16 in, int16 out,
    length round(len * rate_out / rate_in)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    rate_in, rate_out = int(rate_in), int(rate_out)
    if rate_in == rate_out or len(x) == 0:
        return np.clip(np.round(x), -32768, 32767).astype(np.int16)

    def lowpass(sig, cutoff, rate):
        h = lowpass_kernel(cutoff, rate)
        half = len(h) // 2
        if len(sig) < len(h):
            return np.convolve(sig, h, mode="full")[half:half + len(sig)]
        return np.convolve(sig, h, mode="same")

    cutoff = 0.45 * min(rate_in, rate_out)
    if rate_in > rate_out:
        x = lowpass(x, cutoff, rate_in)
    n_out = int(round(len(x) * rate_out / rate_in))
    t = np.arange(n_out) * (rate_in / rate_out)
    y = np.interp(t, np.arange(len(x)), x)
    if rate_out > rate_in:
        y = lowpass(y, cutoff, rate_out)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def lowpass_kernel(cutoff, rate):
    """The resampler's windowed-sinc low-pass (Blackman), odd length, unit DC gain (also used block by block,
    host_tools/longfile.py)."""
    ratio = rate / (2.0 * cutoff)                    # >= 1
    half = int(min(512, max(16, round(8 * ratio))))
    n = np.arange(-half, half + 1)
    fc = cutoff / rate
    h = 2 * fc * np.sinc(2 * fc * n) * np.blackman(2 * half + 1)
    return h / h.sum()


def write_wav(path, samples, rate=RATE):
    """Write mono int16 atomically (temp file in the same directory, fsync, rename), private to the user (0600)."""
    p = Path(path)
    data = np.asarray(samples, dtype=np.int16).astype("<i2").tobytes()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=str(p.parent))
    except OSError as e:  # one line, not a traceback (outputs are checked up front by hushmic.outputs)
        raise HushmicError(f"{path}: cannot write ({e.strerror or e})") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            with wave.open(f, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):  # disk full, the target became a directory...: one line, exit 1
            raise HushmicError(f"{path}: cannot write ({e.strerror or e})") from None
        raise
    return p
