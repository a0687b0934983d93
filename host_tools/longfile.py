"""Recordings of any length in bounded memory: the file is cut into speech turns by the firmware's own VAD, each turn
is transcribed and redacted on its own, and the output is written as it goes, on the input's timeline.

    res = process_file("call.wav", Pipeline(...), out="call.red.wav", progress=Progress(...))
    res.json_redact(), res.json_transcribe(), res.summary()

The stages, all streaming (nothing holds the whole file):
1. `WavStream`: the WAV read in blocks, mixed to mono, and resampled to 16 kHz block by block with the same filter
   as `audio_io.resample` (audio_io.lowpass_kernel), so a 48 kHz or 8 kHz file is cut the same way whatever its length.
2. `vad_runner.VadStream`: the firmware VAD and endpointer in the MicroPython VM, exactly as `hushmic vad` runs them;
   segments are the runs of `sent`, cut at the firmware's max_utterance_ms (the board would end them there too).
3. `turns.TurnAssembler`: segments a short pause apart (DEFAULT_GAP_S) form a turn, as in `listen`.
4. `pipeline.Pipeline.process_turn`: ASR, alignment and redaction of one turn (the same code `listen` uses). A turn
   that fails is withheld: its text is left out and its audio is removed (fail closed over that turn only).
5. The output WAV (input rate, mono) is written in order to a temp file next to OUT and renamed at the end:
   non-speech passes through unchanged, each redacted stretch is bleeped or silenced.

Memory: the audio kept is what an open turn may still need (at most turns.MAX_TURN_S of speech plus its pauses),
plus one read block; words and spans of the whole file are kept for the JSON (a few hundred bytes per second).
"""
import math
import os
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio_io import RATE, frames_to_array, lowpass_kernel, open_wav, to_mono
from .errors import BadInput, HushmicError
from .turns import DEFAULT_GAP_S, TurnAssembler
from .vad_runner import FRAME, FRAME_MS, VadStream

BLOCK_S = 10.0          # seconds read from the file at a time
BOARD = "file"          # the TurnAssembler's board name for a file
WITHHELD = "WITHHELD"   # the span type of a turn that failed (its audio removed, its text left out)


# ------------------------------------------------------------------------------------------------ resampling
class _Lowpass:
    """np.convolve(x, h, 'same') with zeros outside 0..total, block by block."""

    def __init__(self, h, total):
        self.h = h
        self.half = len(h) // 2
        self.total = total
        self.buf = np.zeros(self.half)   # x from index done - half (zeros before the start)
        self.done = 0                    # outputs given so far

    def push(self, x, last=False):
        self.buf = np.concatenate([self.buf, np.asarray(x, dtype=np.float64)])
        if last:
            self.buf = np.concatenate([self.buf, np.zeros(self.half)])
        end = self.total if last else self.done + len(self.buf) - 2 * self.half
        if end <= self.done:
            return np.zeros(0)
        n = end - self.done
        y = np.convolve(self.buf[:n + 2 * self.half], self.h, mode="valid")
        self.buf = self.buf[n:]
        self.done = end
        return y


class _Interp:
    """np.interp(k * step, arange(total), x) for k < n_out, block by block (clamped at the ends, as np.interp)."""

    def __init__(self, step, n_out):
        self.step = step
        self.n_out = n_out
        self.buf = np.zeros(0)
        self.base = 0       # input index of buf[0]
        self.k = 0          # next output index

    def push(self, x, last=False):
        self.buf = np.concatenate([self.buf, np.asarray(x, dtype=np.float64)])
        have = self.base + len(self.buf)         # inputs seen
        if last:
            k1 = self.n_out
        else:   # outputs whose right neighbour is already here
            k1 = min(self.n_out, int(math.floor((have - 2) / self.step)) + 1) if have >= 2 else 0
        if k1 <= self.k or not len(self.buf):
            return np.zeros(0)
        t = np.arange(self.k, k1) * self.step
        y = np.interp(t, np.arange(self.base, have), self.buf)
        self.k = k1
        keep = max(0, min(int(math.floor(self.k * self.step)) - self.base, len(self.buf) - 1))
        self.buf = self.buf[keep:]
        self.base += keep
        return y


