"""`hushmic listen`: one or more boards -> utterances -> (ASR + redaction in a worker) -> events, store, audio.

Data flow per board: BoardReader thread (link.py) -> queue -> Listener.handle() on the main thread, which assembles
utterances from segment_start / audio / segment_end, checks every audio frame against the mute state, groups finished
utterances into turns (turns.py: segments a short pause apart) and hands each closed turn to a single worker thread
for the pipeline, which transcribes and redacts the turn as one and gives each segment its part. Nothing of a turn is
emitted as a transcript or stored before the turn closes. Events go to `emit` (JSON lines or the live view).

Timelines. Every event time `t` is `fno / 100 + offset` for the board's frame number `fno` (10 ms units since the
board booted). A simulated board gives its offset (the WAV second at which its VM booted, so a replugged board goes
on where the WAV was). A real board has none: its offset is set at each (re)connect from the board's uptime so that
`t` counts seconds since `listen` started, and stays monotonic across resets and replugs.

Robustness:
- a disconnect (cable, reset) closes the board's open utterance as truncated: it is saved, never dropped; the reader
  thread reconnects with backoff and restarts the stream;
- a board that resets without the port going away (USB-UART bridges) is noticed by its uptime going backwards;
  the open utterance is closed as truncated and the stream restarted;
- a new boot restarts frame numbers, so per-boot state (mute windows, counters) is rebased at every connect.
"""
import collections
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .link import BoardConnection, BoardReader
from .protocol import wire
from .store import SessionGone
from .turns import DEFAULT_GAP_S, TurnAssembler

FRAME = 160
RATE = 16000
UPTIME_WRAP = 1 << 30  # the board sends uptime_ms masked to 30 bits (12.4 days): that wrap is not a reset
KEEP_RECENT = 10000  # bounded history (utterance list, latencies) so a listen that runs for days stays flat


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
    offset_fn: object  # None: a real board (host timeline, see module doc)
    offset: float = 0.0
    offset_pending: bool = False
    hello: dict = None
    muted: bool = False
    mute_since_fno: int = None
    mute_since_t: float = None  # for the store: session timeline seconds
    mute_windows: list = field(default_factory=list)  # [(start_fno, end_fno), ...] of this boot
    mic_silent: object = None
    utt: Utterance = None
    last_fno: int = 0
    last_audio_fno: int = None
    uptime_ms: int = 0
    frames_received: int = 0
    audio_while_muted: int = 0
    sent_this_boot: int = 0
    sent_prev_boots: int = 0
    received_this_boot: int = 0
    boot_check: bool = False
    statuses: int = 0
    level_db: float = -120.0
    noise_floor: float = None
    state: str = "connecting"
    connected: bool = False
    connects: int = 0
    resets_seen: int = 0
    last_status: dict = None
    utterances_saved: int = 0

    def t(self, fno):
        return round(fno / 100.0 + self.offset, 3)


