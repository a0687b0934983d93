"""`hushmic listen`: live view (or JSON event stream) of one or more boards, real or simulated."""
import argparse
import shutil
import signal
import sys
import time
from pathlib import Path

from .. import audio_io
from ..cli import emit_json, say
from ..errors import BadInput, HushmicError

NAME = "listen"
ORDER = 10
HELP = "stream speech from boards: live view, transcripts (redacted), stored sessions"
DESCRIPTION = """Listen to one or more hushmic boards.

Real boards:      hushmic listen --port /dev/ttyACM0 [--port /dev/ttyACM1 ...]
Simulated board:  hushmic listen --sim FILE.wav [--fast] [--mute 2:4] [--faults 0.001:7] --json

The board sends only speech. Each utterance is transcribed offline and redacted as it completes (in a worker,
so reading never stalls), saved to the private local store, and shown. --json prints one event per line on
stdout (see docs/cli.md); otherwise a live status line and the utterances go to stderr. Ctrl-C stops cleanly
and saves what was in flight. A board that is unplugged or resets is reconnected automatically."""


def _turn_gap(v):
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{v!r} is not a number of seconds") from None
    if not 0.0 <= x <= 10.0:
        raise argparse.ArgumentTypeError(f"{v}: must be between 0 and 10 seconds")
    return x


def _parse_mute(s):
    out = []
    for part in s.split(","):
        try:
            a, b = part.split(":")
            a, b = float(a), float(b)
        except ValueError:
            raise BadInput(f"--mute expects A:B[,C:D...] in seconds, got {s!r}") from None
        if not 0 <= a < b:
            raise BadInput(f"--mute window {part!r}: need 0 <= A < B")
        out.append((a, b))
    return out


def _parse_faults(s):
    rate, _, seed = s.partition(":")
    try:
        rate = float(rate)
        seed = int(seed) if seed else 0
    except ValueError:
        raise BadInput(f"--faults expects RATE[:SEED], got {s!r}") from None
    if not 0 <= rate < 1:
        raise BadInput("--faults RATE must be in [0, 1)")
    return rate, seed


def add_arguments(p):
    src = p.add_argument_group("boards")
    src.add_argument("--port", action="append", default=[], metavar="PORT",
                     help="serial port of a real board (repeat for several boards)")
    src.add_argument("--sim", action="append", default=[], metavar="FILE.wav",
                     help="run a simulated board fed from this 16 kHz mono WAV (repeat for several)")
    sim = p.add_argument_group("simulated board")
    sim.add_argument("--fast", action="store_true", help="run the simulation as fast as possible (times stay on the WAV's timeline)")
    sim.add_argument("--mute", type=_parse_mute, default=[], metavar="A:B[,C:D]",
                     help="hold the simulated mute switch on for A <= t < B seconds")
    sim.add_argument("--faults", type=_parse_faults, default=None, metavar="RATE[:SEED]",
                     help="corrupt or drop board-to-host bytes at this rate, deterministically per seed "
                          "(from the moment the board is connected and streaming)")
    sim.add_argument("--power-cut", action="store_true", help="simulate the wiring in which the switch cuts the mic's power")
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="JSON event stream on stdout (docs/cli.md)")
    out.add_argument("--save-audio", metavar="OUT.wav", help="write the redacted audio on the input's timeline (simulated board only)")
    out.add_argument("--no-transcribe", action="store_true", help="do not run ASR/redaction (no transcript events)")
    out.add_argument("--backend", default=None, help="ASR backend (default: whisper if its model is installed, else pocketsphinx)")
    out.add_argument("--margin-ms", type=int, default=100,
                     help="audio redaction margin around a PII word whose timing is uncertain (default 100; "
                          "confidently aligned words get 40 ms or this, whichever is smaller)")
    out.add_argument("--turn-gap", type=_turn_gap, default=None, metavar="SECONDS",
                     help="segments of a board at most this far apart are transcribed and redacted together as one "
                          "turn, so a pause inside a sentence never splits a value from its cue (default 1.0)")
    out.add_argument("--no-store", action="store_true", help="do not save sessions to the local store")
    out.add_argument("--store", metavar="DIR", default=None, help="store directory (default: $HUSHMIC_HOME or the per-user data dir)")
    out.add_argument("--keep", choices=("redacted", "raw", "none"), default="redacted",
                     help="what audio the store keeps (default: redacted; raw audio is never written)")
    out.add_argument("--retention-days", type=float, default=30, metavar="DAYS",
                     help="at start, delete stored utterances older than DAYS (default 30, as `hushmic purge`)")
    out.add_argument("--stats-every", type=float, default=None, metavar="S",
                     help="print running stats every S seconds (with --json: {\"event\": \"stats\", \"final\": false, ...})")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds (real boards)")
    p.add_argument("--sensitivity", type=int, default=None, choices=range(10), metavar="0-9",
                   help="VAD sensitivity sent to the board (0 = fewest false alarms, 9 = most sensitive)")


