# The physical mute switch. Muting acts on the FIRST edge towards mute, from the pin IRQ, with no debounce;
# only unmuting is debounced (the pin must read "unmuted" for UNMUTE_STABLE_MS). Nothing the host sends reaches
# this module: there is no method that unmutes except the pin itself.
from micropython import const
import machine
import time

UNMUTE_STABLE_MS = const(50)


class MuteSwitch:
    def __init__(self, profile, on_mute):
        active_low = profile["mute_active"] == "low"
        pull = {"up": machine.Pin.PULL_UP, "down": machine.Pin.PULL_DOWN}.get(profile.get("mute_pull"), None)
        self.pin = machine.Pin(profile["mute_pin"], machine.Pin.IN,
                               pull)  # pyright: ignore[reportArgumentType]  # None = no pull (Pin docs); stubs: int
        self.active = 0 if active_low else 1
        self._on_mute = on_mute
        self._since = 0
        self._pending = False
        self.muted = self.pin.value() == self.active  # a board that boots with the switch on stays muted
        trigger = machine.Pin.IRQ_FALLING if active_low else machine.Pin.IRQ_RISING
        self.pin.irq(handler=self._irq, trigger=trigger)

    def _irq(self, pin):
        if not self.muted:
            self.muted = True
            self._pending = False
            self._on_mute()

    def poll(self):
        """Called from the main loop. Catches a mute the IRQ missed, and debounces unmuting.

        Returns True exactly once when the switch has been stably off for UNMUTE_STABLE_MS.
        """
        on = self.pin.value() == self.active
        if not self.muted:
            if on:
                self._irq(self.pin)
            return False
        if on:
            self._pending = False
            return False
        now = time.ticks_ms()
        if not self._pending:
            self._pending = True
            self._since = now
            return False
        if time.ticks_diff(now, self._since) >= UNMUTE_STABLE_MS:
            self._pending = False
            self.muted = False
            return True
        return False
