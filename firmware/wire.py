# hushmic wire protocol: the ONE definition, shared by the board (MicroPython) and the host (CPython).
#
# The host imports this very file (hushmic.protocol loads it from firmware/), so constants, header layout,
# CRC and COBS exist once. docs/protocol.md is the prose spec; tests/golden/wire_vectors.json holds the
# bytes-on-the-wire vectors that both sides must reproduce.
#
# A frame on the wire is  COBS(body) + b"\x00"  where body is
#   0  ver   u8   (major << 4) | minor
#   1  type  u8   message type (MSG_*)
#   2  seq   u16  little-endian, per direction, wraps at 65536
#   4  ts    u32  little-endian, sender's clock in ms masked to 30 bits (board: ticks_ms; host: 0)
#   8  payload    0 .. MAX_PAYLOAD bytes
#   -2 crc   u16  little-endian CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over bytes 0 .. -3
# COBS removes every zero byte from the body, so 0x00 only ever delimits frames: a receiver that sees garbage
# drops bytes until the next 0x00 and is back in sync for the frame after it.
try:  # the fallback below is for CPython (the host); pyright holds it to micropython.const's positional-only signature
    from micropython import const  # pyright: ignore[reportAssignmentType]  # same behaviour as the fallback
except ImportError:  # CPython (host side)

    def const(x):
        return x


PROTO_MAJOR = const(1)
PROTO_MINOR = const(0)
VERSION_BYTE = const(0x10)  # (PROTO_MAJOR << 4) | PROTO_MINOR

HEADER_LEN = const(8)
CRC_LEN = const(2)
MAX_PAYLOAD = const(512)
MAX_BODY = const(522)  # HEADER_LEN + MAX_PAYLOAD + CRC_LEN
MAX_ENCODED = const(526)  # COBS adds at most 1 byte per 254, plus the leading code byte, plus the 0x00
TS_MASK = const(0x3FFFFFFF)
SEQ_MASK = const(0xFFFF)

# Board -> host
MSG_HELLO = const(0x01)  # JSON: firmware, protocol, profile, rate, frame_ms, codec, codecs, caps, board
MSG_AUDIO = const(0x02)  # u32 frame number (10 ms units since stream start), u8 codec, codec data
MSG_SEG_START = const(0x03)  # u16 segment, u32 first frame number
MSG_SEG_END = const(0x04)  # u16 segment, u32 end frame number (exclusive), u8 flags (bit 0: truncated)
MSG_MUTE = const(0x05)  # u8 muted, u8 mic_silent (0 false, 1 true, 2 unknown), u32 frame number, u16 probe peak
MSG_HEARTBEAT = const(0x06)  # HEARTBEAT_FMT below
MSG_LOG = const(0x07)  # u8 level, utf-8 text
MSG_ERROR = const(0x08)  # u8 error code (ERR_*), u8 offending type, utf-8 text
MSG_STATUS = const(0x09)  # JSON: state and effective config
MSG_ACK = const(0x0A)  # u8 acknowledged type, u16 its seq, then that command's reply (ping: echoed payload)

# Host -> board
CMD_HELLO = const(0x41)  # u8 host protocol major, u8 minor; the board answers MSG_HELLO
CMD_PING = const(0x42)  # any payload (<= 64 bytes), echoed in the ACK
CMD_STATUS = const(0x43)  # answered by MSG_STATUS
CMD_CONFIG = const(0x44)  # JSON object of settings (see docs/protocol.md); ACK carries the effective config
CMD_START = const(0x45)  # start streaming speech; refused (ERR_MUTED is not an error: it is queued) never unmutes
CMD_STOP = const(0x46)  # stop streaming
CMD_LEAVE = const(0x47)  # reboot into maintenance mode (REPL, no app, no watchdog) for redeploying

# Error codes in MSG_ERROR
ERR_BAD_FRAME = const(1)  # CRC failure, bad COBS, too short or too long
ERR_VERSION = const(2)  # incompatible protocol major
ERR_UNKNOWN = const(3)  # unknown message type
ERR_BAD_ARG = const(4)  # bad payload for a known command (bad JSON, bad config value)
ERR_MUTED = const(5)  # the command is not allowed while the physical switch mutes the mic
ERR_INTERNAL = const(6)  # the board caught an exception of its own

