"""hushmic as a Wyoming server (Home Assistant's voice protocol), on the `wyoming` library's codec and servers.

Two services share one socket (docs/home-assistant.md):

asr   Describe -> Info (an asr program `hushmic` whose model is the installed ASR).
      [Transcribe] AudioStart AudioChunk* AudioStop -> one Transcript. Any rate, width (1-4 bytes) and channel
      count; the audio is made 16 kHz mono and goes through `Pipeline.process_turn` as one turn, as `listen` runs a
      turn, so the text carries `[TYPE]` tags. `redact=False` gives the recogniser's plain text instead. If ASR
      or redaction fails, the client gets an Error event and no text (fail closed). Nothing is stored unless a
      store is given, and then only what its keep policy allows.

mic   (when boards are given) a connection that sends no request for MIC_GRACE_S, as wyoming-satellite's
      `--mic-uri` does, gets the first board's audio; a client may also pick a board by sending SelectProgram
      with the name of one of the Info's mic programs. The stream is AudioStart, then AudioChunk events of
      16 kHz / 16-bit / mono PCM whose `timestamp` is the board's timeline in ms. The board sends only speech:
      the time between its segments is sent as zeros, so a wake-word engine downstream keeps its timing.
      Silence is sent SILENCE_LAG_S behind real time (speech as soon as it arrives), so that the pre-roll that
      opens a segment, which reaches back before the detector fired, always lands after the silence before it.
      Audio that still arrives after its silence went out is sent anyway (never dropped; the stream then runs that
      far ahead until the next pause absorbs it) and the lag grows to cover it, up to MAX_LAG_S.
      While the board's switch mutes it: AudioStop, then a `hushmic-mute` event {"muted": true, "t": the board's
      time of the switch, "mic_silent": ...}; no chunk at all until it unmutes (`hushmic-mute` {"muted": false}, AudioStart). Wyoming peers drop
      event types they do not know, so the extra event costs others nothing. The same happens (without the mute
      event) while the board is disconnected. Every client has its own queue: a client more than MAX_BACKLOG_S of
      audio behind is disconnected with one log line; it never holds up the board or the other clients.

Threads: the asyncio loop (Wyoming connections) in the main thread; the boards (link readers and `Listener.pump`)
in a thread of their own, which hands audio and state changes to the loop with call_soon_threadsafe; ASR in one
worker thread, so transcriptions queue instead of fighting over the 2 cores.

Robustness: input that is not a Wyoming event (garbage), a header or data/payload larger than MAX_EVENT_BYTES, an
event cut off by a disconnect: one log line, that connection is closed, the server goes on. A well-formed event with
bad fields gets an Error event and the connection goes on.
"""
import asyncio
import collections
import ipaddress
import logging
import os
import socket
import stat
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioFormat, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, MicProgram, SelectProgram
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncServer

from . import __version__, asr
from .errors import BadInput, HushmicError

log = logging.getLogger("hushmic.wyoming")

RATE = 16000          # what the mic service sends and the ASR pipeline takes
WIDTH = 2
CHANNELS = 1
FRAME_MS = 10         # the board's frames: the mic stream's timeline unit
CHUNK_SAMPLES = 1024  # at most this many samples per mic AudioChunk (wyoming-satellite's own chunk size)
MIC_GRACE_S = 0.2     # a connection silent this long is a mic client (wyoming-satellite sends nothing to its mic)
SILENCE_LAG_S = 0.6   # silence goes out this far behind real time: > the board's pre-roll + min speech (0.45 s)
MAX_LAG_S = 2.0       # ... and up to this far when audio arrives later than that (a slow link or host)
MAX_EXTRAPOLATE_S = 1.5  # silence is sent at most this far past the board's last report (heartbeats: every 1 s)
MAX_GAP_S = 1.5       # zeros owed beyond this at once mean the timeline jumped: skip ahead instead of a burst
MAX_BACKLOG_S = 2.0   # a mic client this far behind (in our queue) is disconnected
SNDBUF_BYTES = 32768  # kernel send buffer of a mic connection (1 s of audio), so that a stalled client shows up
MAX_EVENT_BYTES = 1 << 20  # data or payload of one event; the JSON header line is limited by asyncio (64 KiB)
MAX_ASR_S = 60.0      # audio per transcription; beyond it the request is refused with an Error event
MUTE_EVENT = "hushmic-mute"
DEFAULT_URI = "tcp://127.0.0.1:10300"
LANGUAGES = ["en"]


