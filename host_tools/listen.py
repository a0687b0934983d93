"""`hushmic listen`: one or more boards -> utterances -> (ASR + redaction in a worker) -> events, store, audio.

Data flow per board: BoardReader thread (link.py) -> queue -> Listener.handle() on the main thread, which assembles
utterances from segment_start / audio / segment_end, checks every audio frame against the mute state, and hands
finished utterances to a single worker thread for the pipeline. Events go to `emit` (JSON lines or the live view).
"""
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .link import BoardConnection, BoardReader

FRAME = 160
RATE = 16000


@dataclass
class Utterance:
    board: str
    segment: int
    start_fno: int
    offset: float
    frames: dict = field(default_factory=dict)  # fno -> int16 samples
    end_fno: int = None
    truncated: bool = False
    t_closed: float = 0.0

    @property
    def start(self):
        return round(self.start_fno / 100.0 + self.offset, 3)

    @property
    def end(self):
        return round(self.end_fno / 100.0 + self.offset, 3)

    def pcm(self):
        n = max(0, self.end_fno - self.start_fno)
        out = np.zeros(n * FRAME, dtype=np.int16)
        for fno, s in self.frames.items():
            k = fno - self.start_fno
            if 0 <= k < n:
                out[k * FRAME:(k + 1) * FRAME] = s
        return out


@dataclass
class BoardState:
    name: str
    reader: BoardReader
    offset_fn: object
    offset: float = 0.0
    hello: dict = None
    muted: bool = False
    mute_since_fno: int = None
    mute_windows: list = field(default_factory=list)  # [(start_fno+offset*100, end), ...] on the host timeline
    mic_silent: object = None
    utt: Utterance = None
    last_fno: int = 0
    last_audio_fno: int = None
    uptime_ms: int = 0
    frames_received: int = 0
    audio_while_muted: int = 0
    sent_this_boot: int = 0
    sent_prev_boots: int = 0
    level_db: float = -120.0
    noise_floor: float = None
    state: str = "connecting"
    connected: bool = False
    last_status: dict = None

    def t(self, fno):
        return round(fno / 100.0 + self.offset, 3)