def run(args):
    from ..link import open_port

    if not args.port and not args.sim:
        raise BadInput("give a board: --port PORT (see `hushmic devices`) or --sim FILE.wav")
    if args.save_audio and (len(args.sim) != 1 or args.port):
        raise BadInput("--save-audio needs exactly one --sim board")
    if len(set(args.port)) != len(args.port):
        raise BadInput("the same --port is given twice")
    if args.save_audio is not None:
        from ..outputs import check_output

        check_output(args.save_audio, inputs=args.sim, stores=[None, args.store], what="saved audio")
    for p in args.port:  # fail fast, in the foreground, with a one-line reason
        open_port(p).close()
    durations = [len(audio_io.read_wav_strict(w)) / audio_io.RATE for w in args.sim]

    pipeline = None
    if not args.no_transcribe:
        from ..pipeline import Pipeline

        try:
            pipeline = Pipeline(backend=args.backend, margin_ms=args.margin_ms)
            pipeline.describe()  # raises when no ASR backend is installed
        except (ImportError, HushmicError) as e:
            pipeline = None
            say(f"hushmic listen: transcription unavailable ({e}); continuing without transcripts"
                + ("; --save-audio gets no speech (nothing could be redacted)" if args.save_audio else ""))
    store = None
    if not args.no_store:
        from ..store import Store

        store = Store(args.store, keep=args.keep, max_age_days=args.retention_days)
        if args.retention_days is not None:
            r = store.purge()  # the retention policy applies at every start, not only when someone runs purge
            if r["utterances"] or r["sessions"]:
                say(f"hushmic listen: retention ({args.retention_days:g} days): deleted {r['utterances']} "
                    f"utterance(s) and {r['sessions']} session(s)")
    try:
        return _listen(args, durations, pipeline, store)
    finally:
        if store is not None:
            store.close()


def board_names(ports):
    """Names for real boards: 'board0' for one; the port's base name for several (unique even for by-id paths)."""
    if len(ports) == 1:
        return ["board0"]
    names = []
    for i, p in enumerate(ports):
        n = Path(p).name or f"board{i}"
        names.append(n if n not in names else f"{n}-{i}")
    return names