def log_to_stderr(level=logging.INFO):
    """The server's log lines (connections, refused input, slow clients) on stderr, one line each."""
    if not log.handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("hushmic wyoming: %(message)s"))
        log.addHandler(h)
    log.setLevel(level)
    log.propagate = False


# ------------------------------------------------------------------------------------------------ addresses
def parse_uri(uri):
    """('tcp', host, port) or ('unix', path, None); BadInput for anything else."""
    u = urlparse(uri)
    if u.scheme == "tcp":
        try:
            port = u.port
        except ValueError:
            port = None
        if not u.hostname or port is None:
            raise BadInput(f"--uri {uri!r}: give tcp://HOST:PORT, e.g. {DEFAULT_URI}")
        return "tcp", u.hostname, port
    if u.scheme == "unix":
        path = (u.netloc + u.path) if u.netloc else u.path
        if not path:
            raise BadInput(f"--uri {uri!r}: give unix:///path/to/socket")
        return "unix", path, None
    raise BadInput(f"--uri {uri!r}: only tcp://HOST:PORT and unix://PATH are supported")


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------------ audio
def to_mono16(audio, width, channels):
    """Little-endian PCM of 1-4 bytes per sample (8-bit unsigned, as WAV and audioop) -> mono int16."""
    frame = width * channels
    b = np.frombuffer(audio, dtype=np.uint8)[: len(audio) // frame * frame]
    if width == 1:
        x = (b.astype(np.int32) - 128) << 8
    elif width == 2:
        x = b.view("<i2").astype(np.int32)
    elif width == 3:
        t = b.reshape(-1, 3).astype(np.int32)
        x = ((t[:, 0] | (t[:, 1] << 8) | (t[:, 2] << 16)) << 8) >> 16  # sign-extend 24 bits, keep the top 16
    else:
        x = b.view("<i4") >> 16
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16) if channels > 1 else x.astype(np.int16)


def _check_format(fmt):
    """An AudioStart/AudioChunk's format: (rate, width, channels) ints, or ValueError with the reason."""
    rate, width, channels = fmt.rate, fmt.width, fmt.channels
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (rate, width, channels)):
        raise ValueError("rate, width and channels must be integers")
    if not 1000 <= rate <= 384000 or width not in (1, 2, 3, 4) or not 1 <= channels <= 16:
        raise ValueError(f"unsupported audio format: rate {rate}, width {width}, channels {channels} "
                         f"(rate 1000-384000 Hz, width 1-4 bytes, 1-16 channels)")
    return rate, width, channels


