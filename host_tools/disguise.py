"""Voice disguise for review bundles (numpy only): a pitch shift plus an independent formant shift.

What it does
  1. Pitch: the audio is time-stretched by the pitch factor with WSOLA (waveform-similarity overlap-add, which keeps
     speech free of phasiness) and resampled back to its original length (band-limited, by FFT). The result has the
     same duration and timing, with pitch and formants both moved by the factor.
  2. Formants: per 32 ms STFT frame, the spectral envelope (cepstrally smoothed log spectrum, low quefrencies only,
     so the harmonics are not part of it) is warped along the frequency axis so that the net formant shift is the
     formant factor, independent of the pitch factor. Vocal-tract length is what listeners use most, after pitch, to
     recognise a voice; moving formants and pitch by different random amounts gives a voice that is not simply the
     same person "sped up".
  3. The parameters are drawn at random per session (review export) from ranges that keep words intelligible
     (pitch 3-5 semitones, formants 8-14 % in the same direction), and are not written into the bundle. The direction
     is towards the middle: voices with a median pitch below 165 Hz go up, higher voices go down. That also blurs the
     most obvious cue a reviewer hears (a low or a high voice), and moving a high voice further up or a low voice
     further down is what hurts intelligibility most (measured with pocketsphinx on flite voices: shifting away from
     the middle broke recognition, towards it did not).

What it does not defeat (see docs/store.md)
  - Inversion: an attacker who knows the method can search the small parameter space and undo most of it by ear.
  - Speaker-recognition systems: x-vector style embeddings still match disguised voices well above chance.
  - Everything that is not timbre: accent, dialect, speaking rate, rhythm, pauses, word choice, laughter, and what is said.
  - Background sounds (other voices, a TV, a dog) are shifted too but stay recognisable as events.
  - Silence and bleeps stay silence and tones: redaction is unaffected, disguise is not a substitute for it.
"""
import numpy as np

FRAME = 512      # 32 ms at 16 kHz
HOP = 128        # STFT hop for the envelope warp
LIFTER = 30      # cepstral coefficients kept for the envelope (below a 533 Hz pitch period at 16 kHz)


def semitones(f):
    return 12.0 * np.log2(f)


MID_F0 = 165.0   # Hz: below it a voice is shifted up, above it down


def estimate_f0(pcm, rate=16000):
    """Median pitch (Hz) of the voiced 40 ms frames of `pcm`, by autocorrelation; None if nothing is voiced."""
    x = np.asarray(pcm, dtype=np.float64)
    n, hop = 640, 320
    lo, hi = rate // 400, rate // 60
    if len(x) < n:
        return None
    peak = np.max(np.abs(x)) or 1.0
    f0s = []
    for i in range(0, len(x) - n, hop):
        f = x[i:i + n] - x[i:i + n].mean()
        e = float(np.dot(f, f))
        if e < n * (0.03 * peak) ** 2:  # quiet: not voiced speech
            continue
        ac = np.correlate(f, f, mode="full")[n - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.45 * ac[0]:
            f0s.append(rate / lag)
    return float(np.median(f0s)) if len(f0s) >= 3 else None


def random_params(rng=None, f0=None):
    """Pitch factor and formant factor for one speaker/session, from a cryptographic RNG by default.

    `f0` (the speaker's median pitch, e.g. from estimate_f0) sets the direction: towards MID_F0. Unknown: random."""
    if rng is None:
        import secrets
        r = secrets.SystemRandom()
        uniform, choice = r.uniform, r.choice
    else:
        uniform, choice = rng.uniform, lambda xs: xs[int(rng.integers(len(xs)))]
    sign = choice((-1.0, 1.0)) if f0 is None else (1.0 if f0 < MID_F0 else -1.0)
    pitch = 2.0 ** (sign * uniform(3.0, 5.0) / 12.0)
    formant = 1.0 + sign * uniform(0.08, 0.14)
    if sign < 0:
        formant = 1.0 / (2.0 - formant)  # symmetric in log terms
    return {"pitch": float(pitch), "formant": float(formant)}


def resample_to(x, n):
    """Band-limited resampling of x to exactly n samples (FFT: ideal low-pass when shortening)."""
    x = np.asarray(x, dtype=np.float64)
    m = len(x)
    if m == n or m == 0:
        return x.copy() if m == n else np.zeros(n)
    X = np.fft.rfft(x)
    k = n // 2 + 1
    Y = np.zeros(k, dtype=complex)
    c = min(k, len(X))
    Y[:c] = X[:c]
    if n < m and n % 2 == 0:
        Y[-1] = Y[-1].real  # the new Nyquist bin must be real
    return np.fft.irfft(Y, n) * (n / m)


def wsola(x, factor, frame=FRAME, tol=160):
    """Time-stretch x by `factor` (output length = factor * input length) keeping its pitch."""
    x = np.asarray(x, dtype=np.float64)
    n_out = int(round(len(x) * factor))
    hs = frame // 2
    win = np.hanning(frame + 1)[:-1]  # periodic Hann: sums to 1 at 50 % overlap
    pad = frame + 2 * tol
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad + frame)])
    n_frames = n_out // hs + 2
    out = np.zeros(n_frames * hs + frame)
    prev = pad  # analysis position of the previous frame in xp
    for k in range(n_frames):
        target = pad + int(round(k * hs / factor))
        if k == 0:
            pos = target
        else:
            natural = xp[prev + hs: prev + hs + frame]
            lo = max(target - tol, 0)
            region = xp[lo: target + tol + frame]
            if len(region) < frame or not natural.any():
                pos = target
            else:
                c = np.correlate(region, natural, mode="valid")
                pos = lo + int(np.argmax(c))
        out[k * hs: k * hs + frame] += win * xp[pos: pos + frame]
        prev = pos
    return out[:n_out]