class Listener:
    def __init__(self, boards, emit, pipeline=None, store=None, save_audio_len=None, multi=False, say=None,
                 turn_gap_s=DEFAULT_GAP_S, realtime=True, release_raw=None):
        """boards: list of (name, port, offset_fn, config); offset_fn None for a real board.
        emit(event_dict) is called from the main thread and the pipeline worker (serialised by a lock).
        turn_gap_s: segments of a board at most this far apart are transcribed and redacted as one turn.
        realtime: the boards' clocks run at wall-clock pace, so the host's clock may close a turn too (a quiet board
        sends a heartbeat only once a second). False for a simulated board run faster than real time, whose pauses
        only its own timeline can measure: a host busy with ASR must not close a turn early.
        release_raw: write received audio unredacted to the saved-audio buffer when there is no pipeline. Only when the
        user asked for no transcription (--no-transcribe); when ASR is merely unavailable nothing is written, because
        the user asked for redacted audio. Default: True exactly when pipeline is None."""
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
        self.pending = collections.deque()
        self.next_segment = 0
        self.sessions = {}
        self.audio_out = np.zeros(save_audio_len, dtype=np.int16) if save_audio_len else None
        self.turns = TurnAssembler(self._turn_closed, gap_s=turn_gap_s)
        self.realtime = realtime
        self.release_raw = (pipeline is None) if release_raw is None else bool(release_raw)
        self.latencies = collections.deque(maxlen=KEEP_RECENT)  # turn closed -> its utterances saved, seconds
        self.fatal = None
        self.utterances = collections.deque(maxlen=KEEP_RECENT)  # (board, segment, start, end, truncated)
        self.saved = collections.deque(maxlen=KEEP_RECENT)  # (board, segment, utterance id or None)
        self.t0 = time.monotonic()
        self._shut = False
        self.store_failures = 0  # utterances that were received but could not be stored (the command exits 1)
        self.t_max = 0.0  # latest event time so far
        self.end_t = None  # timeline second after which nothing is kept (a simulated recording's end), or None
        self.on_audio = None  # optional hook on_audio(board, t, samples): every audio frame kept (after the mute check)

    # ---- output ------------------------------------------------------------------------------------------------
    def emit(self, board, event, t, **fields):
        ev = {"event": event, "t": t}
        if t is not None and t > self.t_max:
            self.t_max = t
        if self.multi:
            ev["board"] = board
        ev.update(fields)
        with self._emit_lock:
            self.emit_raw(ev)

    def now_t(self):
        """The latest time on the boards' timelines: last event, last frame or uptime report."""
        ts = [self.t_max] + [b.t(max(b.last_fno, b.uptime_ms // 10)) for b in self.boards.values() if b.hello]
        return round(max(ts), 3)

    def elapsed(self):
        return time.monotonic() - self.t0

    # ---- lifecycle ---------------------------------------------------------------------------------------------
    def start(self):
        self.t0 = time.monotonic()
        if self.pipeline is not None:  # load the ASR models now, not on the first utterance (its latency)
            self.pending.append(self.worker.submit(self._warm_up))
        for b in self.boards.values():
            b.reader.start()

    def _warm_up(self):
        try:
            self.pipeline.process(np.zeros(RATE // 2, dtype=np.int16))
        except Exception:
            pass

    def stop_streams(self):
        for b in self.boards.values():
            b.reader.request("stop")

    def request_status(self):
        for b in self.boards.values():
            b.reader.request("status")

    def finish(self, timeout=1.5, settle=0.3):
        """Stop every board's stream and collect its final counters: a status reply from after the stop (re-asked
        every 0.2 s, since a reply can be lost on a noisy line), waiting at least `settle` s for trailing frames."""
        self.stop_streams()
        want = [n for n, b in self.boards.items() if b.connected]
        before = {n: self.boards[n].statuses for n in want}
        t_min = time.monotonic() + settle
        t_end = time.monotonic() + timeout
        next_ask = 0.0
        while True:
            now = time.monotonic()
            pending = [n for n in want if self.boards[n].statuses == before[n]
                       or (self.boards[n].last_status or {}).get("streaming")]
            if now >= t_end or (not pending and now >= t_min):
                return not pending
            if pending and now >= next_ask:
                for n in pending:
                    self.boards[n].reader.request("status")
                next_ask = now + 0.2
            self.pump(0.05)

    def shutdown(self, timeout=120):
        """Close open utterances (truncated), finish the pipeline, stop readers, close sessions. Idempotent."""
        if self._shut:
            return
        self._shut = True
        for b in self.boards.values():
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
        self.turns.close_all()
        while self.pending:
            f = self.pending.popleft()
            try:
                f.result(timeout=timeout)
            except Exception:
                pass
        self.worker.shutdown(wait=True)
        for b in self.boards.values():
            b.reader.stop()
        for b in self.boards.values():
            if b.reader.ident is not None:  # started
                b.reader.join(timeout=2)
            b.reader.conn.close()
        if self.store is not None:
            for name, sid in self.sessions.items():
                b = self.boards[name]
                try:
                    if b.muted and b.mute_since_t is not None:
                        self.store.add_mute(sid, b.mute_since_t, None)  # still muted when the session ended
                        b.mute_since_t = None
                    self.store.close_session(sid, self.board_stats(b))
                except Exception:
                    pass

    def pump(self, timeout=0.05):
        """Handle every message that arrives within timeout. Returns the number handled."""
        n = 0
        try:
            name, m = self.q.get(timeout=timeout)
        except queue.Empty:
            self._tick_turns()
            self._reap()
            return 0
        while True:
            self.handle(self.boards[name], m)
            n += 1
            try:
                name, m = self.q.get_nowait()
            except queue.Empty:
                self._tick_turns()
                self._reap()
                return n

    def _tick_turns(self):
        """Close the turns whose pause has lasted turn_gap_s, on the board's timeline or the host's clock."""
        for name, b in self.boards.items():
            if self.turns.pending(name) is not None and b.utt is None:
                self.turns.tick(name, b.t(max(b.last_fno, b.uptime_ms // 10)))
        if self.realtime:
            self.turns.tick_wall()

    def _reap(self):
        while self.pending and self.pending[0].done():
            self.pending.popleft()

    # ---- message handling --------------------------------------------------------------------------------------
    def handle(self, b, m):
        k = m.kind
        f = m.fields
        if k == "audio":
            self._audio(b, f)
        elif k == "heartbeat":
            self._uptime(b, f["uptime_ms"])
            b.sent_this_boot = max(b.sent_this_boot, f["frames_sent"])
            b.noise_floor = f["noise_floor"] / 10.0
            b.state = f["state"]
        elif k == "segment_start":
            self._fix_offset(b, f["fno"])
            if self.end_t is not None and b.t(f["fno"]) >= self.end_t:
                return  # past the end of the recording: not part of it
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
            self.turns.segment_starting(b.name, b.t(f["fno"]))
            self._open_utt(b, f["fno"])
        elif k == "segment_end":
            if b.utt is None:
                return
            self._close_utt(b, f["fno"], f["truncated"])
        elif k == "mute":
            self._fix_offset(b, f["fno"])
            self._mute(b, f)
        elif k == "connected":
            self._connected(b, f)
        elif k == "disconnected":
            b.connected = False
            b.state = "disconnected"
            if b.utt is not None:  # an utterance cut off by the cable is saved and flagged, never lost
                self._close_utt(b, None, truncated=True)
            self.turns.close(b.name)
            self.say(f"[{b.name}] disconnected ({f.get('reason')}); reconnecting")
        elif k == "status":
            b.last_status = f
            b.statuses += 1
            if "uptime_ms" in f:
                self._uptime(b, int(f["uptime_ms"]))
            b.sent_this_boot = max(b.sent_this_boot, int(f.get("frames_sent", 0)))
        elif k == "hello":  # unsolicited (we asked after a reset): refresh what we know
            b.hello = f
        elif k == "error":
            if f.get("code") == wire.ERR_MUTED and f.get("about") == wire.CMD_START:
                return  # start refused while the switch mutes: expected; asked again when it unmutes
            self.emit(b.name, "error", b.t(b.last_fno), message=f"board: {f.get('message')}")
        elif k == "fatal":
            self.fatal = f.get("message")
        elif k in ("unknown", "malformed"):
            self.emit(b.name, "error", b.t(b.last_fno), message=f"ignored a {k} message from the board ({f})")

    def _uptime(self, b, uptime_ms):
        if b.offset_pending:
            b.offset = round(self.elapsed() - uptime_ms / 1000.0, 3)
            b.offset_pending = False
        if b.boot_check:  # first report after a reconnect: did the board reboot meanwhile?
            b.boot_check = False
            if uptime_ms < b.uptime_ms:
                self._rebase_counters(b)
        elif uptime_ms + 1000 < b.uptime_ms:
            if not (b.uptime_ms > UPTIME_WRAP - 60000 and uptime_ms < 60000):  # a wrap is not a reset
                self._board_reset(b, uptime_ms)
        b.uptime_ms = uptime_ms

    def _fix_offset(self, b, fno):
        """A real board's first framed message after a connect, before any uptime report: estimate from fno."""
        if b.offset_pending:
            b.offset = round(self.elapsed() - fno / 100.0, 3)
            b.offset_pending = False

    def _board_reset(self, b, uptime_ms):
        """The board rebooted under an open port (reset button, watchdog, a USB-UART bridge's DTR/RTS)."""
        b.resets_seen += 1
        if b.utt is not None:
            self._close_utt(b, None, truncated=True)
        self.turns.close(b.name)
        self._new_boot(b)
        if b.offset_fn is None:
            b.offset = round(self.elapsed() - uptime_ms / 1000.0, 3)
        else:
            b.offset = float(b.offset_fn() or 0.0)
        self.emit(b.name, "error", b.t(uptime_ms // 10), message="the board restarted; restarting the stream")
        b.reader.request("hello")
        b.reader.request("start")

    def _rebase_counters(self, b):
        # frames the board sent after its last report (heartbeat, status) still count as sent: at least what arrived
        b.sent_prev_boots += max(b.sent_this_boot, b.received_this_boot)
        b.sent_this_boot = 0
        b.received_this_boot = 0

    def _new_boot(self, b):
        self._rebase_counters(b)
        self._rebase_frames(b)
        b.uptime_ms = 0

    def _rebase_frames(self, b):
        b.mute_windows = []  # frame numbers restart at a boot; after a reconnect no frame from before can arrive
        if b.mute_since_fno is not None:
            b.mute_since_fno = 0
        b.last_fno = 0

    def _connected(self, b, f):
        if b.utt is not None:  # the disconnect went unnoticed (reset): never lose the utterance
            self._close_utt(b, None, truncated=True)
        self.turns.close(b.name)  # frame numbers restart: a turn never spans a (re)connect
        if b.offset_fn is None and b.connects:
            # a real board may or may not have rebooted while away: its next uptime report tells (_uptime)
            self._rebase_frames(b)
            b.boot_check = True
        else:
            self._new_boot(b)  # a simulated board always boots on (re)plug
        b.hello = dict(f["hello"])
        b.connects += 1
        if b.offset_fn is None:
            b.offset = round(self.elapsed(), 3)  # provisional, until the board tells its uptime
            b.offset_pending = True
            b.reader.request("status")
        else:
            b.offset = f.get("offset", 0.0) or 0.0
        b.connected = True
        h = b.hello
        self.emit(b.name, "hello", round(b.offset, 3),
                  firmware=h.get("firmware"), protocol=h.get("protocol"), profile=h.get("profile"),
                  rate=h.get("rate"), frame_ms=h.get("frame_ms"), codec=h.get("codec"),
                  **({"vad_kernel": h["vad_kernel"]} if "vad_kernel" in h else {}))
        if self.store is not None and b.name not in self.sessions:
            self.sessions[b.name] = self.store.open_session(b.name, dict(h))
        # the board's own mute frame may have gone out before the port was open: take the state from hello
        board_muted = h.get("muted")
        if board_muted is True and not b.muted:
            self._mute(b, {"muted": True, "mic_silent": None, "fno": 0})
        elif board_muted is False and b.muted:
            self._mute(b, {"muted": False, "mic_silent": None, "fno": 0})
        b.state = "muted" if b.muted else "listening"

    def _mute(self, b, f):
        fno = f["fno"]
        b.last_fno = max(b.last_fno, fno) if f["muted"] else fno
        changed = f["muted"] != b.muted or (f["muted"] and f["mic_silent"] is not None and f["mic_silent"] != b.mic_silent)
        if f["muted"] and not b.muted:
            b.mute_since_fno = fno
            b.mute_since_t = b.t(fno)
            if b.utt is not None:
                self._close_utt(b, None, truncated=True)
            self.turns.close(b.name)  # speech after a mute never joins speech from before it
        if not f["muted"] and b.muted:
            if b.mute_since_fno is not None:
                b.mute_windows.append((b.mute_since_fno, fno))
            self._store_mute(b, b.mute_since_t, b.t(fno))
            b.mute_since_fno = None
            b.mute_since_t = None
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

    def _store_mute(self, b, start, end):
        sid = self.sessions.get(b.name)
        if self.store is None or sid is None or start is None:
            return
        try:
            try:
                self.store.add_mute(sid, start, end)
            except SessionGone:  # deleted under us: the mute period goes into a new session, never lost
                self.sessions[b.name] = sid = self.store.open_session(b.name, dict(b.hello or {}))
                self.emit(b.name, "error", end if end is not None else start,
                          message="the store's session vanished while listening; continuing in a new session")
                self.store.add_mute(sid, start, end)
        except Exception as e:  # the stream goes on; the error is visible
            self.emit(b.name, "error", end if end is not None else start,
                      message=f"could not record a mute period in the store ({type(e).__name__})")

    def _in_mute(self, b, fno):
        if b.muted and b.mute_since_fno is not None and fno >= b.mute_since_fno:
            return True
        return any(a <= fno < e for a, e in b.mute_windows)

    def _audio(self, b, f):
        fno = f["fno"]
        self._fix_offset(b, fno)
        b.frames_received += 1
        b.received_this_boot += 1
        b.last_fno = fno
        b.last_audio_fno = fno
        if self._in_mute(b, fno):
            b.audio_while_muted += 1
            return  # never keep audio that claims to come from a muted window
        if self.end_t is not None and b.t(fno) >= self.end_t:
            return
        s = f["samples"]
        if self.on_audio is not None:
            self.on_audio(b.name, b.t(fno), s)
        rms = float(np.sqrt(np.mean(s.astype(np.float64) ** 2))) if len(s) else 0.0
        b.level_db = 20 * np.log10(max(rms, 1.0) / 32768.0)
        if b.utt is None:  # audio without its segment_start (lost on the line): open one implicitly
            self._open_utt(b, fno)
        b.utt.frames[fno] = s

    def _open_utt(self, b, fno):
        self.next_segment += 1
        b.utt = Utterance(b.name, self.next_segment, fno, b.offset)
        b.last_fno = max(b.last_fno, fno)
        b.state = "speech" if not b.muted else b.state
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
        if b.state == "speech":
            b.state = "listening"
        self.emit(b.name, "segment_end", u.end, segment=u.segment, start=u.start, end=u.end, truncated=u.truncated)
        self.utterances.append((u.board, u.segment, u.start, u.end, u.truncated))
        self.turns.add(u)

    def _turn_closed(self, turn):
        turn.t_closed = time.monotonic()
        self.pending.append(self.worker.submit(self._process_turn_safe, self.boards[turn.board], turn))

    def _process_turn_safe(self, b, turn):
        try:
            self._process_turn(b, turn)
        except Exception as e:  # a store error must not kill the worker: report it, go on
            self.store_failures += len(turn.segments)
            segs = ", ".join(str(u.segment) for u in turn.segments)
            self.emit(b.name, "error", turn.end, message=f"segment(s) {segs} not saved: {type(e).__name__}: {e}")

    def _process_turn(self, b, turn):
        """ASR and redaction over the whole turn, then each segment's part is emitted, saved and stored."""
        segs = turn.segments
        pcms = [u.pcm() for u in segs]
        if self.pipeline is not None:
            gaps = [0.0] + [max(0.0, u.start - p.end) for p, u in zip(segs, segs[1:])]
            results = self.pipeline.process_turn(pcms, gaps)
        else:
            results = [None] * len(segs)
        for u, pcm, res in zip(segs, pcms, results):
            self._finish_segment(b, u, pcm, res)
        self.latencies.append(time.monotonic() - turn.t_closed)

    def _finish_segment(self, b, u, pcm, res):
        out_pcm = pcm if self.release_raw else None
        if res is not None and res.error:
            # fail closed: nothing of this utterance is emitted, written or stored, only the fact that it failed
            self.emit(b.name, "error", u.end, message=f"segment {u.segment}: {res.error}")
            return
        if res is not None and res.text_redacted is not None:
            out_pcm = res.redacted_pcm
            self.emit(b.name, "transcript", u.end, segment=u.segment, start=u.start, end=u.end,
                      text=res.text_redacted, backend=res.backend)
        if self.audio_out is not None and out_pcm is not None:
            i0 = int(round(u.start * RATE))
            n = min(len(out_pcm), len(self.audio_out) - i0)
            if n > 0 and i0 >= 0:
                self.audio_out[i0:i0 + n] = out_pcm[:n]
        uid = None
        if self.store is not None and b.name in self.sessions:
            redacted = res.redacted_pcm if (res is not None and res.text_redacted is not None) else None

            def add():
                return self.store.add_utterance(self.sessions[b.name], u.segment, u.start, u.end, u.truncated,
                                                raw_pcm=pcm, redacted_pcm=redacted,
                                                text_redacted=res.text_redacted if res else None,
                                                backend=res.backend if res else None,
                                                audit=res.audit if res else None)
            try:
                uid = add()
            except SessionGone:
                # the session was deleted under us (by hand, or an older hushmic's purge): never drop speech; go on
                # in a new session, and say so
                self.sessions[b.name] = self.store.open_session(b.name, dict(b.hello or {}))
                self.emit(b.name, "error", u.end, message="the store's session vanished while listening; "
                                                           "continuing in a new session")
                uid = add()
        b.utterances_saved += 1
        self.saved.append((b.name, u.segment, uid))

    # ---- stats -------------------------------------------------------------------------------------------------
    def latency(self):
        """(median, max) seconds from a turn's close (its pause over) to its utterances saved; None if none."""
        lat = list(self.latencies)
        if not lat:
            return None
        lat.sort()
        return lat[len(lat) // 2], lat[-1]

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

    def running_stats(self):
        """Stats for the live view and `--stats-every`: the final counters plus latency and reconnects."""
        st = self.final_stats()
        lat = self.latency()
        st["utterances"] = sum(b.utterances_saved for b in self.boards.values())
        st["reconnects"] = sum(max(0, b.connects - 1) for b in self.boards.values())
        st["latency_median_s"] = round(lat[0], 3) if lat else None
        st["latency_max_s"] = round(lat[1], 3) if lat else None
        return st


def live_line(listener, width=None):
    """One status line for the terminal view: per board level meter, state, counters; then latency."""
    parts = []
    for b in listener.boards.values():
        lvl = max(-90.0, min(0.0, b.level_db))
        bar = "#" * int((lvl + 90) / 9)
        st = listener.board_stats(b)
        state = "MUTED" if b.muted else b.state
        if not b.connected:
            state = b.state
        turn = listener.turns.pending(b.name)
        if turn is not None and state != "speech":
            state = f"turn…{len(turn.segments)}"
        parts.append(f"[{b.name}] {state:<12} {lvl:5.0f} dB |{bar:<10}| rx {st['frames_received']} "
                     f"lost {st['frames_lost']} crc {st['crc_errors']}")
    lat = listener.latency()
    if lat:
        parts.append(f"latency {lat[0]:.2f}s")
    line = "  ".join(parts)
    if width:
        line = line[:max(10, width - 1)]
    return line


def stderr_is_tty():
    return sys.stderr.isatty()
