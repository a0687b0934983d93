"""Dates of birth: a spoken date after "born", "birthday", "date of birth"."""


from .base import CueValueRecognizer


def cue_recognizers():
    """Birthday and date-of-birth cue slots."""
    R = CueValueRecognizer
    return [
        R("DATE_OF_BIRTH", ["birthday", "birthday's", "bday", "b day", "born", "born on", "born in", "date of birth",
                            "d o b", "dob", "birth date", "birth day", "day of my birth", "birthdate", "day of birth"], "date", 0.9),
    ]
