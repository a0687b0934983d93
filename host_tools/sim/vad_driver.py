"""Runs the firmware's VAD and endpointer over raw PCM inside the MicroPython VM (for `hushmic vad` and the bench).

    MICROPYPATH=firmware:.frozen micropython vad_driver.py IN.raw SENS PREROLL_MS HANGOVER_MS [FEAT.bin] [KERNEL]
    MICROPYPATH=firmware:.frozen micropython vad_driver.py - SENS PREROLL_MS HANGOVER_MS [-] [KERNEL]

IN.raw: 16 kHz mono int16 little-endian. Prints three lines on stdout:
    the kernel kind and the endpointer settings as `key=value` words,
    `frames` (one 0/1 per 10 ms frame, the detector after hysteresis),
    `sent` (one 0/1 per frame: what the board would transmit).
FEAT.bin (optional, '-' for none): per frame, the detector's features then its score, as int32 (training).
KERNEL (optional): 'viper' or 'plain' to force a kernel.

Streaming mode (IN '-'): PCM is read from stdin, 320 bytes (one frame) at a time, for any length in a fixed heap.
The settings line comes first (with `lag=K`); then, for each frame, two ASCII characters (its `frames` and `sent`
bits) are written as soon as they are final: a frame's `sent` bit can still be set by the pre-roll until K frames
later (K = pre-roll + minimum speech, in frames), so frame i is written after frame i + K is read, and the last K
at end of input. Decisions are kept in two preallocated K-byte rings; nothing is allocated per frame.
This file runs in MicroPython, not CPython.
"""
import array
import sys


def main(argv):
    from endpoint import EP_COUNT, Endpointer   # firmware modules, found through MICROPYPATH
    from vad import HOLD_FRAMES, Vad

    path = argv[1]
    if path == "-":
        return stream(argv)
    sens = int(argv[2])
    kw = {}
    if argv[3] != "-":
        kw["preroll_ms"] = int(argv[3])
    if argv[4] != "-":
        kw["hangover_ms"] = int(argv[4])
    ep = Endpointer(detector_hold=HOLD_FRAMES, **kw)  # "-": the firmware's own default
    feat_path = argv[5] if len(argv) > 5 and argv[5] != "-" else None
    kind = argv[6] if len(argv) > 6 else None
    vad = Vad(sensitivity=sens, kernel=kind)
    frame = array.array("h", bytes(320))
    f = open(path, "rb")
    f.seek(0, 2)
    nfr = f.tell() // 320
    f.seek(0)
    frames = bytearray(b"0" * nfr)
    sent = bytearray(b"0" * nfr)
    ff = open(feat_path, "wb") if feat_path else None
    rec = array.array("i", bytes(4 * 18))
    for i in range(nfr):
        f.readinto(frame)
        d = vad.process(frame)
        if d:
            frames[i] = 49
        r = ep.step(d)
        n = r & EP_COUNT
        j = i - n + 1
        while j <= i:
            sent[j] = 49
            j += 1
        if ff:
            fv = vad.features()
            for k in range(17):
                rec[k] = fv[k]
            rec[17] = vad.score
            ff.write(rec)
    f.close()
    if ff:
        ff.close()
    sys.stdout.write("kernel=%s preroll_ms=%d hangover_ms=%d min_speech_ms=%d max_utterance_ms=%d\n" % (
        vad.kind, ep.preroll_ms, ep.hangover_ms, ep.min_speech_ms, ep.max_utterance_ms))
    sys.stdout.write(frames.decode() + "\n")
    sys.stdout.write(sent.decode() + "\n")


def _settings(argv):
    from endpoint import Endpointer
    from vad import HOLD_FRAMES, Vad

    kw = {}
    if argv[3] != "-":
        kw["preroll_ms"] = int(argv[3])
    if argv[4] != "-":
        kw["hangover_ms"] = int(argv[4])
    kind = argv[6] if len(argv) > 6 else None
    return Vad(sensitivity=int(argv[2]), kernel=kind), Endpointer(detector_hold=HOLD_FRAMES, **kw)


def stream(argv):
    from endpoint import EP_COUNT

    vad, ep = _settings(argv)
    lag = ep.ring_frames + 1          # the most frames one step() can reach back (pre-roll + minimum speech)
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    sys.stdout.write("kernel=%s preroll_ms=%d hangover_ms=%d min_speech_ms=%d max_utterance_ms=%d lag=%d\n" % (
        vad.kind, ep.preroll_ms, ep.hangover_ms, ep.min_speech_ms, ep.max_utterance_ms, lag))
    frame = array.array("h", bytes(320))
    fmv = memoryview(frame)
    fring = bytearray(b"0" * lag)
    sring = bytearray(b"0" * lag)
    pair = bytearray(2)
    i = 0
    while True:
        got = inp.readinto(fmv)
        if not got or got < 320:       # end of input (a partial last frame is dropped, as in file mode)
            break
        k = i % lag
        if i >= lag:                   # frame i - lag can no longer change: write it, then reuse its slot
            pair[0] = fring[k]
            pair[1] = sring[k]
            out.write(pair)
        d = vad.process(frame)
        fring[k] = 49 if d else 48
        sring[k] = 48
        n = ep.step(d) & EP_COUNT
        j = i - n + 1
        while j <= i:
            sring[j % lag] = 49
            j += 1
        i += 1
    j = i - lag if i > lag else 0
    while j < i:
        k = j % lag
        pair[0] = fring[k]
        pair[1] = sring[k]
        out.write(pair)
        j += 1


if __name__ == "__main__":   # run by the VM as a script; importing it (CPython tooling) does nothing
    main(sys.argv)
