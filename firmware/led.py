# Status LED (WS2812 on the DevKitC-1). Writes only on a state change.
import machine

import wire

# (r, g, b), dim: the LED is an indicator, not a lamp
COLOURS = {
    wire.STATE_IDLE: (0, 0, 4),  # blue: powered, not streaming
    wire.STATE_LISTENING: (0, 6, 0),  # green: listening for speech
    wire.STATE_SPEECH: (8, 6, 0),  # amber: speech is being sent
    wire.STATE_MUTED: (12, 0, 0),  # red: the switch mutes the mic
    wire.STATE_ERROR: (12, 0, 12),  # magenta: something failed
}


class Led:
    def __init__(self, profile):
        self.state = -1
        self.fault = False  # the board runs degraded (app.App.fault): error colour except while muted
        self.np = None
        if profile.get("led_type") == "ws2812":
            try:
                import neopixel

                self.np = neopixel.NeoPixel(machine.Pin(profile["led_pin"]), 1)
            except Exception:
                self.np = None

    def show(self, state):
        if state == self.state:
            return
        self.state = state
        if self.np is not None:
            self.np[0] = COLOURS.get(wire.STATE_ERROR if self.fault and state != wire.STATE_MUTED else state, (0, 0, 0))
            self.np.write()
