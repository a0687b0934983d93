# Board side of the host link: frames out (preallocated, allocation-free for audio) and commands in
# (byte-wise COBS de-framing that resyncs on 0x00 and never raises on garbage). The format is wire.py's.
#
# Output is paced. On ESP32_GENERIC_S3 every stdout write is mirrored to UART0 first, at 115200 baud, and the write
# waits until the 128-byte TX FIFO has taken all of it (ports/esp32/uart.c uart_stdout_tx_strn, "TODO add a
# timeout"; the wait sleeps a FreeRTOS tick per FIFO fill, so a faster baud does not help). Everything the board
# sends is therefore capped near 11.5 KB/s, and a segment's 45-frame pre-roll written at once blocks the loop for
# ~0.4 s, longer than the I2S DMA ring holds. So frames go out only as fast as the UART takes them (a credit
# that refills at the profile's stdout_uart_baud / 10 bytes a second, at most one FIFO ahead); what cannot go yet
# waits, in order, in a preallocated queue that the loop pumps each iteration. No write then blocks for long.
import array
import select
import sys
import time

from micropython import const

import kernels
import wire

_RX_MAX = const(600)
_SLOW_WRITE_MS = const(250)  # a write that took longer: the host holds the port but is not reading (a CDC write
                             # then waits up to 500 ms, MICROPY_HW_USB_CDC_TX_TIMEOUT)
_BACKOFF_MS = const(1000)    # after a slow write, audio is dropped this long before the link is tried again
_RX_BURST = const(64)  # command bytes taken per loop iteration (about 1 ms at the S3's interpreter speed)
_WAITED_MS = const(2)  # a write that took this long waited on the UART (a FIFO's worth takes 11 ms at 115200)
_FIFO = const(128)  # the UART's TX FIFO (SOC_UART_FIFO_LEN): a write this long returns without waiting
_TXQ = const(6144)  # queued payload bytes: a 45-frame ADPCM pre-roll is 4 KB
_TXN = const(96)  # queued frames
_CTL_ROOM = const(1024)  # kept free for control frames: audio never fills the queue to the brim


class _NoSwitch:
    muted = False


_NO_SWITCH = _NoSwitch()  # the gate of a link no app has given a switch (tests); never muted


