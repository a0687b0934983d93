# Board profiles: load and validate the JSON in boards/esp32_s3/ (deployed to the board as profile.json).
# The host validates the same way before deploying (hushmic.deploy.check_profile loads this file), so a bad key is named
# before it ever reaches a board. Validation is a declarative schema, not scattered ifs.
import json

# key: (type, required, check) ; check is a (lo, hi) range for ints, a tuple of choices for strings, or None
SCHEMA = {
    "name": (str, True, None),
    "board": (str, True, None),
    "mic": (str, True, ("INMP441", "ICS-43434", "SPH0645", "SIMULATED")),
    "i2s_id": (int, True, (0, 1)),
    "sck": (int, True, (0, 48)),
    "ws": (int, True, (0, 48)),
    "sd": (int, True, (0, 48)),
    "shift": (int, True, (8, 24)),
    "mute_pin": (int, True, (0, 48)),
    "mute_active": (str, True, ("low", "high")),
    "mute_pull": (str, False, ("up", "down", "none")),
    "led_pin": (int, False, (0, 48)),
    "led_type": (str, False, ("ws2812", "none")),
    "boot_pin": (int, False, (0, 48)),
    "mic_power_cut": (bool, False, None),
    # The MicroPython build mirrors stdout to UART0 at this baud (ESP32_GENERIC_S3: 115200, MICROPY_HW_ENABLE_UART_REPL),
    # which caps everything the board sends at baud / 10 bytes a second; 0 for a build without the UART REPL.
    "stdout_uart_baud": (int, False, (0, 5000000)),
    "notes": (str, False, None),
}


# GPIOs an ESP32-S3 module cannot give to a mic, switch or LED (ESP32-S3 datasheet, "Pin Overview"): 19/20 are the
# native USB port (the REPL and the host link), 22-25 do not exist, 26-32 are wired to the SPI flash.
_PIN_KEYS = ("sck", "ws", "sd", "mute_pin", "led_pin")


def _bad_pin(v):
    if v in (19, 20):
        return "native USB D-/D+, the port the host talks to"
    if 22 <= v <= 25:
        return "no such GPIO on an ESP32-S3"
    if 26 <= v <= 32:
        return "wired to the SPI flash"
    return None


class ProfileError(ValueError):
    pass


def validate(d):
    """Return the profile dict with defaults filled in, or raise ProfileError naming the bad key."""
    if not isinstance(d, dict):
        raise ProfileError("profile must be a JSON object")
    for k in d:
        if k not in SCHEMA:
            raise ProfileError("unknown key '%s'" % k)
    out = {"mute_pull": "up", "led_type": "none", "boot_pin": 0, "mic_power_cut": False, "notes": "",
           "stdout_uart_baud": 115200}
    for k, spec in SCHEMA.items():
        typ, required, check = spec
        if k not in d:
            if required:
                raise ProfileError("missing key '%s'" % k)
            continue
        v = d[k]
        if typ is int and (isinstance(v, bool) or not isinstance(v, int)):
            raise ProfileError("'%s' must be an integer, got %r" % (k, v))
        if typ is not int and not isinstance(v, typ):
            raise ProfileError("'%s' must be a %s, got %r" % (k, typ.__name__, v))
        if check is not None:
            if typ is int and not (check[0] <= v <= check[1]):
                raise ProfileError("'%s' = %d is outside %d..%d" % (k, v, check[0], check[1]))
            if typ is str and v not in check:
                raise ProfileError("'%s' = %r is not one of %s" % (k, v, ", ".join(check)))
        out[k] = v
    for k in _PIN_KEYS:
        why = _bad_pin(out.get(k, -1))
        if why:
            raise ProfileError("'%s' = %d cannot be used: %s" % (k, out[k], why))
    if out["led_type"] != "none" and "led_pin" not in out:
        raise ProfileError("'led_pin' is required when led_type is '%s'" % out["led_type"])
    pins = [out["sck"], out["ws"], out["sd"], out["mute_pin"]]
    if len(set(pins)) != len(pins):
        raise ProfileError("sck, ws, sd and mute_pin must be four different GPIOs")
    return out


def load(path="profile.json"):
    try:
        with open(path) as f:
            d = json.load(f)
    except OSError:
        raise ProfileError("no board profile at '%s' (deploy one with `hushmic deploy --profile ...`)" % path)
    except ValueError as e:
        raise ProfileError("'%s' is not valid JSON (%s)" % (path, e))
    return validate(d)
