# Boot entry. The first statement turns Ctrl-C off: while main.py runs the chip raises KeyboardInterrupt on any
# 0x03 byte, and every host HELLO at sequence 0 holds one, so a host that says hello while the board boots would
# otherwise leave it at the REPL with no watchdog (issue 12 item 3). It is restored for maintenance and safe mode,
# and whenever the app returns.
import micropython

micropython.kbd_intr(-1)

import os  # noqa: E402 (after kbd_intr on purpose)

# Maintenance mode (flagged by the leave-to-REPL command) starts neither the app nor the watchdog,
# so the board can be redeployed; the flag is consumed, so the next reset runs the app again.
_MAINT_FLAG = "maint.flag"


def _maintenance():
    try:
        os.stat(_MAINT_FLAG)
    except OSError:
        return False
    try:
        os.remove(_MAINT_FLAG)
    except OSError:
        pass
    return True


def _boot_failed(e):
    """The app could not even be imported (a file missing or built for another MicroPython): say so in one
    line and show the error colour, instead of a bare traceback and a dark LED."""
    print("hushmic: the app failed to load: %r. Redeploy with `hushmic deploy`." % (e,))
    try:
        import profile
        from led import Led
        import wire

        Led(profile.load()).show(wire.STATE_ERROR)
    except Exception:
        pass


try:
    if _maintenance():
        print("hushmic: maintenance mode (REPL, no app, no watchdog). Reset to run the app.")
    else:
        try:
            import app
        except Exception as e:
            _boot_failed(e)
        else:
            app.main()
finally:
    micropython.kbd_intr(3)