def _listen(args, durations, pipeline, store):
    from ..listen import Listener, live_line

    sims = []
    boards = []
    config = {"sensitivity": args.sensitivity} if args.sensitivity is not None else None
    try:
        if args.sim:
            from ..sim.launcher import SimBoard

            for i, w in enumerate(args.sim):
                sb = SimBoard(w, fast=args.fast, mute=args.mute, faults=args.faults, power_cut=args.power_cut,
                              name=f"sim{i}")
                if args.faults:
                    # the handshake runs on a clean line: at high rates a hello reply rarely arrives whole, and
                    # a first connection that fails is fatal. Faults start once the board is connected and
                    # streaming (see _run_loop).
                    sb.fault_rate = 0.0
                sb.start()
                sims.append(sb)
                boards.append((sb.name, sb.port, (lambda sb=sb: sb.timeline_offset), config))
        for name, p in zip(board_names(args.port), args.port):
            boards.append((name, p, None, config))
        multi = len(boards) > 1
        live = not args.json and sys.stderr.isatty()

        def emit(ev):
            if args.json:
                emit_json(ev)
            else:
                _human(ev, live)

        lst = Listener(boards, emit, pipeline=pipeline, store=store,
                       save_audio_len=int(durations[0] * audio_io.RATE) if args.save_audio else None,
                       multi=multi, say=lambda m: say(("\r\x1b[K" if live else "") + m),
                       realtime=not (sims and args.fast), release_raw=args.no_transcribe,
                       **({"turn_gap_s": args.turn_gap} if args.turn_gap is not None else {}))
        if not args.json:
            say(f"hushmic listen: {pipeline.describe() if pipeline is not None else 'transcription off'}; "
                f"{'store ' + str(store.root) if store is not None else 'not storing'}; Ctrl-C to stop")
        interrupted = _run_loop(lst, args, durations, sims, live, live_line)
        if args.save_audio:
            audio_io.write_wav(args.save_audio, lst.audio_out)
            if pipeline is None:
                say(f"hushmic listen: {args.save_audio} holds the received audio UNREDACTED (--no-transcribe)")
        stats = lst.final_stats()
        if args.json:
            t_end = max(durations) if durations and not interrupted else lst.now_t()
            ev = {"event": "stats", "t": round(t_end, 3), "final": True, **stats}
            rs = lst.running_stats()  # and the end-of-turn -> stored latency (seconds), when anything was stored
            ev.update({k: rs[k] for k in ("latency_median_s", "latency_max_s") if rs[k] is not None})
            if multi:
                ev["board"] = "all"
            emit_json(ev)
        else:
            rs = lst.running_stats()
            say(("\r\x1b[K" if live else "") + "stats: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
            # rows this run really committed (none with --no-store, none that failed because the session was gone)
            where = f"{store.added} stored in {store.root}" if store is not None else "not stored (--no-store)"
            if rs["latency_median_s"] is not None:
                say(f"{rs['utterances']} utterance(s) processed, {where}; latency from the end of a turn to its "
                    f"utterances processed: median {rs['latency_median_s']:.2f} s, max {rs['latency_max_s']:.2f} s")
            if rs["reconnects"]:
                say(f"reconnects: {rs['reconnects']}")
        if lst.store_failures:
            # speech was received but could not be stored: never a quiet success (the error events say which)
            say(f"hushmic listen: {lst.store_failures} utterance(s) could not be stored; see the error events")
            return 1
        return 0
    finally:
        for sb in sims:
            sb.stop()


def _run_loop(lst, args, durations, sims, live, live_line):
    """Pump messages until the simulated WAVs end, --duration passes, or SIGINT/SIGTERM. Returns True if signalled.

    The first Ctrl-C (or SIGTERM) stops cleanly: streams stopped, open utterances saved as truncated, the pipeline
    finished, sessions closed. A second Ctrl-C while that runs gives up at once."""
    interrupted = []
    prev_int = signal.getsignal(signal.SIGINT)
    prev_term = signal.getsignal(signal.SIGTERM)

    def on_signal(sig, frame):
        if interrupted and sig == signal.SIGINT:
            raise KeyboardInterrupt
        interrupted.append(sig)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lst.start()
    t0 = time.monotonic()
    faults_on = not (sims and args.faults)
    last_draw = 0.0
    last_stats = t0
    try:
        while not interrupted:
            lst.pump(0.05)
            if lst.fatal:
                raise HushmicError(lst.fatal)
            if not faults_on and all(b.connected for b in list(lst.boards.values())[:len(sims)]):
                for sb in sims:
                    sb.fault_rate = args.faults[0]
                faults_on = True
            now = time.monotonic()
            if live and now - last_draw > 0.2:
                last_draw = now
                cols = shutil.get_terminal_size((100, 20)).columns
                sys.stderr.write("\r\x1b[K" + live_line(lst, cols))
                sys.stderr.flush()
            if args.stats_every and now - last_stats >= args.stats_every:
                last_stats = now
                rs = lst.running_stats()
                ev = {"event": "stats", "t": lst.now_t(), "final": False, **rs}
                if args.json:
                    emit_json(ev)
                else:
                    say(("\r\x1b[K" if live else "") + "stats: " + ", ".join(
                        f"{k} {v}" for k, v in rs.items() if v is not None))
            if sims:
                done = all(b.connected and b.uptime_ms / 1000.0 + b.offset >= d + 0.6
                           for b, d in zip(lst.boards.values(), durations))
                if done:
                    break
            elif args.duration is not None and now - t0 >= args.duration:
                break
        # stop the boards and collect their counters, so frames_sent is exact in the final stats
        lst.finish(settle=0.3 if (sims and args.fast) else 0.6)
        # drain what is already queued (the final status, a last segment_end); heartbeats never stop coming
        end = time.monotonic() + 0.3
        while time.monotonic() < end and lst.pump(0.05):
            pass
        if interrupted and not args.json:
            say(("\r\x1b[K" if live else "") + "hushmic listen: stopping; saving what is in flight")
    finally:
        try:
            lst.shutdown()
        finally:
            signal.signal(signal.SIGINT, prev_int)
            signal.signal(signal.SIGTERM, prev_term)
    return bool(interrupted)


def _human(ev, live):
    e = ev["event"]
    b = f"[{ev['board']}] " if "board" in ev else ""
    if e == "transcript":
        msg = f"{b}{ev['start']:7.2f}-{ev['end']:7.2f}  {ev['text']}   ({ev['backend']})"
    elif e == "segment_end":
        msg = f"{b}{ev['start']:7.2f}-{ev['end']:7.2f}  speech{' (truncated)' if ev['truncated'] else ''}"
    elif e == "mute":
        extra = ""
        if "mic_silent" in ev:
            extra = ", mic silent (power cut)" if ev["mic_silent"] else ", mic still live (software-only mute)"
        msg = f"{b}{ev['t']:7.2f}  {'MUTED' if ev['muted'] else 'unmuted'}{extra}"
    elif e == "hello":
        msg = f"{b}connected: firmware {ev['firmware']}, protocol {ev['protocol']}, profile {ev['profile']}, codec {ev['codec']}"
    elif e == "error":
        msg = f"{b}error: {ev['message']}"
    else:
        return
    print(("\r\x1b[K" if live else "") + msg, file=sys.stderr, flush=True)
