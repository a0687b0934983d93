"""Passwords, PINs, door codes, security answers, user names: free values after a cue."""


from .base import CueValueRecognizer


def cue_recognizers():
    """Cue slots of user names, IP addresses and passwords/codes."""
    R = CueValueRecognizer
    return [
        R("ID_NUMBER", ["username", "user name", "login", "login name", "user id", "handle", "screen name",
                        "gamertag", "account name"], "words", 0.8),
        R("DEVICE_ID", ["ip address", "ip", "i p address", "ip number"], "code", 0.85),
        R("PASSWORD", ["digits on the back", "three digits on the back", "numbers on the back", "back of the card",
                       "security question", "security questions", "secret question", "password", "passcode", "passphrase", "pass code", "pin", "pin number", "pin code",
                       "door code", "garage code", "gate code", "alarm code", "entry code", "access code",
                       "lock code", "lockbox code", "safe code", "keypad code", "security code", "verification code",
                       "one time code", "cvv", "cvc", "c v v", "c v c", "cvv2", "code", "combination",
                       "wifi password", "wi-fi password", "maiden name", "mother's maiden name",
                       "security answer", "secret answer", "security question answer", "first pet's name",
                       "first pet was", "passwords"], "words", 0.85,
          neg_before={"promo", "discount", "coupon", "zip", "area", "country", "dress", "source", "qr", "bar",
                      "postal", "post", "sort", "swift", "country", "morse", "da", "tax"}),
    ]