class Resampler:
    """audio_io.resample(x, rate_in, rate_out) for a signal of `total` samples given block by block."""

    def __init__(self, rate_in, rate_out, total):
        self.same = rate_in == rate_out
        n_out = int(round(total * rate_out / rate_in))
        cutoff = 0.45 * min(rate_in, rate_out)
        interp = _Interp(rate_in / rate_out, n_out)
        if rate_in > rate_out:
            self.stages = [_Lowpass(lowpass_kernel(cutoff, rate_in), total), interp]
        else:
            self.stages = [interp, _Lowpass(lowpass_kernel(cutoff, rate_out), n_out)]

    def push(self, x, last=False):
        if self.same:
            return np.asarray(x, dtype=np.int16)
        y = x
        for st in self.stages:
            y = st.push(y, last)
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)


class WavStream:
    """A PCM16 WAV of any rate and channel count, read in blocks: yields (mono block at the input rate, the same
    block at 16 kHz). BadInput (exit 2) for what cannot be read, as audio_io.read_wav."""

    def __init__(self, path, block_s=BLOCK_S):
        self.path = path
        w, self.rate, self.channels, self.frames = open_wav(path)
        w.close()
        self.block = max(1, int(self.rate * block_s))

    @property
    def duration(self):
        return self.frames / float(self.rate)

    def blocks(self):
        rs = Resampler(self.rate, RATE, self.frames)
        w, _, _, _ = open_wav(self.path)
        try:
            left = self.frames
            while True:
                try:
                    raw = w.readframes(min(self.block, left)) if left > 0 else b""
                except (wave.Error, EOFError, RuntimeError, ValueError) as e:
                    raise BadInput(f"{self.path}: not a readable PCM WAV file ({e})") from None
                x = to_mono(frames_to_array(raw, self.channels))
                left -= len(x)
                last = left <= 0 or len(x) == 0
                yield x, rs.push(x, last)
                if last:
                    return
        finally:
            w.close()