# ------------------------------------------------------------------------------------------------ asr
class AsrService:
    """One transcription at a time (a worker thread), through the same Pipeline as `listen`."""

    def __init__(self, pipeline, redact=True, store=None):
        self.pipeline = pipeline
        self.redact = redact
        self.store = store
        self.backend = pipeline.backend or asr.default_backend()
        self.worker = None
        self._session = None
        self._n = 0
        self.t0 = time.monotonic()

    def start(self, loop):
        from concurrent.futures import ThreadPoolExecutor

        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyoming-asr")
        self.loop = loop
        return loop.run_in_executor(self.worker, self._warm_up)

    def _warm_up(self):  # load the models now, not on the first request (its latency)
        try:
            self.pipeline.process_turn([np.zeros(RATE // 2, dtype=np.int16)], rate=RATE)
        except Exception:
            pass

    def program(self):
        from .asr.manifest import DEFAULT_WHISPER, MANIFESTS

        # the Whisper the pipeline runs: the default one for "whisper", else the one named (whisper-base, ...)
        m = MANIFESTS.get(self.backend) or (MANIFESTS[DEFAULT_WHISPER] if self.backend == "whisper" else None)
        if m is not None:
            model = AsrModel(name=m["name"], version=m["source"].rpartition("@")[2][:12],
                             description=f"Whisper {m['alias']}, offline, hash-checked ({m['licence']})",
                             attribution=Attribution(name="OpenAI, SYSTRAN", url="https://github.com/openai/whisper"),
                             installed=True, languages=LANGUAGES)
        else:
            model = AsrModel(name=f"{self.backend}-en-us", version=_dist_version(self.backend),
                             description=f"{self.backend}, offline", installed=True, languages=LANGUAGES,
                             attribution=Attribution(name="CMU Sphinx" if self.backend == "pocketsphinx" else "",
                                                     url="https://github.com/cmusphinx/pocketsphinx"
                                                     if self.backend == "pocketsphinx" else ""))
        what = ("personal data redacted as [TYPE] tags" if self.redact
                else "NOT redacted (--no-redact): names and numbers come through as spoken")
        return AsrProgram(name="hushmic", version=__version__, installed=True,
                          description=f"hushmic private speech-to-text, offline; {what}",
                          attribution=Attribution(name="hushmic", url=""), models=[model],
                          supports_transcript_streaming=False)

    async def transcribe(self, pcm):
        """16 kHz mono int16 -> a Transcript or an Error event."""
        return await self.loop.run_in_executor(self.worker, self._transcribe, pcm)

    def _transcribe(self, pcm):
        t_end = time.monotonic() - self.t0
        if len(pcm) == 0:
            return Transcript(text="", language=LANGUAGES[0]).event()
        if not self.redact:
            try:
                tr = asr.transcribe(pcm, RATE, backend=self.pipeline.backend)
            except Exception as e:
                log.warning("transcription failed (%s)", type(e).__name__)
                return Error(text=f"transcription failed ({type(e).__name__})", code="hushmic-asr-failed").event()
            return Transcript(text=tr.text, language=LANGUAGES[0]).event()
        res = self.pipeline.process_turn([pcm], rate=RATE)[0]  # one request = one turn, as listen gives a turn
        if res.error:  # fail closed: the client learns that it failed, and nothing of what was said
            return Error(text=res.error, code="hushmic-asr-failed").event()
        text = res.text_redacted or ""
        if self.store is not None:
            try:
                if self._session is None:
                    self._session = self.store.open_session("wyoming", {"source": "hushmic wyoming asr"})
                self._n += 1
                self.store.add_utterance(self._session, self._n, round(max(0.0, t_end - len(pcm) / RATE), 3),
                                         round(t_end, 3), False, raw_pcm=pcm, redacted_pcm=res.redacted_pcm,
                                         text_redacted=text, backend=res.backend, audit=res.audit)
            except Exception as e:  # the client still gets its transcript; the failure is visible
                log.warning("could not store transcription %d (%s)", self._n, type(e).__name__)
        return Transcript(text=text, language=LANGUAGES[0]).event()

    def close(self):
        if self.worker is not None:
            self.worker.shutdown(wait=True)
        if self.store is not None and self._session is not None:
            try:
                self.store.close_session(self._session, {"transcriptions": self._n})
            except Exception:
                pass


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


# ------------------------------------------------------------------------------------------------ mic: boards side
class BoardFeed:
    """One board's audio as a continuous Wyoming stream, driven from the boards thread.

    Positions are frames (10 ms) on the board's timeline. `pos` is the next frame the stream will carry: an audio
    frame at k > pos first gets k - pos frames of zeros; one at k < pos (it arrived after the silence for its time
    went out, i.e. later than SILENCE_LAG_S) still goes out, and the stream runs that much ahead. `ref` is the
    latest evidence of where the board's timeline is now (a frame or a heartbeat) with the host's clock then."""

    def __init__(self, name, post, lag_s=SILENCE_LAG_S):
        self.name = name
        self.post = post  # post(board, Event): hands the event to the loop
        self.lag = self.lag0 = int(round(lag_s * 1000 / FRAME_MS))
        self.max_lag = int(MAX_LAG_S * 1000 / FRAME_MS)
        self.live = False
        self.connected = False
        self.muted = False
        self.pos = None
        self.ref = None
        self.seen_uptime = None
        self.buf = bytearray()
        self.buf_k = 0
        self.late = 0
        self.late_run = 0
        self.dropped = 0
        self.jumps = 0
        self.max_gap = int(MAX_GAP_S * 1000 / FRAME_MS)

    def _est(self, now):
        """Where the board's timeline is now: the latest evidence, run on by the host's clock for at most
        MAX_EXTRAPOLATE_S (a board that stops reporting gets no endless stream of silence)."""
        k, wall = self.ref
        return k + int(min(now - wall, MAX_EXTRAPOLATE_S) * 1000 / FRAME_MS)

    def start(self, now, k=None):
        """Go live. k: the timeline frame the stream starts at (an unmute), or None (a board that just connected:
        where its timeline is now is known from its first heartbeat or frame)."""
        self.live = True
        self.pos = k
        self.ref = (k, now) if k is not None else None
        self.buf = bytearray()
        ts = k * FRAME_MS if k is not None else None
        self.post(self.name, AudioStart(rate=RATE, width=WIDTH, channels=CHANNELS, timestamp=ts).event())

    def stop(self):
        if not self.live:
            return
        self.flush(whole=True)
        self.live = False
        self.post(self.name, AudioStop(timestamp=self.pos * FRAME_MS if self.pos is not None else None).event())

    def _append(self, data, frames):
        if not self.buf:
            self.buf_k = self.pos
        self.buf += data
        self.pos += frames

    def _skip_to(self, k):
        """The timeline jumped (a host stall, a clock estimate corrected): go on from k, no burst of zeros."""
        self.flush(whole=True)
        log.warning("[%s] the board's timeline jumped %d ms ahead of the stream: skipping ahead, no burst of zeros",
                    self.name, (k - self.pos) * FRAME_MS)
        self.pos = k
        self.jumps += 1

    def frame(self, k, samples, now):
        if not self.live:
            self.dropped += 1  # from before a mute or disconnect, arriving after it: not sent
            return
        if self.ref is None or k > self._est(now):
            self.ref = (k, now)
        if self.pos is None:
            self.pos = k
        if k - self.pos > self.max_gap:
            self._skip_to(k)
        if k >= self.pos:
            if k > self.pos:
                self._append(bytes((k - self.pos) * len(samples) * WIDTH), k - self.pos)
            self.late_run = 0
        else:
            self.late += 1
            if self.late_run == 0:  # the first late frame of a run: the stream is now this far ahead
                ahead = self.pos - k
                if self.lag < self.max_lag:  # this board or host is slower than assumed: hold silence back longer
                    self.lag = min(self.max_lag, self.lag + ahead + self.lag0 // 4)
                log.warning("[%s] audio arrived %d ms after the silence for its time was sent: the stream runs that "
                            "far ahead until the next pause; silence now lags %d ms", self.name, ahead * FRAME_MS,
                            self.lag * FRAME_MS)
            self.late_run += 1
        self._append(np.asarray(samples, dtype="<i2").tobytes(), 1)

    def heartbeat(self, k, now):
        self.ref = (k, now)
        if self.live and self.pos is None:
            self.pos = max(0, k - self.lag)

    def fill(self, now):
        """Zeros up to SILENCE_LAG_S behind the board's now."""
        if not self.live or self.ref is None or self.pos is None:
            return
        target = self._est(now) - self.lag
        if target - self.pos > self.max_gap:
            self._skip_to(target)
        elif target > self.pos:
            n = target - self.pos
            self._append(bytes(n * RATE * FRAME_MS // 1000 * WIDTH), n)

    def flush(self, whole=False):
        """Send the buffered audio as chunks of CHUNK_SAMPLES; the remainder too when `whole`."""
        step = CHUNK_SAMPLES * WIDTH
        per_frame = WIDTH * RATE * FRAME_MS // 1000
        n = len(self.buf) if whole else len(self.buf) // step * step
        for i in range(0, n, step):
            part = bytes(self.buf[i:min(i + step, n)])
            self.post(self.name, AudioChunk(rate=RATE, width=WIDTH, channels=CHANNELS, audio=part,
                                            timestamp=int(round(self.buf_k * FRAME_MS))).event())
            self.buf_k += len(part) / per_frame
        del self.buf[:n]

    # events from the Listener (its emit), in order with its audio frames
    def on_event(self, ev, board_state, now):
        kind = ev.get("event")
        if kind == "hello":
            self.connected = True
            self.stop()
            hello_muted = bool((board_state.hello or {}).get("muted")) if board_state is not None else False
            if not (self.muted or hello_muted):
                self.start(now)
        elif kind == "mute":
            data = {"board": self.name, "muted": bool(ev["muted"]), "t": ev["t"]}
            if "mic_silent" in ev:
                data["mic_silent"] = ev["mic_silent"]
            if ev["muted"]:
                self.muted = True
                self.stop()
                self.post(self.name, Event(type=MUTE_EVENT, data=data))
            else:
                self.muted = False
                self.post(self.name, Event(type=MUTE_EVENT, data=data))
                if self.connected:
                    self.stop()
                    self.start(now, int(round(ev["t"] * 1000 / FRAME_MS)))

    def tick(self, board_state, now):
        if board_state is not None:
            if self.connected and not board_state.connected:
                self.connected = False
                self.stop()
            if board_state.uptime_ms != self.seen_uptime and board_state.hello:
                self.seen_uptime = board_state.uptime_ms
                if self.live:  # the board's uptime: where its timeline is now
                    self.heartbeat(int(round(board_state.t(board_state.uptime_ms // 10) * 1000 / FRAME_MS)), now)
        self.fill(now)
        self.flush()


class BoardsThread(threading.Thread):
    """Runs the Listener (link readers, frame checks, mute state) and the BoardFeeds; no ASR, nothing stored."""

    def __init__(self, board_specs, post, say):
        super().__init__(name="wyoming-boards", daemon=True)
        from .listen import Listener

        names = [n for n, _, _, _ in board_specs]
        self.single = names[0] if len(names) == 1 else None
        self.feeds = {n: BoardFeed(n, post) for n in names}
        self.lst = Listener(board_specs, self._emit, pipeline=None, store=None, multi=len(names) > 1, say=say)
        self.lst.on_audio = self._audio
        self.say = say
        self._halt = threading.Event()
        self.error = None

    def _emit(self, ev):  # the Listener's events, on this thread (the pipeline worker has nothing to do here)
        name = ev.get("board", self.single)
        feed = self.feeds.get(name)
        was_muted = feed.muted if feed is not None else None
        if feed is not None:
            feed.on_event(ev, self.lst.boards.get(name), time.monotonic())
        if ev.get("event") == "error":
            self.say(f"[{name}] {ev.get('message')}")
        elif ev.get("event") == "mute" and ev["muted"] != was_muted:
            self.say(f"[{name}] {'muted: no audio until the switch is off' if ev['muted'] else 'unmuted'}")
        elif ev.get("event") == "hello":
            self.say(f"[{name}] connected (firmware {ev.get('firmware')}, codec {ev.get('codec')})")

    def _audio(self, board, t, samples):
        self.feeds[board].frame(int(round(t * 1000 / FRAME_MS)), samples, time.monotonic())

    def run(self):
        try:
            self.lst.start()
            while not self._halt.is_set():
                self.lst.pump(0.02)
                if self.lst.fatal:
                    raise HushmicError(self.lst.fatal)
                now = time.monotonic()
                for name, feed in self.feeds.items():
                    feed.tick(self.lst.boards.get(name), now)
        except Exception as e:
            self.error = str(e) or type(e).__name__
            self.say(f"boards stopped: {self.error}")
        finally:
            for feed in self.feeds.values():
                feed.stop()
            try:
                self.lst.stop_streams()
                self.lst.shutdown(timeout=5)
            except Exception:
                pass

    def stop(self):
        self._halt.set()


# ------------------------------------------------------------------------------------------------ mic: loop side
class MicClient:
    """One mic connection's queue and writer task. offer() never blocks; a client too far behind is cut off."""

    def __init__(self, writer, peer, board, backlog_s=MAX_BACKLOG_S):
        self.writer = writer
        self.peer = peer
        self.board = board
        self.q = collections.deque()
        self.queued = 0  # bytes of audio waiting
        self.limit = int(backlog_s * RATE * WIDTH)
        self.wake = asyncio.Event()
        self.closed = False
        self.auto = True  # chosen by the grace time (a silent client), not by SelectProgram

    def offer(self, event):
        if self.closed:
            return
        self.q.append(event)
        self.queued += len(event.payload or b"")
        if self.queued > self.limit:
            log.warning("%s: mic client more than %.0f s behind: disconnected", self.peer, self.limit / RATE / WIDTH)
            self.close()
            return
        self.wake.set()

    def close(self, abort=True):
        """Stop this client's stream; abort=True also drops the connection (a client too far behind)."""
        if not self.closed:
            self.closed = True
            self.q.clear()
            self.wake.set()
            if abort:
                try:
                    self.writer.transport.abort()
                except Exception:
                    pass

    async def run(self):
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while self.q and not self.closed:
                    ev = self.q.popleft()
                    self.queued -= len(ev.payload or b"")
                    await async_write_event(ev, self.writer)
        except (ConnectionError, OSError, RuntimeError):
            self.close()


class MicHub:
    """The loop's side of the mic service: each board's current state and its clients."""

    def __init__(self, names):
        self.names = list(names)
        self.clients = {n: set() for n in self.names}
        self.live = {n: None for n in self.names}    # the AudioStart of the running stream, or None
        self.mute = {n: None for n in self.names}    # the last hushmic-mute event

    def publish(self, board, event):
        if AudioStart.is_type(event.type):
            self.live[board] = event
        elif AudioStop.is_type(event.type):
            self.live[board] = None
        elif event.type == MUTE_EVENT:
            self.mute[board] = event
        for c in list(self.clients[board]):
            c.offer(event)

    def subscribe(self, client):
        b = client.board
        m = self.mute[b]
        if m is not None and m.data.get("muted"):
            client.offer(m)
        if self.live[b] is not None:
            client.offer(AudioStart(rate=RATE, width=WIDTH, channels=CHANNELS).event())
        self.clients[b].add(client)

    def unsubscribe(self, client):
        self.clients[client.board].discard(client)

    def muted(self, board):
        m = self.mute[board]
        return bool(m is not None and m.data.get("muted"))

    def programs(self):
        return [MicProgram(name=n, version=__version__, installed=True,
                           description=f"hushmic board {n}: speech only, silence between segments as zeros; "
                                       f"{'MUTED by its switch' if self.muted(n) else 'live'}",
                           attribution=Attribution(name="hushmic", url=""),
                           mic_format=AudioFormat(rate=RATE, width=WIDTH, channels=CHANNELS))
                for n in self.names]


# ------------------------------------------------------------------------------------------------ connections
class _GuardedReader:
    """What async_read_event reads through: refuses a data or payload length over the limit before reading it,
    and remembers why a read ended, so that a refused or garbled event gets one clear log line."""

    def __init__(self, reader, limit=MAX_EVENT_BYTES):
        self.r = reader
        self.limit = limit
        self.problem = None
        self.line = b""

    async def readline(self):
        try:
            self.line = await self.r.readline()
        except ValueError:
            self.problem = "an event header line over 64 KiB"
            raise
        return self.line

    async def readexactly(self, n):
        if not isinstance(n, int) or n > self.limit:
            self.problem = f"an event with {n!r} bytes of data or payload (limit {self.limit})"
            raise ValueError(self.problem)
        return await self.r.readexactly(n)


class Handler(AsyncEventHandler):
    def __init__(self, server, reader, writer):
        super().__init__(reader, writer)
        self.srv = server
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unix client"
        self.mic = None
        self.mic_task = None
        self.grace = None
        self.audio = None  # list of int16 arrays of the request in progress, or None
        self.fmt = None
        self.rest = b""
        self.samples = 0
        self.too_long = False
        if server.hub is not None:
            self.grace = asyncio.get_running_loop().call_later(MIC_GRACE_S, self._start_mic, server.hub.names[0])

    # the read loop of AsyncEventHandler.run, with a log line for every way a connection can go wrong
    async def run(self):
        guard = _GuardedReader(self.reader)
        why = None
        try:
            while True:
                try:
                    event = await async_read_event(guard)
                except asyncio.IncompleteReadError:
                    why = "disconnected in the middle of an event"
                    break
                except (ConnectionError, OSError):
                    why = None if self.mic is not None and self.mic.closed else "connection lost"
                    break
                except Exception as e:
                    why = f"malformed event ({type(e).__name__})"
                    break
                if event is None:
                    if guard.problem:
                        why = f"refused {guard.problem}"
                    elif guard.line:
                        why = "sent something that is not a Wyoming event"
                    break
                if not await self.handle_event(event):
                    break
        except (ConnectionError, OSError):
            why = "connection lost"
        finally:
            if why:
                log.warning("%s: %s; connection closed", self.peer, why)
                try:
                    await asyncio.wait_for(self.write_event(Error(text=why, code="hushmic-bad-event").event()), 1)
                except Exception:
                    pass
            await self.disconnect()
            try:
                self.writer.close()
            except Exception:
                pass

    async def disconnect(self):
        if self.grace is not None:
            self.grace.cancel()
        if self.mic is not None:
            self.srv.hub.unsubscribe(self.mic)
            self.mic.close()
            if self.mic_task is not None:
                self.mic_task.cancel()
            log.info("%s: mic client disconnected (%s)", self.peer, self.mic.board)

    def _not_mic(self):
        """The client made a request: it is not a mic client (even if a busy loop let the grace time pass)."""
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None
        if self.mic is not None and self.mic.auto:
            self.srv.hub.unsubscribe(self.mic)
            self.mic.close(abort=False)
            self.mic = None

    def _start_mic(self, board, auto=True):
        self.grace = None
        if self.mic is not None:
            if self.mic.board == board:
                self.mic.auto = self.mic.auto and auto
                return
            self.srv.hub.unsubscribe(self.mic)
            self.mic.close(abort=False)
        self.mic = MicClient(self.writer, self.peer, board)
        self.mic.auto = auto
        sock = self.writer.get_extra_info("socket")
        if sock is not None:  # a real-time stream: seconds of audio must not pile up in the kernel unseen
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF_BYTES)
            except OSError:
                pass
        self.srv.hub.subscribe(self.mic)
        self.mic_task = asyncio.create_task(self.mic.run())
        log.info("%s: mic client for %s", self.peer, board)

    async def _error(self, text, code="hushmic-bad-request"):
        log.warning("%s: %s", self.peer, text)
        await self.write_event(Error(text=text, code=code).event())
        return True

    async def handle_event(self, event):
        try:
            return await self._handle(event)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            return await self._error(f"bad {event.type!r} event ({type(e).__name__}: {e})")

    async def _handle(self, event):
        srv = self.srv
        if Describe.is_type(event.type):
            self._not_mic()
            await self.write_event(srv.info().event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif SelectProgram.is_type(event.type):
            name = SelectProgram.from_event(event).name
            if srv.hub is not None and name in srv.hub.names:
                self._start_mic(name, auto=False)
            elif srv.asr is not None and name == "hushmic":
                self._not_mic()
            else:
                return await self._error(f"no program named {name!r}", "hushmic-no-program")
        elif Transcribe.is_type(event.type):
            self._not_mic()
            if srv.asr is None:
                return await self._error("this server runs no asr service (--no-asr)", "hushmic-no-asr")
            Transcribe.from_event(event)  # validates; hushmic's model and language are fixed (English)
        elif AudioStart.is_type(event.type):
            self._not_mic()
            if srv.asr is None:
                return await self._error("this server runs no asr service (--no-asr)", "hushmic-no-asr")
            self.fmt = _check_format(AudioStart.from_event(event))
            self.audio, self.rest, self.samples, self.too_long = [], b"", 0, False
        elif AudioChunk.is_type(event.type):
            self._not_mic()
            if srv.asr is None:
                return True
            chunk = AudioChunk.from_event(event)
            fmt = _check_format(chunk)
            if self.audio is None:  # no AudioStart: the chunk starts the request (as wyoming-faster-whisper)
                self.fmt, self.audio, self.rest, self.samples, self.too_long = fmt, [], b"", 0, False
            if fmt != self.fmt:
                self.audio = None
                return await self._error(f"audio format changed within one request ({self.fmt} -> {fmt})")
            if self.too_long:
                return True
            rate, width, channels = fmt
            data = self.rest + chunk.audio
            n = len(data) // (width * channels) * (width * channels)
            self.rest = data[n:]
            x = to_mono16(data[:n], width, channels)
            self.samples += len(x)
            if self.samples > MAX_ASR_S * rate:
                self.too_long = True
                self.audio = []
                return await self._error(f"more than {MAX_ASR_S:.0f} s of audio in one request: refused",
                                         "hushmic-too-long")
            self.audio.append(x)
        elif AudioStop.is_type(event.type):
            if srv.asr is None or self.audio is None:
                return True
            audio, fmt, too_long = self.audio, self.fmt, self.too_long
            self.audio = None
            if too_long:
                return True
            pcm = np.concatenate(audio) if audio else np.zeros(0, dtype=np.int16)
            if fmt[0] != RATE and len(pcm):
                from .audio_io import resample

                pcm = resample(pcm, fmt[0], RATE)
            await self.write_event(await srv.asr.transcribe(pcm))
        else:
            log.debug("%s: ignored a %r event", self.peer, event.type)
        return True


class Server:
    def __init__(self, uri, asr=None, board_specs=(), say=None):
        self.kind, self.addr, self.port = parse_uri(uri)
        self.uri = uri
        self.asr = asr
        self.say = say or (lambda m: None)
        self.hub = MicHub([n for n, _, _, _ in board_specs]) if board_specs else None
        self.board_specs = list(board_specs)
        self.boards = None
        self.loop = None

    def info(self):
        return Info(asr=[self.asr.program()] if self.asr is not None else [],
                    mic=self.hub.programs() if self.hub is not None else [])

    def _post(self, board, event):  # boards thread -> loop
        try:
            self.loop.call_soon_threadsafe(self.hub.publish, board, event)
        except RuntimeError:  # the loop has closed (shutting down)
            pass

    async def serve(self, stop):
        """Serve until `stop` (an asyncio.Event) is set or the boards fail. Returns an exit code."""
        self.loop = asyncio.get_running_loop()
        if self.kind == "unix":
            p = Path(self.addr)
            if p.exists() and not stat.S_ISSOCK(p.stat().st_mode):
                raise BadInput(f"--uri {self.uri}: {p} exists and is not a socket")
        server = AsyncServer.from_uri(self.uri)
        if self.asr is not None:
            self.asr.start(self.loop)
        if self.board_specs:
            self.boards = BoardsThread(self.board_specs, self._post, self.say)
        try:
            old = os.umask(0o077) if self.kind == "unix" else None  # a unix socket private to the user
            try:
                await server.start(lambda r, w: Handler(self, r, w))
            finally:
                if old is not None:
                    os.umask(old)
        except OSError as e:
            raise HushmicError(f"cannot listen on {self.uri} ({e.strerror or e})") from None
        if self.boards is not None:
            self.boards.start()
        services = (["asr"] if self.asr is not None else []) + (
            [f"mic ({', '.join(self.hub.names)})"] if self.hub is not None else [])
        self.say(f"serving {' and '.join(services)} on {self.uri}; Ctrl-C to stop")
        rc = 0
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass
                if self.boards is not None and not self.boards.is_alive():
                    rc = 1
                    break
        finally:
            try:
                await server.stop()
            except Exception:
                pass
            if self.kind == "unix":
                try:
                    os.unlink(self.addr)
                except OSError:
                    pass
            if self.boards is not None:
                self.boards.stop()
                await self.loop.run_in_executor(None, self.boards.join, 10)
            if self.asr is not None:
                await self.loop.run_in_executor(None, self.asr.close)
        return rc
