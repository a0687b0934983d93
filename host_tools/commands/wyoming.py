"""`hushmic wyoming`: a Wyoming server (Home Assistant) for private speech-to-text and for the board as a microphone."""
import asyncio
import signal

from ..cli import say
from ..errors import BadInput, HushmicError

NAME = "wyoming"
ORDER = 15
HELP = "serve Home Assistant over Wyoming: redacted offline speech-to-text, and the board as a microphone"
DESCRIPTION = """A Wyoming server (the protocol of Home Assistant's voice pipeline), see docs/home-assistant.md.

Speech-to-text:   hushmic wyoming --uri tcp://127.0.0.1:10300
Board as a mic:   hushmic wyoming --uri tcp://127.0.0.1:10300 --port /dev/ttyACM0   (or --sim FILE.wav)

asr: Transcribe + AudioStart/AudioChunk.../AudioStop -> one Transcript, offline, with personal data redacted as
[TYPE] tags (the same pipeline as `listen`); --no-redact gives the plain text. Nothing is stored unless --store.
mic: a client that sends nothing (wyoming-satellite's --mic-uri) gets the board's audio, 16 kHz/16-bit/mono, with
the silence between its speech segments sent as zeros; while the board's switch mutes it, no audio at all and a
`hushmic-mute` event. Listens on 127.0.0.1 unless --uri names another address. Ctrl-C or SIGTERM stops it."""


def add_arguments(p):
    from .listen import _parse_mute

    p.add_argument("--uri", default="tcp://127.0.0.1:10300",
                   help="tcp://HOST:PORT or unix://PATH (default tcp://127.0.0.1:10300; another host than "
                        "127.0.0.1 exposes the service to that network)")
    a = p.add_argument_group("speech-to-text (asr)")
    a.add_argument("--no-redact", action="store_true",
                   help="send the plain transcript: names, numbers and addresses come through (docs/home-assistant.md)")
    a.add_argument("--no-asr", action="store_true", help="serve the microphone only (no ASR model is loaded)")
    a.add_argument("--backend", default=None, help="ASR backend (default: whisper if its model is installed, else pocketsphinx)")
    a.add_argument("--margin-ms", type=int, default=100, help="audio redaction margin around each PII word (default 100)")
    a.add_argument("--store", nargs="?", const="", default=None, metavar="DIR",
                   help="save each transcription (redacted) in the local store, in DIR or the default store")
    a.add_argument("--keep", choices=("redacted", "raw", "none"), default="redacted",
                   help="with --store: what audio the store keeps (default redacted)")
    m = p.add_argument_group("microphone (mic)")
    m.add_argument("--port", action="append", default=[], metavar="PORT",
                   help="serial port of a board to serve as a microphone (repeat for several)")
    m.add_argument("--sim", action="append", default=[], metavar="FILE.wav",
                   help="serve a simulated board fed from this 16 kHz mono WAV (real time)")
    m.add_argument("--mute", type=_parse_mute, default=[], metavar="A:B[,C:D]",
                   help="hold the simulated mute switch on for A <= t < B seconds of the WAV")
    m.add_argument("--power-cut", action="store_true", help="simulate the wiring in which the switch cuts the mic's power")


def run(args):
    try:
        import wyoming  # noqa: F401
    except ImportError:
        raise HushmicError("the wyoming library is not installed: pip install 'hushmic[wyoming]'") from None
    from .. import audio_io, wyoming_server as ws
    from .listen import board_names

    kind, host, _ = ws.parse_uri(args.uri)
    if kind == "tcp" and not ws.is_loopback(host):
        say(f"hushmic wyoming: listening on {host}, not only on this computer: anyone who can reach it can use "
            f"the service{' and hear the microphone' if (args.port or args.sim) else ''}")
    if args.store is not None and args.no_redact:
        raise BadInput("--store keeps redacted transcripts only: it cannot be combined with --no-redact")
    if args.no_asr and not (args.port or args.sim):
        raise BadInput("--no-asr leaves nothing to serve: give --port PORT or --sim FILE.wav for the microphone")
    if args.mute and not args.sim:
        raise BadInput("--mute needs --sim")
    if len(set(args.port)) != len(args.port):
        raise BadInput("the same --port is given twice")
    for w in args.sim:
        audio_io.read_wav_strict(w)  # a one-line reason before anything starts
    if args.port:
        from ..link import open_port

        for p in args.port:
            open_port(p).close()

    asr = None
    store = None
    if not args.no_asr:
        from ..pipeline import Pipeline

        if args.margin_ms < 0:
            raise BadInput("--margin-ms must be >= 0")
        try:
            pipeline = Pipeline(backend=args.backend, margin_ms=args.margin_ms)
            pipeline.describe()  # raises when no ASR backend is installed
        except ImportError as e:
            raise HushmicError(f"no ASR backend ({e})") from None
        if args.store is not None:
            from ..store import Store

            store = Store(args.store or None, keep=args.keep)
        asr = ws.AsrService(pipeline, redact=not args.no_redact, store=store)

    sims = []
    specs = []
    try:
        if args.sim:
            from ..sim.launcher import SimBoard

            for i, w in enumerate(args.sim):
                sb = SimBoard(w, mute=args.mute, power_cut=args.power_cut, name=f"sim{i}")
                sb.start()
                sims.append(sb)
                specs.append((sb.name, sb.port, (lambda sb=sb: sb.timeline_offset), None))
        for name, p in zip(board_names(args.port), args.port):
            specs.append((name, p, None, None))
        server = ws.Server(args.uri, asr=asr, board_specs=specs, say=lambda m: say(f"hushmic wyoming: {m}"))
        ws.log_to_stderr()
        return asyncio.run(_serve(server))
    finally:
        for sb in sims:
            sb.stop()
        if store is not None:
            store.close()


async def _serve(server):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rc = await server.serve(stop)
    say("hushmic wyoming: stopped")
    return rc