def _stft(x):
    win = np.hanning(FRAME + 1)[:-1]
    n = 1 + max(0, int(np.ceil((len(x) - FRAME) / HOP)))
    xp = np.concatenate([x, np.zeros((n - 1) * HOP + FRAME - len(x))])
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    return np.fft.rfft(xp[idx] * win, axis=1), win


def _istft(X, win, length):
    frames = np.fft.irfft(X, FRAME, axis=1) * win
    n = frames.shape[0]
    out = np.zeros((n - 1) * HOP + FRAME)
    norm = np.zeros_like(out)
    for i in range(n):
        out[i * HOP: i * HOP + FRAME] += frames[i]
        norm[i * HOP: i * HOP + FRAME] += win ** 2
    out /= np.maximum(norm, 1e-3)
    return out[:length]


def warp_formants(x, factor):
    """Move the spectral envelope by `factor` along frequency, keeping the harmonics (pitch) where they are."""
    x = np.asarray(x, dtype=np.float64)
    if abs(factor - 1.0) < 1e-6 or len(x) < FRAME:
        return x.copy()
    X, win = _stft(x)
    mag = np.abs(X)
    logm = np.log(mag + 1e-6)
    cep = np.fft.irfft(logm, FRAME, axis=1)
    cep[:, LIFTER:FRAME - LIFTER + 1] = 0.0
    env = np.fft.rfft(cep, axis=1).real  # log envelope
    bins = np.arange(X.shape[1], dtype=np.float64)
    src = bins / factor  # new envelope at f is the old one at f / factor
    warped = np.empty_like(env)
    for i in range(env.shape[0]):
        warped[i] = np.interp(src, bins, env[i], right=env[i, -1] - 6.0)  # fade what comes from beyond Nyquist
    gain = np.exp(np.clip(warped - env, -4.0, 4.0))
    return _istft(X * gain, win, len(x))


def disguise(pcm, pitch=1.25, formant=1.1):
    """Disguise a voice: pitch times `pitch`, formants times `formant`; same length, int16 in and out."""
    x = np.asarray(pcm, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int16)
    peak_in = float(np.max(np.abs(x)))
    if peak_in == 0.0:
        return np.zeros(len(x), dtype=np.int16)
    y = resample_to(wsola(x, pitch), len(x)) if abs(pitch - 1.0) > 1e-6 else x
    y = warp_formants(y, formant / pitch)
    peak = float(np.max(np.abs(y)))
    if peak > 0:
        y *= min(1.0, 32000.0 / peak, 1.5 * peak_in / peak)  # no clipping, no large level change
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)