# ------------------------------------------------------------------------------------------------ progress
def _clock(s):
    s = int(max(0, s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Progress of `done` out of `total` audio seconds on stderr (never stdout): a bar with elapsed and ETA when
    stderr is a terminal, else one line every `every_s` wall seconds. quiet=True: nothing."""

    def __init__(self, label, total, stream=None, tty=None, every_s=10.0, quiet=False, clock=time.monotonic):
        self.label = label
        self.total = max(float(total), 1e-9)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s = every_s
        self.quiet = quiet
        self.clock = clock
        self.t0 = clock()
        self.last = None
        self.done = 0.0
        self.extra = ""

    def update(self, done, extra=""):
        self.done = min(float(done), self.total)
        self.extra = extra
        if self.quiet:
            return
        now = self.clock()
        if self.tty:
            if self.last is None or now - self.last >= 0.2 or self.done >= self.total:
                self.last = now
                self.stream.write("\r" + self.line(now, bar=True) + "\x1b[K")
                self.stream.flush()
        elif self.last is None and now - self.t0 >= min(2.0, self.every_s) or \
                self.last is not None and now - self.last >= self.every_s:
            self.last = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now=None, bar=False):
        now = self.clock() if now is None else now
        el = now - self.t0
        frac = self.done / self.total
        eta = el * (1 - frac) / frac if frac > 0 else None
        speed = self.done / el if el > 0 else 0.0
        head = f"{self.label}: "
        if bar:
            n = 24
            k = int(round(frac * n))
            head += "[" + "#" * k + "." * (n - k) + "] "
        return (f"{head}{100 * frac:5.1f} % {_clock(self.done)}/{_clock(self.total)} audio, elapsed {_clock(el)}, "
                f"ETA {_clock(eta) if eta is not None else '?'}, {speed:.1f}x real time" +
                (f", {self.extra}" if self.extra else ""))

    def close(self):
        if not self.quiet and self.tty and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()


# ------------------------------------------------------------------------------------------------ the file
@dataclass
class Segment:
    board: str
    start_fno: int
    end_fno: int
    truncated: bool = False

    @property
    def start(self):
        return self.start_fno * FRAME_MS / 1000.0

    @property
    def end(self):
        return self.end_fno * FRAME_MS / 1000.0


@dataclass
class FileResult:
    backend: str = None
    rate: int = RATE
    duration: float = 0.0
    margin_ms: float = 100.0
    turns: int = 0
    turns_failed: int = 0
    segments: int = 0
    texts: list = field(default_factory=list)       # per turn: its transcript
    redacted: list = field(default_factory=list)    # per turn: its redacted text
    words: list = field(default_factory=list)       # asr Word, times on the input's timeline
    spans: list = field(default_factory=list)       # {"type", "t0", "t1", "start", "end"} on the input's timeline
    bleeped: list = field(default_factory=list)     # merged (t0, t1) actually removed from the audio
    errors: list = field(default_factory=list)      # one line per failed turn (no values)
    parts: list = field(default_factory=list)       # per segment: {"start", "end", "redacted"} (withheld: none)

    @property
    def text(self):
        return " ".join(t for t in self.texts if t)

    def json_redact(self):
        m = self.margin_ms
        return {"backend": self.backend, "text": self.text, "redacted": " ".join(t for t in self.redacted if t),
                "margin_ms": int(m) if float(m).is_integer() else m,
                "spans": [{k: s[k] for k in ("type", "t0", "t1", "start", "end")} for s in self.spans],
                "segments": self.parts}

    def transcript(self):
        """The whole file's words (times on the input's timeline) as an asr.Transcript."""
        from .asr.base import make_transcript
        return make_transcript(self.backend, self.words)

    def audit(self):
        """The audit record of the whole file: categories, counts and times, never values."""
        from .redact.audio import audit_record
        return audit_record([s for s in self.spans if s["type"] != WITHHELD], self.spans)

    def summary(self):
        """Counts and seconds only, never values."""
        by_type = {}
        for s in self.spans:
            by_type[s["type"]] = round(by_type.get(s["type"], 0.0) + s["t1"] - s["t0"], 3)
        return {"duration_s": round(self.duration, 3), "turns": self.turns, "turns_failed": self.turns_failed,
                "segments": self.segments, "words": len(self.words),
                "bleeped_s": round(sum(b - a for a, b in self.bleeped), 3), "spans": len(self.spans),
                "seconds_by_type": dict(sorted(by_type.items()))}

    def summary_line(self, audio=True):
        s = self.summary()
        failed = f" ({s['turns_failed']} failed and withheld)" if s["turns_failed"] else ""
        head = f"{s['turns']} turn(s){failed} in {s['segments']} segment(s), {s['words']} word(s)"
        if not audio:
            return f"{head}, {s['duration_s']:.1f} s of audio"
        types = ", ".join(f"{k} {v:.1f} s" for k, v in s["seconds_by_type"].items()) or "none"
        return f"{head}; {s['bleeped_s']:.1f} s bleeped of {s['duration_s']:.1f} s; by type: {types}"


class _Audio:
    """Samples from index `base` on (one rate), appended block by block and dropped once written."""

    def __init__(self):
        self.parts = []
        self.base = 0
        self.end = 0

    def append(self, x):
        if len(x):
            self.parts.append(np.asarray(x, dtype=np.int16))
            self.end += len(x)

    def get(self, a, b):
        a, b = max(a, self.base), min(b, self.end)
        if b <= a:
            return np.zeros(0, dtype=np.int16)
        whole = np.concatenate(self.parts) if len(self.parts) != 1 else self.parts[0]
        self.parts = [whole]
        return whole[a - self.base:b - self.base]

    def drop_before(self, a):
        a = min(a, self.end)
        if a <= self.base:
            return
        whole = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int16)
        self.parts = [whole[a - self.base:].copy()]
        self.base = a


class _Writer:
    """The output WAV, written in order to a temp file beside it (0600) and renamed over it at the end."""

    def __init__(self, path, rate):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=str(self.path.parent))
        os.fchmod(fd, 0o600)
        self.f = os.fdopen(fd, "wb")
        self.w = wave.open(self.f, "wb")
        self.w.setnchannels(1)
        self.w.setsampwidth(2)
        self.w.setframerate(rate)
        self.pos = 0

    def write(self, x):
        if len(x):
            self.w.writeframes(np.asarray(x, dtype=np.int16).astype("<i2").tobytes())
            self.pos += len(x)

    def commit(self):
        self.w.close()
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        try:
            self.w.close()
        except Exception:
            pass
        try:
            self.f.close()
        except Exception:
            pass
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


def process_file(path, pipeline, out=None, mode="tone", gap_s=DEFAULT_GAP_S, progress=None, vad=None,
                 block_s=BLOCK_S):
    """Run one WAV through VAD -> turns -> pipeline; write the redacted audio to `out` (None: no audio output).
    vad: VadStream keyword arguments (sensitivity, preroll_ms, hangover_ms). Returns a FileResult."""
    from .redact.audio import _merge
    from .redact.audio import _replace as bleep

    if mode not in ("tone", "silence"):
        raise BadInput("--mode must be tone or silence")
    src = WavStream(path, block_s=block_s)
    if src.frames == 0:
        raise BadInput(f"{path}: the WAV file holds no audio")
    res = FileResult(rate=src.rate, duration=src.duration, margin_ms=getattr(pipeline, "margin_ms", 100))
    r_in = src.rate
    a16, aout = _Audio(), _Audio()            # 16 kHz for ASR, input rate for the output
    writer = _Writer(out, r_in) if out else None
    closed = []
    turns = TurnAssembler(closed.append, gap_s=gap_s, clock=lambda: 0.0)
    state = {"run": None}                      # start frame of the open run of `sent`, or None
    max_frames = None

    def t2s(t):   # seconds on the input's timeline -> input-rate sample index
        return int(round(t * r_in))

    def flush_to(t):
        """Write the input through to time t (nothing redacted there)."""
        if writer is not None:
            b = t2s(t)
            if b > writer.pos:
                writer.write(aout.get(writer.pos, b))
        keep = t2s(t) if writer is None else writer.pos
        aout.drop_before(keep)

    def handle_turn(turn):
        segs = turn.segments
        pcms = [a16.get(int(u.start_fno * FRAME), int(u.end_fno * FRAME)) for u in segs]
        gaps = [0.0] + [max(0.0, u.start - p.end) for p, u in zip(segs, segs[1:])]
        results = pipeline.process_turn(pcms, gaps)
        res.turns += 1
        res.segments += len(segs)
        removed = []
        r0 = results[0]
        if r0.error or r0.turn is None:
            res.turns_failed += 1
            res.errors.append(f"turn at {turn.start:.2f}-{turn.end:.2f} s: {r0.error or 'no result'}")
            pos = sum(len(t) + 1 for t in res.texts if t)
            for u in segs:
                removed.append((u.start, u.end))
                res.spans.append({"type": WITHHELD, "t0": round(u.start, 3), "t1": round(u.end, 3),
                                  "start": pos, "end": pos})
        else:
            red = r0.turn
            if res.backend is None:
                res.backend = r0.backend
            offset = sum(len(t) + 1 for t in res.texts if t)
            parts = [(r.part[0] / RATE, (r.part[0] + r.part[1]) / RATE) for r in results]

            def to_file(t):   # joined-turn seconds -> file seconds (the nearest segment, clamped into it)
                best = None
                for (a, b), u in zip(parts, segs):
                    d = 0.0 if a <= t <= b else min(abs(t - a), abs(t - b))
                    if best is None or d < best[0]:
                        best = (d, u.start + min(max(t, a), b) - a)
                return best[1]

            for w in red.words:
                res.words.append(type(w)(w.word, round(to_file(float(w.t0)), 3), round(to_file(float(w.t1)), 3),
                                         w.confidence, getattr(w, "aligned", True)))
            for s in red.audio_spans:
                for (a, b), u in zip(parts, segs):
                    if s["t0"] < b and a < s["t1"]:
                        t0 = u.start + max(s["t0"], a) - a
                        t1 = u.start + min(s["t1"], b) - a
                        removed.append((t0, t1))
                        res.spans.append({"type": s["type"], "t0": round(t0, 3), "t1": round(t1, 3),
                                          "start": offset + s["start"], "end": offset + s["end"]})
            for u, r in zip(segs, results):
                res.parts.append({"start": round(u.start, 3), "end": round(u.end, 3), "redacted": r.text_redacted})
            if red.text:
                res.texts.append(red.text)
                res.redacted.append(red.redacted)
        removed = _merge(removed)   # the same merge as redact_audio's
        res.bleeped.extend(removed)
        if writer is not None:
            end = t2s(turn.end)
            flush_to(turn.start)
            chunk = aout.get(writer.pos, end).copy()
            base = writer.pos
            for t0, t1 in removed:
                a, b = max(t2s(t0) - base, 0), min(int(math.ceil(t1 * r_in)) - base, len(chunk))
                if b > a:
                    bleep(chunk, a, b, r_in, mode)
            writer.write(chunk)
            aout.drop_before(writer.pos)

    def on_segment(a, b, truncated):
        turns.add(Segment(BOARD, a, b, truncated))

    def step(fpos, sent, final=False):
        """Consume the final `sent` bits of frames fpos.. and the turns they close."""
        nonlocal max_frames
        for i, c in enumerate(sent):
            f = fpos + i
            run = state["run"]
            if c == "1":
                if run is None:
                    state["run"] = f
                    turns.segment_starting(BOARD, f * FRAME_MS / 1000.0)
                elif f - run >= max_frames:        # the board ends a segment at max_utterance_ms
                    on_segment(run, f, True)
                    state["run"] = f
            elif run is not None:
                on_segment(run, f, False)
                state["run"] = None
            if state["run"] is None:
                turns.tick(BOARD, (f + 1) * FRAME_MS / 1000.0)
            while closed:
                handle_turn(closed.pop(0))
        end_f = fpos + len(sent)
        if final:
            if state["run"] is not None:
                on_segment(state["run"], end_f, True)
                state["run"] = None
            turns.close_all()
            while closed:
                handle_turn(closed.pop(0))
        # what no open turn or run can still need: written through and dropped
        pend = turns.pending(BOARD)
        keep_f = end_f
        if pend is not None:
            keep_f = min(keep_f, pend.segments[0].start_fno)
        if state["run"] is not None:
            keep_f = min(keep_f, state["run"])
        if final:
            keep_f = end_f
        a16.drop_before(keep_f * FRAME)
        flush_to(keep_f * FRAME_MS / 1000.0)

    ok = False
    try:
        with VadStream(**(vad or {})) as vs:
            max_frames = max(1, vs.settings["max_utterance_ms"] // FRAME_MS)
            fpos = 0
            for x, x16 in src.blocks():
                aout.append(x)
                a16.append(x16)
                _, sent = vs.feed(x16)
                step(fpos, sent)
                fpos += len(sent)
                if progress is not None:
                    progress.update(min(fpos * FRAME_MS / 1000.0, src.duration) if fpos else 0.0,
                                    f"{res.turns} turn(s)")
            _, sent = vs.finish()
            step(fpos, sent, final=True)
            fpos += len(sent)
        if writer is not None:
            # the tail that holds no whole 10 ms frame, and input-rate samples past the last frame
            writer.write(aout.get(writer.pos, aout.end))
            writer.commit()
        ok = True
        if progress is not None:
            progress.update(src.duration, f"{res.turns} turn(s)")
    finally:
        if writer is not None and not ok:
            writer.abort()
        if progress is not None:
            progress.close()
    if res.backend is None:
        res.backend = _backend_name(pipeline)
    return res


def make_pipeline(backend=None, margin_ms=100, model_dir=None):
    """The Pipeline `listen` uses, after checking that the asked-for backend can run (else exit 1 with why): a
    missing backend would otherwise fail, and withhold, every turn."""
    from . import asr
    from .pipeline import Pipeline

    if backend is not None and backend not in asr.BACKENDS:
        raise BadInput(f"unknown ASR backend {backend!r}; choose from {', '.join(asr.BACKENDS)}")
    if backend is None:
        if model_dir is None:
            asr.default_backend()       # BackendUnavailable when none can run; the degraded warning once
    else:
        asr._require(backend, model_dir)
    return Pipeline(backend=backend, margin_ms=margin_ms, model_dir=model_dir)


def asr_warning(asked, used, model_dir=None):
    """The JSON outputs' "asr_warning": the default chain fell back to pocketsphinx."""
    if asked is None and used == "pocketsphinx":
        from . import asr
        return asr.degraded_warning(model_dir)
    return None


def _backend_name(pipeline):
    try:
        return pipeline.backend or pipeline._asr.default_backend()
    except Exception as e:   # no backend at all: the pipeline said so at start-up already
        raise HushmicError(str(e)) from None
