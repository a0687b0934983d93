"""`hushmic plot`: one picture of a session or a WAV file: waveform, VAD segments, mute periods, redacted spans.

matplotlib is an optional extra (`pip install 'hushmic[plot]'`); without it `require_matplotlib` raises a
HushmicError with a one-line message (exit 1). Nothing here touches the network or prints transcript text.

Layers
  - waveform: a min/max envelope (fast for hours of audio). A session's utterances sit at their start times on the
    session timeline, with gaps where nothing was sent; its redacted audio is drawn (raw only if no redacted exists).
  - VAD: for a session, the stored utterances (start/end; truncated ones hatched and flagged); for a WAV file, the
    firmware VAD run in the MicroPython VM (`hushmic.vad_runner`): the detector's per-frame decision and the segments
    the board would send. Skipped with a note when the runner or the VM is missing.
  - muted: mute periods stored with the session (or --mute A:B for a file).
  - redacted: the audio spans of each utterance's audit record (types and times only), or the spans of a
    `hushmic redact --json` output given with --spans for a file.
"""
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio_io import read_wav
from .errors import BadInput, HushmicError
from .store import audit_spans

COLORS = {"vad": "#3a9d5d", "detector": "#9fd4ae", "truncated": "#e08a1e", "mute": "#6b6b6b",
          "redacted": "#d62728", "wave": "#1f4e79"}


def require_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: F401
    except ImportError:
        raise HushmicError("plotting needs matplotlib, an optional extra: pip install 'hushmic[plot]'") from None
    return plt


@dataclass
class Timeline:
    title: str
    duration: float
    rate: int = 16000
    pieces: list = field(default_factory=list)        # [(t0 seconds, int16 array)]
    segments: list = field(default_factory=list)      # [(a, b, truncated)]
    detector: list = field(default_factory=list)      # [(a, b)] runs of the raw detector decision
    mutes: list = field(default_factory=list)         # [(a, b)]
    redacted: list = field(default_factory=list)      # [(a, b, type)]
    notes: list = field(default_factory=list)
    vad_label: str = "VAD sent"
    envelope: tuple = None                            # (centres, lo, hi) when built while streaming a file

    def summary(self):
        return {"duration": round(self.duration, 3), "segments": len(self.segments),
                "truncated": sum(1 for s in self.segments if s[2]), "mutes": len(self.mutes),
                "redacted_spans": len(self.redacted), "notes": list(self.notes)}


def _runs(bits, frame_s):
    out, start = [], None
    for i, c in enumerate(bits):
        if c == "1" and start is None:
            start = i
        elif c != "1" and start is not None:
            out.append((start * frame_s, i * frame_s))
            start = None
    if start is not None:
        out.append((start * frame_s, len(bits) * frame_s))
    return out


def session_timeline(store, session_id):
    s = store.session(session_id)
    utts = s["utterances"]
    end = max([u["end"] for u in utts] + [m[1] or m[0] for m in s.get("mutes") or []] + [0.0])
    tl = Timeline(title=f"session {s['id']}", duration=0.0, vad_label="utterances")
    fallback_raw = 0
    for u in utts:
        wav = u["redacted_wav"] or u["raw_wav"]
        if wav and os.path.exists(wav):
            x, rate, ch = read_wav(wav)
            if ch > 1:
                x = x.mean(axis=1).astype(np.int16)
            tl.rate = rate
            tl.pieces.append((u["start"], x))
            fallback_raw += 0 if u["redacted_wav"] else 1
        tl.segments.append((u["start"], u["end"], bool(u["truncated"])))
        dur = u["end"] - u["start"]
        for typ, t0, t1 in audit_spans(u.get("audit")):
            # audit times are relative to the utterance's audio; clamp to it
            a, b = max(0.0, t0), min(t1, dur) if dur > 0 else t1
            tl.redacted.append((u["start"] + a, u["start"] + b, typ))
    mutes = [tuple(m) for m in s.get("mutes") or []]
    for m in (s.get("stats") or {}).get("mutes") or []:
        if isinstance(m, (list, tuple)) and len(m) == 2:
            mutes.append(tuple(m))
    wall = (s["ended"] - s["started"]) if s.get("ended") and s.get("started") else 0.0
    tl.duration = max([end, wall] + [m[0] + (1.0 if m[1] is None else 0.0) for m in mutes]) or 1.0
    tl.mutes = [(float(a), float(b) if b is not None else tl.duration) for a, b in mutes]
    if not utts:
        tl.notes.append("no utterances stored in this session")
    elif not tl.pieces:
        tl.notes.append(f"no audio stored (keep={s['keep']}): waveform empty")
    if fallback_raw:
        tl.notes.append(f"{fallback_raw} utterance(s) drawn from raw audio (no redacted audio stored)")
    if any(u["audit"] is None for u in utts):
        tl.notes.append("some utterances have no redaction audit")
    return tl


