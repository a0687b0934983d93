# The UART0 mirror of stdout, as an ESP32_GENERIC_S3 build has it (MICROPY_HW_ENABLE_UART_REPL): every byte the
# firmware writes to stdout also goes out UART0 at `uart_mirror_baud` (config; 0 = off), and the write returns
# only once the 128-byte TX FIFO has taken all of it (ports/esp32/uart.c, uart_stdout_tx_strn).
#
# The unix VM's own stdout costs nothing, and `sys` cannot be shadowed, so the fake sees the writes afterwards:
# /proc/self/io's wchar counts every byte the VM process has written (less what the fakes wrote to their own logs,
# reported through own()). At each look at the clock (time.now_us), the bytes written since the last look are
# queued on a virtual UART; the writer is held until all but a FIFO's worth has gone out, which moves the virtual
# clock (fast mode) or sleeps (real time). So a write that the chip would block on makes the firmware late, and
# the I2S DMA ring overflows exactly as it would. Allocation-free after import (the heap-lock test runs under it).
import _simcfg

BAUD = _simcfg.get("uart_mirror_baud", 0)
_FIFO = 128
_US_PER_BYTE_X1000 = 10 * 1000000 * 1000 // BAUD if BAUD else 0  # 10 bits a byte, in ns
_buf = bytearray(512)
_io = None
_own = 0  # bytes the fakes wrote to their own files (not stdout)
_seen = 0
_free_at = 0  # virtual us when the UART has sent everything queued so far
bytes_out = 0  # bytes that went through the virtual UART


def _wchar():
    _io.seek(0)
    n = _io.readinto(_buf)
    i = 0
    while i < n and _buf[i] != 10:  # skip "rchar: ...\n"
        i += 1
    i += 8  # "wchar: "
    v = 0
    while i < n and 48 <= _buf[i] <= 57:
        v = v * 10 + _buf[i] - 48
        i += 1
    return v


def own(n):
    """A fake wrote n bytes to a file of its own: not stdout, not UART time."""
    global _own
    if n:
        _own += n


def release_us(now_us):
    """The virtual time at which the firmware's last stdout write returns (>= now_us)."""
    global _seen, _free_at, bytes_out
    if not BAUD:
        return now_us
    w = _wchar() - _own
    new = w - _seen
    if new > 0:
        _seen = w
        bytes_out += new
        start = _free_at if _free_at > now_us else now_us
        _free_at = start + new * _US_PER_BYTE_X1000 // 1000
    r = _free_at - _FIFO * _US_PER_BYTE_X1000 // 1000
    return r if r > now_us else now_us


if BAUD:
    _io = open("/proc/self/io", "rb")
    _seen = _wchar()