class BoardLink:
    def __init__(self, stream_in=None, stream_out=None, tx_bytes_per_s=0):
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
        self.audio_written = 0  # audio frames written (gated frames: the switch did not stop them)
        self.ts_fn = None  # set by the app: returns the board clock in ms (masked by put_header)
        self.slow_writes = 0  # writes that took longer than _SLOW_WRITE_MS
        self.congested = False  # audio is being dropped until _hold_until
        self._hold_until = 0
        # transmit pacing (0: unpaced, every frame is written at once) and the queue of frames waiting for it
        self.tx_rate = tx_bytes_per_s
        self._credit = _FIFO * 1000  # milli-bytes the UART can take now without the write waiting
        self._credit_t = time.ticks_ms()
        self.gate = _NO_SWITCH  # the mute switch (the app sets it), read again before a queued audio frame is written
        self.q = bytearray(_TXQ)
        self.q_tail = 0  # next free byte
        self.q_used = 0  # bytes queued
        self.q_len = array.array("H", range(_TXN))  # payload length of each queued frame
        self.q_type = bytearray(_TXN)
        self.q_gated = bytearray(_TXN)  # 1: an audio frame (dropped, not written, if the switch is on by then)
        self.q_head = 0  # oldest queued frame
        self.q_n = 0
        self.q_start = 0  # byte offset of the oldest queued frame
        self.q_max = 0  # most payload bytes ever queued (status tx_queued_max)
        self.q_dropped = 0  # audio frames dropped because the queue was full or the link congested
        self.out_pos = 0  # a frame in self.out partly written: the next byte, and its length (0: none)
        self.out_len = 0
        # receive side
        self._b1 = bytearray(1)
        self.rx = bytearray(_RX_MAX)
        self.rx_n = 0
        self.rx_overflow = False
        self.rx_body = bytearray(_RX_MAX)
        self.rx_errors = 0

    # ---- transmit ------------------------------------------------------------------------------------------
    def send(self, mtype, payload_len, gate=None):
        """Send the payload already written at self.body[HEADER_LEN:]. Allocation-free. Returns True if it was
        written, or queued to be written in order (paced links). False: dropped (and counted, for audio).

        gate: for audio, the mute switch (an object whose `muted` turns True from a soft IRQ). It is read in the
        same expression as the frame's first write, queued or not; a frame the switch stops is dropped."""
        if not self.tx_rate:
            return self._write_frame(mtype, payload_len, gate) > 0
        if not self._enqueue(mtype, payload_len, gate is not None):
            return False
        self.pump()
        return True

    def _encode(self, mtype, payload_len):
        """Header, CRC and COBS of what is at self.body[HEADER_LEN:] into self.out. Returns its length."""
        wire.put_header(self.body, mtype, self.seq, self.ts_fn() if self.ts_fn else 0)
        n = wire.HEADER_LEN + payload_len
        c = kernels.crc16(self.body, n)
        self.body[n] = c & 0xFF
        self.body[n + 1] = c >> 8
        return kernels.cobs_encode(self.body, n + wire.CRC_LEN, self.out)

    def _timed(self, t0):
        """After a write that started at t0: one slower than _SLOW_WRITE_MS means the host is not reading. On a
        paced link, a write that waited at all means the UART's FIFO was fuller than the credit said (a print, the
        REPL, the port's tick-long waits): the credit starts again from empty, so the pump stops for this loop."""
        t1 = time.ticks_ms()
        dt = time.ticks_diff(t1, t0)
        if dt >= _WAITED_MS and self.tx_rate:
            self._credit = 0
            self._credit_t = t1
        if dt > _SLOW_WRITE_MS:
            self.slow_writes += 1
            self.congested = True
            self._hold_until = time.ticks_add(t1, _BACKOFF_MS)

    def _write_frame(self, mtype, payload_len, gate):
        """Unpaced: the whole frame in one write. Returns the bytes written (0: the switch stopped it).

        With a gate, its `muted` is read in the same expression as the write, with no branch in between:
        MicroPython runs scheduled IRQ handlers only at branches and loop edges, so a handler that ran before the
        write is always seen, and the frame dropped (its sequence number is not used)."""
        m = self._encode(mtype, payload_len)
        t0 = time.ticks_ms()
        if gate is None:
            self._write(self.out, 0, m)
            ok = 1
        else:
            ok = not gate.muted
            self._write(self.out, 0, m * ok)  # (no branch between the read of gate.muted and the write)
        self._timed(t0)
        self.seq = (self.seq + ok) & 0xFFFF
        self.tx_frames += ok
        if gate is not None:
            self.audio_written += ok
        return m * ok

    def _credit_bytes(self):
        """Refill the credit from the clock; the bytes the UART's FIFO can take now without the write waiting."""
        now = time.ticks_ms()
        el = time.ticks_diff(now, self._credit_t)
        self._credit_t = now
        if el > 0:
            c = self._credit + (el if el < 1000 else 1000) * self.tx_rate
            self._credit = c if c < _FIFO * 1000 else _FIFO * 1000
        return self._credit // 1000

    def _enqueue(self, mtype, payload_len, gated):
        free = _TXQ - self.q_used
        if self.q_n == _TXN or payload_len > free or (gated and payload_len > free - _CTL_ROOM):
            if gated:
                self.q_dropped += 1
            return False
        i = self.q_head + self.q_n
        if i >= _TXN:
            i -= _TXN
        t = self.q_tail
        k = _TXQ - t  # room before the end of the ring
        if k >= payload_len:
            kernels.copy(self.q, t, self.body, wire.HEADER_LEN, payload_len)
        else:
            kernels.copy(self.q, t, self.body, wire.HEADER_LEN, k)
            kernels.copy(self.q, 0, self.body, wire.HEADER_LEN + k, payload_len - k)
        t += payload_len
        self.q_tail = t - _TXQ if t >= _TXQ else t
        self.q_len[i] = payload_len
        self.q_type[i] = mtype
        self.q_gated[i] = 1 if gated else 0
        self.q_n += 1
        self.q_used += payload_len
        if self.q_used > self.q_max:
            self.q_max = self.q_used
        return True

    def _dequeue(self):
        """The oldest queued frame's payload back into self.body; returns its queue index."""
        i = self.q_head
        n = self.q_len[i]
        s = self.q_start
        k = _TXQ - s
        if k >= n:
            kernels.copy(self.body, wire.HEADER_LEN, self.q, s, n)
        else:
            kernels.copy(self.body, wire.HEADER_LEN, self.q, s, k)
            kernels.copy(self.body, wire.HEADER_LEN + k, self.q, 0, n - k)
        s += n
        self.q_start = s - _TXQ if s >= _TXQ else s
        self.q_head = i + 1 if i + 1 < _TXN else 0
        self.q_n -= 1
        self.q_used -= n
        return i

    def pump(self, force=False):
        """Paced links: write what the UART's FIFO can take now, oldest frame first, splitting a frame across
        calls when it does not fit (so no write ever waits on the FIFO, and the whole UART rate is used). Called
        every loop iteration. force: write everything now, waiting on the UART if need be (for the mute message).

        Queued audio is dropped while the switch is on and, counted, while the link is congested. A frame whose
        first bytes went out is finished even after a mute: it was captured before the edge (<= 10 ms of audio)."""
        while True:
            if self.out_len:  # the rest of a frame already started
                k = self.out_len - self.out_pos
                if not force:
                    c = self._credit_bytes()
                    if c <= 0:
                        return
                    if k > c:
                        k = c
                t0 = time.ticks_ms()
                self._write(self.out, self.out_pos, k)
                self._timed(t0)
                self._credit -= k * 1000
                self.out_pos += k
                if self.out_pos < self.out_len:
                    return
                self.out_len = 0
                continue
            if not self.q_n:
                return
            c = self._credit_bytes()
            if c <= 0 and not force:
                return
            i = self._dequeue()
            n = self.q_len[i]
            gated = self.q_gated[i]
            g = self.gate
            if gated and (g.muted or not self.audio_ok()):
                if not g.muted:
                    self.q_dropped += 1  # congested: dropped and counted (a mute's are not losses)
                continue
            m = self._encode(self.q_type[i], n)
            k = m if force or m < c else c
            t0 = time.ticks_ms()
            if gated:
                ok = not g.muted
                self._write(self.out, 0, k * ok)  # (no branch between the read of g.muted and the write)
            else:
                ok = 1
                self._write(self.out, 0, k)
            self._timed(t0)
            if not ok:
                continue
            self.seq = (self.seq + 1) & 0xFFFF
            self.tx_frames += 1
            self.audio_written += gated
            self._credit -= k * 1000
            if k < m:
                self.out_pos = k
                self.out_len = m

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