def wav_timeline(path, mutes=(), spans_json=None, vad=True):
    """A WAV file's timeline, read in blocks: the waveform envelope and the firmware VAD (streamed through the VM)
    are built as the file goes by, so memory stays flat with the file's length (an hour is fine)."""
    from .longfile import WavStream

    ws = WavStream(path)
    if ws.frames == 0:
        raise BadInput(f"{path}: the WAV file holds no audio")
    tl = Timeline(title=Path(path).name, duration=ws.duration, rate=ws.rate)
    env = _Envelope(tl.duration, tl.rate)
    vs = _vad_stream(tl) if vad else None
    frames, sent, pos = [], [], 0
    try:
        for x, x16 in ws.blocks():
            env.add(pos / ws.rate, x)
            pos += len(x)
            if vs is not None:
                f, s = vs.feed(x16)
                frames.append(f)
                sent.append(s)
        if vs is not None:
            f, s = vs.finish()
            frames.append(f)
            sent.append(s)
    except HushmicError as e:
        if not isinstance(e, BadInput) and vs is not None:
            tl.notes.append(f"VAD layer skipped: {e}")
            frames, sent, vs = [], [], None
        else:
            raise
    finally:
        if vs is not None:
            vs.close()
    tl.envelope = env.result()
    if vs is not None:
        from . import vad_runner
        frame_s = getattr(vad_runner, "FRAME_MS", 10) / 1000.0
        tl.detector = _runs("".join(frames), frame_s)
        tl.segments = [(a, b, False) for a, b in _runs("".join(sent), frame_s)]
        if ws.rate != 16000:
            tl.notes.append(f"VAD run on the file resampled from {ws.rate} Hz to 16 kHz")
    tl.mutes = [(float(a), float(b)) for a, b in mutes]
    if spans_json:
        try:
            doc = json.loads(Path(spans_json).read_text())
        except (OSError, ValueError) as e:
            raise BadInput(f"{spans_json}: not a readable JSON file ({e})") from None
        for typ, t0, t1 in audit_spans(doc):
            tl.redacted.append((t0, t1, typ))
    return tl


def _vad_stream(tl):
    try:
        from . import vad_runner
        return vad_runner.VadStream()
    except (ImportError, HushmicError) as e:
        tl.notes.append(f"VAD layer skipped: {e}")
        return None


class _Envelope:
    """Per-bin min and max of a timeline's audio, accumulated piece by piece (NaN where there is no audio)."""

    def __init__(self, duration, rate, width=3000):
        self.rate = rate
        n_bins = int(max(200, min(width, duration * rate)))
        self.edges = np.linspace(0.0, duration, n_bins + 1)
        self.lo = np.full(n_bins, np.nan)
        self.hi = np.full(n_bins, np.nan)

    def add(self, t0, x):
        if len(x) == 0:
            return
        n_bins = len(self.lo)
        xf = np.asarray(x).astype(np.float64) / 32768.0
        t = t0 + np.arange(len(xf)) / self.rate
        b = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, n_bins - 1)  # nondecreasing
        starts = np.concatenate([[0], np.flatnonzero(np.diff(b)) + 1])
        bins = b[starts]
        self.lo[bins] = np.fmin(self.lo[bins], np.minimum.reduceat(xf, starts))
        self.hi[bins] = np.fmax(self.hi[bins], np.maximum.reduceat(xf, starts))

    def result(self):
        return (self.edges[:-1] + self.edges[1:]) / 2, self.lo, self.hi


def _envelope(tl, width=3000):
    """Per-bin min and max over the whole timeline: precomputed for a streamed file, else from its pieces."""
    if tl.envelope is not None:
        return tl.envelope
    env = _Envelope(tl.duration, tl.rate, width)
    for t0, x in tl.pieces:
        env.add(t0, x)
    return env.result()


