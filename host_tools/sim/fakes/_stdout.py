# What a stdout write costs on the chip, where the unix VM's costs nothing. `sys` cannot be shadowed, so the fake
# sees the writes afterwards: /proc/self/io counts the bytes (wchar) and the write calls (syscw) of the VM process,
# less what the fakes wrote to their own logs (reported through own()). At each look at the clock (time.now_us)
# the writes since the last look are charged, and the writer is held until the chip's write would have returned:
# the virtual clock moves (fast mode) or the VM sleeps (real time). So a write the chip blocks on makes the firmware
# late here too, and the I2S DMA ring overflows as it would. Allocation-free after import (heap-lock tests).
#
# - UART0 mirror (config uart_mirror_baud; 0 = off): an ESP32_GENERIC_S3 build writes all stdout out UART0 first,
#   and returns only when the 128-byte TX FIFO has taken all of it (ports/esp32/uart.c uart_stdout_tx_strn).
# - USB CDC stall (config cdc_flag_file, written by the launcher: "1" while the host holds the port but has not read
#   what is waiting for it): each write call then waits MICROPY_HW_USB_CDC_TX_TIMEOUT (500 ms) and gives up; the
#   launcher drops those bytes, as the chip's CDC does.
import _simcfg

BAUD = _simcfg.get("uart_mirror_baud", 0)
_CDC_FLAG = _simcfg.get("cdc_flag_file", None)
ACTIVE = bool(BAUD or _CDC_FLAG)
_FIFO = 128
_CDC_TIMEOUT_US = 500000
_NS_PER_BYTE = 10 * 1000000 * 1000 // BAUD if BAUD else 0  # 10 bits a byte
_buf = bytearray(512)
_nums = [0, 0, 0, 0]  # rchar, wchar, syscr, syscw
_flag = bytearray(1)
_io = None
_cdc = None
_own = 0  # bytes the fakes wrote to their own files (not stdout)
_own_calls = 0
_seen = 0
_seen_calls = 0
_free_at = 0  # virtual us when the UART has sent everything queued so far
_held_until = 0  # virtual us until which a stalled CDC write holds the writer
bytes_out = 0  # bytes that went through the virtual UART
stalled_writes = 0


def _read_io():
    _io.seek(0)
    n = _io.readinto(_buf)
    i = 0
    for k in range(4):
        while i < n and not 48 <= _buf[i] <= 57:
            i += 1
        v = 0
        while i < n and 48 <= _buf[i] <= 57:
            v = v * 10 + _buf[i] - 48
            i += 1
        _nums[k] = v


def own(n):
    """A fake wrote n bytes to a file of its own (one write call): not stdout, no UART or USB time."""
    global _own, _own_calls
    if n:
        _own += n
        _own_calls += 1


def _cdc_stalled():
    if _cdc is None:
        return False
    _cdc.seek(0)
    return _cdc.readinto(_flag) == 1 and _flag[0] == 49  # "1"


def release_us(now_us):
    """The virtual time at which the firmware's last stdout write returns (>= now_us)."""
    global _seen, _seen_calls, _free_at, _held_until, bytes_out, stalled_writes
    if not ACTIVE:
        return now_us
    _read_io()
    w = _nums[1] - _own
    calls = _nums[3] - _own_calls
    new = w - _seen
    if new > 0:
        _seen = w
        bytes_out += new
        if BAUD:
            start = _free_at if _free_at > now_us else now_us
            _free_at = start + new * _NS_PER_BYTE // 1000
    new_calls = calls - _seen_calls
    if new_calls > 0:
        _seen_calls = calls
        if _cdc_stalled():
            stalled_writes += new_calls
            start = _held_until if _held_until > now_us else now_us
            _held_until = start + new_calls * _CDC_TIMEOUT_US
    r = _free_at - _FIFO * _NS_PER_BYTE // 1000
    if _held_until > r:
        r = _held_until
    return r if r > now_us else now_us


if ACTIVE:
    _io = open("/proc/self/io", "rb")
    _read_io()
    _seen = _nums[1]
    _seen_calls = _nums[3]
    if _CDC_FLAG:
        _cdc = open(_CDC_FLAG, "rb")