class Listener:
    def __init__(self, boards, emit, pipeline=None, store=None, save_audio_len=None, multi=False, say=None):
        """boards: list of (name, port, offset_fn, config). emit(event_dict) is called from any thread."""
        self.q = queue.Queue()
        self.emit_raw = emit
        self._emit_lock = threading.Lock()
        self.pipeline = pipeline
        self.store = store
        self.multi = multi
        self.say = say or (lambda m: None)
        self.boards = {}
        for name, port, offset_fn, config in boards:
            r = BoardReader(BoardConnection(port, name), self.q, config=config, offset_fn=offset_fn)
            self.boards[name] = BoardState(name, r, offset_fn)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline")
        self.pending = []
        self.next_segment = 0
        self.sessions = {}
        self.audio_out = np.zeros(save_audio_len, dtype=np.int16) if save_audio_len else None
        self.latencies = []
        self.fatal = None
        self.utterances = []

    # ---- output ------------------------------------------------------------------------------------------------
    def emit(self, board, event, t, **fields):
        ev = {"event": event, "t": t}
        if self.multi:
            ev["board"] = board
        ev.update(fields)
        with self._emit_lock:
            self.emit_raw(ev)

    # ---- lifecycle ---------------------------------------------------------------------------------------------
    def start(self):
        for b in self.boards.values():
            b.reader.start()

    def stop_streams(self):
        for b in self.boards.values():
            b.reader.request("stop")

    def request_status(self):
        for b in self.boards.values():
            b.reader.request("status")

    def shutdown(self):
        for b in self.boards.values():
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
        for f in self.pending:
            try:
                f.result(timeout=120)
            except Exception:
                pass
        self.worker.shutdown(wait=True)
        for b in self.boards.values():
            b.reader.stop()
        for b in self.boards.values():
            b.reader.join(timeout=2)
            b.reader.conn.close()
        if self.store is not None:
            for name, sid in self.sessions.items():
                try:
                    self.store.close_session(sid, self.board_stats(self.boards[name]))
                except Exception:
                    pass

    def pump(self, timeout=0.05):
        """Handle every message that arrives within timeout. Returns the number handled."""
        n = 0
        try:
            name, m = self.q.get(timeout=timeout)
        except queue.Empty:
            return 0
        while True:
            self.handle(self.boards[name], m)
            n += 1
            try:
                name, m = self.q.get_nowait()
            except queue.Empty:
                return n

    # ---- message handling --------------------------------------------------------------------------------------
    def handle(self, b, m):
        k = m.kind
        f = m.fields
        if k == "audio":
            self._audio(b, f)
        elif k == "heartbeat":
            if f["frames_sent"] < b.sent_this_boot:  # the board rebooted: its counters restarted
                b.sent_prev_boots += b.sent_this_boot
            b.sent_this_boot = f["frames_sent"]
            b.uptime_ms = f["uptime_ms"]
            b.noise_floor = f["noise_floor"] / 10.0
            b.state = f["state"]
        elif k == "segment_start":
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
            self._open_utt(b, f["fno"])
        elif k == "segment_end":
            if b.utt is None:
                return
            self._close_utt(b, f["fno"], f["truncated"])
        elif k == "mute":
            self._mute(b, f)
        elif k == "connected":
            self._connected(b, f)
        elif k == "disconnected":
            b.connected = False
            b.state = "disconnected"
            if b.utt is not None:  # an utterance cut off by the cable is saved and flagged, never lost
                self._close_utt(b, None, truncated=True)
            self.say(f"[{b.name}] disconnected ({f.get('reason')}); reconnecting")
        elif k == "status":
            b.last_status = f
            sent = int(f.get("frames_sent", 0))
            if sent < b.sent_this_boot:
                b.sent_prev_boots += b.sent_this_boot
            b.sent_this_boot = sent
        elif k == "error":
            self.emit(b.name, "error", b.t(b.last_fno), message=f"board: {f.get('message')}")
        elif k == "fatal":
            self.fatal = f.get("message")
        elif k in ("unknown", "malformed"):
            self.emit(b.name, "error", b.t(b.last_fno), message=f"ignored a {k} message from the board ({f})")

    def _connected(self, b, f):
        if b.sent_this_boot:
            b.sent_prev_boots += b.sent_this_boot
            b.sent_this_boot = 0
        b.hello = f["hello"]
        b.offset = f.get("offset", 0.0) or 0.0
        b.connected = True
        b.state = "muted" if b.hello.get("muted") else "listening"
        h = b.hello
        self.emit(b.name, "hello", b.t(b.last_fno) if b.last_fno else round(b.offset, 3),
                  firmware=h.get("firmware"), protocol=h.get("protocol"), profile=h.get("profile"),
                  rate=h.get("rate"), frame_ms=h.get("frame_ms"), codec=h.get("codec"))
        if self.store is not None and b.name not in self.sessions:
            self.sessions[b.name] = self.store.open_session(b.name, dict(h))

    def _mute(self, b, f):
        fno = f["fno"]
        b.last_fno = max(b.last_fno, fno) if f["muted"] else fno
        changed = f["muted"] != b.muted or (f["muted"] and f["mic_silent"] is not None and f["mic_silent"] != b.mic_silent)
        if f["muted"] and not b.muted:
            b.mute_since_fno = fno
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
        if not f["muted"] and b.muted:
            b.mute_windows.append((b.mute_since_fno, fno))
            b.mute_since_fno = None
            if b.hello and b.hello.get("muted") is True:
                b.hello["muted"] = False
            b.reader.request("start")  # the board refuses start while muted; ask again now
        b.muted = f["muted"]
        b.state = "muted" if b.muted else "listening"
        if f["muted"] and f["mic_silent"] is not None:
            if f["mic_silent"] is False and b.mic_silent is not False:
                self.say(f"[{b.name}] warning: the mic still answers while muted: this mute is software-only. "
                         f"Wire the switch to cut the mic's power (docs/wiring.md)")
            b.mic_silent = f["mic_silent"]
        if changed:
            ev = {"muted": f["muted"]}
            if f["mic_silent"] is not None and f["muted"]:
                ev["mic_silent"] = f["mic_silent"]
            self.emit(b.name, "mute", b.t(fno), **ev)

    def _in_mute(self, b, fno):
        if b.muted and b.mute_since_fno is not None and fno >= b.mute_since_fno:
            return True
        return any(a <= fno < e for a, e in b.mute_windows)

    def _audio(self, b, f):
        fno = f["fno"]
        b.frames_received += 1
        b.last_fno = fno
        b.last_audio_fno = fno
        if self._in_mute(b, fno):
            b.audio_while_muted += 1
            return  # never keep audio that claims to come from a muted window
        s = f["samples"]
        rms = float(np.sqrt(np.mean(s.astype(np.float64) ** 2))) if len(s) else 0.0
        b.level_db = 20 * np.log10(max(rms, 1.0) / 32768.0)
        if b.utt is None:  # audio without its segment_start (lost on the line): open one implicitly
            self._open_utt(b, fno)
        b.utt.frames[fno] = s

    def _open_utt(self, b, fno):
        self.next_segment += 1
        b.utt = Utterance(b.name, self.next_segment, fno, b.offset)
        b.last_fno = max(b.last_fno, fno)
        self.emit(b.name, "segment_start", b.t(fno), segment=b.utt.segment)

    def _close_utt(self, b, end_fno, truncated):
        """Close b's utterance. end_fno=None: cut short (mute, disconnect): it ends after its last audio frame."""
        u = b.utt
        b.utt = None
        if end_fno is None:
            end_fno = max(u.frames) + 1 if u.frames else u.start_fno
        u.end_fno = max(end_fno, u.start_fno)
        u.truncated = bool(truncated)
        u.t_closed = time.monotonic()
        self.emit(b.name, "segment_end", u.end, segment=u.segment, start=u.start, end=u.end, truncated=u.truncated)
        self.utterances.append((u.board, u.segment, u.start, u.end, u.truncated))
        self.pending.append(self.worker.submit(self._process, b, u))

    def _process(self, b, u):
        pcm = u.pcm()
        res = self.pipeline.process(pcm) if self.pipeline is not None else None
        out_pcm = pcm
        if res is not None and res.error:
            self.emit(b.name, "error", u.end, message=f"segment {u.segment}: {res.error}")
            out_pcm = None
        elif res is not None and res.text_redacted is not None:
            out_pcm = res.redacted_pcm
            self.latencies.append(time.monotonic() - u.t_closed)
            self.emit(b.name, "transcript", u.end, segment=u.segment, start=u.start, end=u.end,
                      text=res.text_redacted, backend=res.backend)
        if self.audio_out is not None and out_pcm is not None:
            i0 = int(round(u.start * RATE))
            n = min(len(out_pcm), len(self.audio_out) - i0)
            if n > 0 and i0 >= 0:
                self.audio_out[i0:i0 + n] = out_pcm[:n]
        if self.store is not None and b.name in self.sessions:
            redacted = res.redacted_pcm if (res is not None and res.text_redacted is not None) else None
            self.store.add_utterance(self.sessions[b.name], u.segment, u.start, u.end, u.truncated,
                                     raw_pcm=pcm, redacted_pcm=redacted,
                                     text_redacted=res.text_redacted if res else None,
                                     backend=res.backend if res else None, audit=res.audit if res else None)

    # ---- stats -------------------------------------------------------------------------------------------------
    def board_stats(self, b):
        conn = b.reader.conn
        sent = b.sent_prev_boots + b.sent_this_boot
        return {
            "frames_sent": sent,
            "frames_received": b.frames_received,
            "frames_lost": max(0, sent - b.frames_received),
            "crc_errors": conn.decoder.stats.crc_errors,
            "audio_frames_while_muted": b.audio_while_muted,
        }

    def final_stats(self):
        tot = {"frames_sent": 0, "frames_received": 0, "frames_lost": 0, "crc_errors": 0, "audio_frames_while_muted": 0}
        for b in self.boards.values():
            for k, v in self.board_stats(b).items():
                tot[k] += v
        return tot


def live_line(listener):
    """One status line per board for the terminal view."""
    parts = []
    for b in listener.boards.values():
        lvl = max(-90.0, min(0.0, b.level_db))
        bar = "#" * int((lvl + 90) / 6)
        st = listener.board_stats(b)
        parts.append(f"[{b.name}] {b.state:<12} {lvl:6.1f} dBFS |{bar:<15}| rx {st['frames_received']} "
                     f"lost {st['frames_lost']} crc {st['crc_errors']}")
    return "  ".join(parts)


def stderr_is_tty():
    return sys.stderr.isatty()