def render(tl: Timeline, out):
    plt = require_matplotlib()
    from matplotlib.patches import Patch

    fig, (ax, lanes) = plt.subplots(2, 1, sharex=True, figsize=(13, 5.2), dpi=110,
                                    gridspec_kw={"height_ratios": [3.2, 1.5], "hspace": 0.06})
    t, lo, hi = _envelope(tl)
    for a, b, trunc in tl.segments:
        ax.axvspan(a, b, color=COLORS["truncated" if trunc else "vad"], alpha=0.13, lw=0)
    for a, b in tl.mutes:
        ax.axvspan(a, b, facecolor="none", edgecolor=COLORS["mute"], hatch="//", alpha=0.5, lw=0)
    ax.fill_between(t, lo, hi, color=COLORS["wave"], lw=0.4, step="mid")
    for a, b, _ in tl.redacted:
        ax.axvspan(a, b, color=COLORS["redacted"], alpha=0.28, lw=0)
    peak = np.nanmax(np.abs(np.concatenate([lo, hi]))) if np.isfinite(lo).any() else 1.0
    lim = max(0.05, min(1.0, peak * 1.15))
    ax.set_ylim(-lim, lim)
    ax.set_ylabel("amplitude (full scale)")
    ax.set_title(tl.title, loc="left", fontsize=11)
    ax.grid(axis="x", alpha=0.25)
    for a, b, trunc in tl.segments:
        if trunc:
            ax.annotate("truncated", xy=(b, lim * 0.92), ha="right", va="top", fontsize=8, color=COLORS["truncated"])

    rows = []  # (label, spans, color, hatch)
    if tl.detector:
        rows.append(("detector", [(a, b - a) for a, b in tl.detector], COLORS["detector"], None))
    rows.append((tl.vad_label, [(a, b - a) for a, b, tr in tl.segments if not tr], COLORS["vad"], None))
    if any(tr for _, _, tr in tl.segments):
        rows.append(("truncated", [(a, b - a) for a, b, tr in tl.segments if tr], COLORS["truncated"], "xx"))
    rows.append(("muted", [(a, b - a) for a, b in tl.mutes], COLORS["mute"], "//"))
    rows.append(("redacted", [(a, b - a) for a, b, _ in tl.redacted], COLORS["redacted"], None))
    rows = rows[::-1]
    for i, (label, spans, color, hatch) in enumerate(rows):
        if spans:
            lanes.broken_barh(spans, (i + 0.15, 0.7), facecolors=color, edgecolor=color if hatch else "none",
                              hatch=hatch, alpha=0.85)
    for a, b, typ in tl.redacted:
        i = [r[0] for r in rows].index("redacted")
        if (b - a) > tl.duration / 25:
            lanes.text((a + b) / 2, i + 0.5, typ, ha="center", va="center", fontsize=7, color="white", clip_on=True)
    lanes.set_yticks([i + 0.5 for i in range(len(rows))])
    lanes.set_yticklabels([r[0] for r in rows], fontsize=9)
    lanes.set_ylim(0, len(rows))
    lanes.set_xlim(0, tl.duration)
    lanes.set_xlabel("time (s)")
    lanes.grid(axis="x", alpha=0.25)
    handles = [Patch(color=COLORS["wave"], label="waveform"),
               Patch(color=COLORS["vad"], alpha=0.5, label=tl.vad_label),
               Patch(facecolor="white", edgecolor=COLORS["mute"], hatch="//", label="muted"),
               Patch(color=COLORS["redacted"], alpha=0.5, label="redacted")]
    if tl.detector:
        handles.insert(1, Patch(color=COLORS["detector"], label="detector (per frame)"))
    if any(tr for _, _, tr in tl.segments):
        handles.append(Patch(color=COLORS["truncated"], alpha=0.6, label="truncated"))
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncol=len(handles),
              frameon=False, borderaxespad=0.2)
    if tl.notes:
        fig.text(0.01, 0.005, "; ".join(tl.notes), fontsize=8, color="#7a4b00", ha="left", va="bottom")
    fig.subplots_adjust(left=0.085, right=0.99, top=0.93, bottom=0.14 if tl.notes else 0.11)
    _save(fig, out)
    plt.close(fig)


def _save(fig, out):
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise BadInput(f"{out.parent}: no such directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=str(out.parent or "."))
    except OSError as e:
        raise HushmicError(f"{out}: cannot write ({e.strerror or e})") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):  # one line, exit 1 (the path itself was checked by hushmic.outputs)
            raise HushmicError(f"{out}: cannot write ({e.strerror or e})") from None
        raise
