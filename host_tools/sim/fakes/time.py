# Fake `time` for the simulated board: a virtual clock (see README.md). Allocation-free on the hot path.
import sys

_saved = sys.path[:]
del sys.path[:]
import utime as _rt  # the VM's built-in time module (the fake shadows the name `time`)

sys.path.extend(_saved)

import _simcfg
import _stdout

_TICKS_PERIOD = 1 << 30
_TICKS_MAX = _TICKS_PERIOD - 1
_TICKS_HALF = _TICKS_PERIOD // 2
_STALL_US = _simcfg.get("stall_cap_ms", 50) * 1000  # real-time mode: at most this much passes between two looks

_fast = _simcfg.get("fast", False)
_pace = _simcfg.get("pace", 50)
_ms_start = _simcfg.get("ticks_ms_start", 0)
_us_start = _simcfg.get("ticks_us_start", 0)
_go_file = _simcfg.get("go_file", None)
_clock_file = _simcfg.get("clock_file", None)
_clock_written = -1000000000

_virt_us = _simcfg.get("start_ms", 0) * 1000  # virtual microseconds on the WAV timeline
_boot_virt_us = _virt_us
_started = _go_file is None
_real_last = _rt.ticks_us()


def _check_go():
    global _started, _real_last
    if _started:
        return True
    try:
        import os

        os.stat(_go_file)
    except OSError:
        return False
    _started = True
    _real_last = _rt.ticks_us()
    return True


def now_us():
    """Virtual time in us on the WAV timeline (not wrapped). Real-time mode follows the wall clock.
    A stdout write the chip would still be blocked in (UART0 mirror, stalled USB CDC: _stdout) holds the caller."""
    global _virt_us, _real_last
    if not _fast and _check_go():
        r = _rt.ticks_us()
        d = _rt.ticks_diff(r, _real_last)  # incremental, so the VM's own tick wrap never matters
        # A longer gap between two looks at the clock is this machine not scheduling the VM (a loaded host), not
        # the firmware being slow (it looks many times per 10 ms frame): that time does not pass on the board.
        # So the firmware's overrun inference and the fake DMA ring, both on this clock, see the same losses.
        _virt_us += d if d < _STALL_US else _STALL_US
        _real_last = r
    if _stdout.ACTIVE:
        t = _stdout.release_us(_virt_us)
        if t > _virt_us and _started:  # (before "go" the clock stands still: nothing plays, nothing is late)
            if not _fast:
                _rt.sleep_us(t - _virt_us)  # the VM is held as the chip's write would be (the whole time passes)
                _real_last = _rt.ticks_us()
            _virt_us = t
    return _virt_us


def advance_us(us):
    """Fast mode: the firmware consumed `us` of audio or slept; move the clock."""
    global _virt_us
    if _fast and _check_go():
        _virt_us += us


def wait_until_us(t):
    """Real-time mode: block until the virtual clock reaches t (audio 'arrives' at its pace)."""
    while True:
        if not _check_go():
            _rt.sleep_ms(5)
            continue
        d = t - now_us()
        if d <= 0:
            return
        _rt.sleep_us(d if d < 20000 else 20000)


def clock_tick():
    """Publish the virtual time (ms) for the launcher, at most every 200 ms of virtual time, when asked to."""
    global _clock_written
    if _clock_file is None or _virt_us - _clock_written < 200000:
        return
    _clock_written = _virt_us
    with open(_clock_file, "w") as f:
        _stdout.own(f.write(str(_virt_us // 1000)))


def started():
    return _check_go()


def _hook():
    pass  # replaced by machine.py: polls the mute schedule and fires pin IRQs


def ticks_ms():
    _hook()
    return (_ms_start + (now_us() - _boot_virt_us) // 1000) & _TICKS_MAX


def ticks_us():
    return (_us_start + now_us() - _boot_virt_us) & _TICKS_MAX


def ticks_cpu():
    return ticks_us()


def ticks_add(t, delta):
    return (t + delta) & _TICKS_MAX


def ticks_diff(a, b):
    return ((a - b + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep_us(us):
    _hook()
    if _fast:
        if _check_go():
            advance_us(us)
            _rt.sleep_us(us // _pace if us >= _pace else 1)
        else:
            _rt.sleep_us(us)
    else:
        wait_until_us(now_us() + us)
    clock_tick()
    _hook()


def sleep(s):
    sleep_us(int(s * 1000000))


def time():
    return _rt.time()


def time_ns():
    return _rt.time_ns()


def localtime(*a):
    return _rt.localtime(*a)


def gmtime(*a):
    return _rt.gmtime(*a)


def mktime(*a):
    return _rt.mktime(*a)
