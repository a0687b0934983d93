# Boot entry. Maintenance mode (flagged by the leave-to-REPL command) starts neither the app nor the watchdog,
# so the board can be redeployed; the flag is consumed, so the next reset runs the app again.
import os

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


if _maintenance():
    print("hushmic: maintenance mode (REPL, no app, no watchdog). Reset to run the app.")
else:
    import app

    app.main()
