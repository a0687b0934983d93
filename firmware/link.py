# Board side of the host link: frames out (preallocated, allocation-free for audio) and commands in
# (byte-wise COBS de-framing that resyncs on 0x00 and never raises on garbage). The format is wire.py's.
import select
import sys
import time

from micropython import const

import kernels
import wire

_RX_MAX = const(600)
_SLOW_WRITE_MS = const(250)  # a write that took longer: the host holds the port but is not reading (a CDC write
                             # then waits up to 500 ms, MICROPY_HW_USB_CDC_TX_TIMEOUT); a PCM frame through the
                             # 115200-baud UART0 mirror takes ~30 ms, a heartbeat ~5 ms
_BACKOFF_MS = const(1000)    # after a slow write, audio is dropped this long before the link is tried again
_RX_BURST = const(64)  # command bytes taken per loop iteration (about 1 ms at the S3's interpreter speed)


class BoardLink:
    def __init__(self, stream_in=None, stream_out=None):
        sin = stream_in if stream_in is not None else sys.stdin.buffer
        sout = stream_out if stream_out is not None else sys.stdout.buffer
        self._write = sout.write
        self._readinto = sin.readinto
        self._poll = select.poll()
        self._poll.register(stream_in if stream_in is not None else sys.stdin, select.POLLIN)
        self._ipoll = self._poll.ipoll
        self.body = bytearray(wire.MAX_BODY)
        self.out = bytearray(wire.MAX_ENCODED)
        self.audio_mv = memoryview(self.body)[wire.HEADER_LEN + wire.AUDIO_HDR:]  # where codec data goes
        self.seq = 0
        self.tx_frames = 0
        self.ts_fn = None  # set by the app: returns the board clock in ms (masked by put_header)
        self.slow_writes = 0  # writes that took longer than _SLOW_WRITE_MS
        self.congested = False  # audio is being dropped until _hold_until
        self._hold_until = 0
        # receive side
        self._b1 = bytearray(1)
        self.rx = bytearray(_RX_MAX)
        self.rx_n = 0
        self.rx_overflow = False
        self.rx_body = bytearray(_RX_MAX)
        self.rx_errors = 0

    # ---- transmit ------------------------------------------------------------------------------------------
    def send(self, mtype, payload_len, gate=None):
        """Send the payload already written at self.body[HEADER_LEN:]. Allocation-free. Returns True if sent.

        gate: an object whose `muted` turns True from a soft IRQ (the mute switch). It is read in the same
        expression as the write, with no branch in between: MicroPython runs scheduled IRQ handlers only at
        branches and loop edges, so a handler that ran before the write is always seen, and the frame dropped
        (its sequence number is not used)."""
        wire.put_header(self.body, mtype, self.seq, self.ts_fn() if self.ts_fn else 0)
        n = wire.HEADER_LEN + payload_len
        c = kernels.crc16(self.body, n)
        self.body[n] = c & 0xFF
        self.body[n + 1] = c >> 8
        m = kernels.cobs_encode(self.body, n + wire.CRC_LEN, self.out)
        t0 = time.ticks_ms()
        if gate is None:
            self._write(self.out, 0, m)
            ok = 1
        else:
            ok = not gate.muted
            self._write(self.out, 0, m * ok)  # (no branch between the read of gate.muted and the write)
        t1 = time.ticks_ms()
        if time.ticks_diff(t1, t0) > _SLOW_WRITE_MS:
            self.slow_writes += 1
            self.congested = True
            self._hold_until = time.ticks_add(t1, _BACKOFF_MS)
        self.seq = (self.seq + ok) & 0xFFFF
        self.tx_frames += ok
        return ok

    def audio_ok(self):
        """False while the link is congested: audio frames are then dropped (and counted by the caller) rather than
        block the loop for 500 ms each. Control frames still go, and the first audio frame after the back-off
        tries the link again."""
        if self.congested:
            if time.ticks_diff(self._hold_until, time.ticks_ms()) > 0:
                return False
            self.congested = False
        return True

    def send_bytes(self, mtype, data, prefix=None):
        """Send a small payload: optional prefix bytes, then data (str or bytes). Allocates; not for audio."""
        o = wire.HEADER_LEN
        if prefix:
            for b in prefix:
                self.body[o] = b
                o += 1
        if isinstance(data, str):
            data = data.encode()
        k = min(len(data), wire.MAX_PAYLOAD - (o - wire.HEADER_LEN))
        self.body[o:o + k] = data[:k]
        self.send(mtype, o + k - wire.HEADER_LEN)

    def error(self, code, about, text):
        self.send_bytes(wire.MSG_ERROR, text, (code, about & 0xFF))

    # ---- receive -------------------------------------------------------------------------------------------
    def poll(self, handler):
        """Read what the host has sent; call handler(mtype, seq, payload_memoryview, n) per valid frame.

        Bad frames (COBS, CRC, length, version) are answered with an error frame and dropped; never raises.
        """
        k = _RX_BURST  # what is waiting, up to a bound: a command is handled in one loop, audio still flows
        while k:
            k -= 1
            ready = 0
            for _obj, ev in self._ipoll(0):
                ready = ev & select.POLLIN
            if not ready or self._readinto(self._b1) != 1:
                return
            b = self._b1[0]
            if b != 0:
                if self.rx_n < _RX_MAX:
                    self.rx[self.rx_n] = b
                    self.rx_n += 1
                else:
                    self.rx_overflow = True
                continue
            n = self.rx_n
            self.rx_n = 0
            if self.rx_overflow:
                self.rx_overflow = False
                self._bad(0, "frame too long")
                continue
            if n == 0:
                continue
            self._frame(n, handler)

    def _bad(self, about, why):
        self.rx_errors += 1
        self.error(wire.ERR_BAD_FRAME, about, why)

    def _frame(self, n, handler):
        k = wire.cobs_decode(self.rx, n, self.rx_body)
        if k < wire.HEADER_LEN + wire.CRC_LEN:
            self._bad(0, "bad framing")
            return
        body = self.rx_body
        c = kernels.crc16(body, k - wire.CRC_LEN)
        if c != body[k - 2] | (body[k - 1] << 8):
            self._bad(body[1], "CRC mismatch")
            return
        if body[0] >> 4 != wire.PROTO_MAJOR:
            self.error(wire.ERR_VERSION, body[1], "protocol major %d not supported; board speaks %d.%d"
                       % (body[0] >> 4, wire.PROTO_MAJOR, wire.PROTO_MINOR))
            return
        seq = body[2] | (body[3] << 8)
        handler(body[1], seq, memoryview(body)[wire.HEADER_LEN:k - wire.CRC_LEN], k - wire.HEADER_LEN - wire.CRC_LEN)