# Audio codecs
CODEC_PCM16 = const(0)  # 160 little-endian int16 samples
CODEC_ADPCM = const(1)  # i16 predictor, u8 step index, u8 reserved 0, 80 bytes of 4-bit codes (low nibble first)
CODEC_NAMES = ("pcm16", "adpcm")
FRAME_SAMPLES = const(160)
AUDIO_HDR = const(5)  # u32 frame number + u8 codec
PCM16_WIRE_BPS = const(33800)  # a PCM16 audio frame on the wire (338 bytes: header, CRC, COBS, 0x00), 100 a second

HEARTBEAT_FMT = "<IIIIIhIB"  # uptime_s, frames_captured, frames_sent, drops, overruns, noise_floor, free_heap, state
STATE_IDLE = const(0)
STATE_LISTENING = const(1)
STATE_SPEECH = const(2)
STATE_MUTED = const(3)
STATE_ERROR = const(4)
STATE_NAMES = ("idle", "listening", "speech", "muted", "error")

MIC_SILENT_FALSE = const(0)
MIC_SILENT_TRUE = const(1)
MIC_SILENT_UNKNOWN = const(2)


def _make_crc_table():
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t.append(c & 0xFFFF)
    return t


CRC_TABLE = _make_crc_table()

try:
    # CPython: the same CRC, in C. MicroPython's binascii has no crc_hqx (ImportError below), so its stubs do not either
    from binascii import crc_hqx as _crc_hqx  # pyright: ignore[reportAttributeAccessIssue]  # CPython (host) only
except ImportError:
    _crc_hqx = None


def crc16(buf, n, crc=0xFFFF):
    """CRC-16/CCITT-FALSE of buf[0:n]. Plain-Python twin of the board's viper kernel (kernels.crc16)."""
    if _crc_hqx is not None:
        return _crc_hqx(bytes(buf[:n]), crc)
    tab = CRC_TABLE
    for i in range(n):
        crc = ((crc << 8) & 0xFFFF) ^ tab[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def cobs_encode(src, n, dst):
    """COBS-encode src[0:n] into dst, append the 0x00 delimiter, return the encoded length (delimiter included).

    Allocation-free plain twin of the board's viper kernel (kernels.cobs_encode). dst needs n + n // 254 + 2 bytes.
    """
    code_at = 0
    code = 1
    o = 1
    for i in range(n):
        b = src[i]
        if b == 0:
            dst[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                dst[code_at] = code
                code_at = o
                o += 1
                code = 1
    dst[code_at] = code
    dst[o] = 0
    return o + 1


def cobs_decode(src, n, dst):
    """Decode one COBS block src[0:n] (delimiter already stripped, so src holds no 0x00) into dst.

    Returns the decoded length, or -1 if the block is malformed (a code byte pointing past the end).
    """
    i = 0
    o = 0
    while i < n:
        code = src[i]
        end = i + code
        if code == 0 or end > n:
            return -1
        k = code - 1
        dst[o:o + k] = src[i + 1:end]
        o += k
        i = end
        if code != 0xFF and i < n:
            dst[o] = 0
            o += 1
    return o


def put_header(body, mtype, seq, ts):
    """Write the 8-byte header into body (a bytearray) without allocating."""
    body[0] = VERSION_BYTE
    body[1] = mtype
    body[2] = seq & 0xFF
    body[3] = (seq >> 8) & 0xFF
    body[4] = ts & 0xFF
    body[5] = (ts >> 8) & 0xFF
    body[6] = (ts >> 16) & 0xFF
    body[7] = (ts >> 24) & 0x3F


def seal(body, payload_len, crc_fn=crc16):
    """Append the CRC after header + payload; return the body length."""
    n = HEADER_LEN + payload_len
    c = crc_fn(body, n)
    body[n] = c & 0xFF
    body[n + 1] = c >> 8
    return n + CRC_LEN


def seq_delta(new, old):
    """Forward distance from old to new sequence number, modulo 2^16 (0 = same, 1 = next)."""
    return (new - old) & SEQ_MASK
