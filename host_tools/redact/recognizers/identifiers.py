"""Numbers and codes that identify someone: phones, cards, bank accounts, SSNs, ID numbers, device IDs.

Cue slots ("routing number", "card ending in", "imei"), long digit sequences with no cue, and spelled codes.
"""
import re

from ..doc import Result
from ..lexicon import (DIGIT_HOMOPHONES, DIGIT_WORDS, EMERGENCY_NUMBERS, LETTERS, MATH_WORDS, NONPERSONAL_NUMBER_OWNERS,
                       UNITS)
from ..numbers import luhn_ok
from .base import CueValueRecognizer, Recognizer, cue_type_before


def cue_recognizers():
    """Cue slots of phones, cards, accounts, SSNs, ID numbers and device serials."""
    R = CueValueRecognizer
    return [
        R("PHONE", ["phone number", "phone", "number", "cell", "cell number", "cell phone", "mobile", "mobile number",
                    "telephone", "telephone number", "landline", "contact number", "home number", "work number",
                    "fax", "fax number", "whatsapp", "call me at", "call me on", "reach me at", "reach me on",
                    "text me at", "text me on", "extension", "digits"], "num", 0.85,
          neg_before=NONPERSONAL_NUMBER_OWNERS | {"wrong", "what's", "whats"}),
        R("CREDIT_CARD", ["card number", "card", "credit card", "debit card", "visa", "mastercard", "master card",
                          "amex", "american express", "discover card", "card ending in", "expiry", "expiry date",
                          "expiration", "expiration date", "expires", "exp date", "valid thru", "valid through"],
          "num", 0.9, neg_before={"sim", "memory", "sd", "gift", "library", "birthday", "report", "greeting"}),
        R("BANK_ACCOUNT", ["account number", "account", "acct", "routing number", "routing", "sort code", "iban",
                           "i b a n", "bank account", "checking account", "savings account", "aba", "a b a",
                           "bsb", "transit number", "swift code", "bic"], "code", 0.9),
        R("SSN", ["social security number", "social security", "social", "ssn", "s s n", "social insurance number",
                  "sin number", "tax file number", "tin"], "num", 0.9),
        R("ID_NUMBER", ["national insurance number", "national insurance", "n i number", "ni number",
                        "passport number", "passport", "driver's license number", "driver's license",
                        "drivers license", "driving licence", "driving license", "driver's licence",
                        "license number", "licence number", "license plate", "licence plate", "plate number", "plate",
                        "number plate", "registration number", "registration", "reg number", "reg", "member id",
                        "member number", "membership number", "membership id", "insurance id", "insurance number",
                        "policy number", "medical record number", "medical record", "mrn", "patient id",
                        "patient number", "nhs number", "health card number", "medicare number", "medicaid number",
                        "vin", "v i n", "vehicle identification number", "id number", "i d number", "id", "i d",
                        "tax id", "ein", "employee id", "employee number", "student id", "student number",
                        "badge number", "customer number", "customer id", "library card number", "green card number",
                        "visa number", "case number", "claim number", "permit number", "voter id", "group number"],
          "code", 0.9),
        R("DEVICE_ID", ["serial number", "serial", "serial no", "s n", "imei", "i m e i", "imei number",
                        "mac address", "mac", "m a c address", "device id", "device serial", "udid", "meid", "esn",
                        "hardware id", "product key", "imsi", "iccid", "sim number"], "code", 0.9),
    ]


class DigitSequenceRecognizer(Recognizer):
    """Long digit-by-digit numbers are identifiers whatever surrounds them (phones, cards, accounts, IMEIs).

    A run of >= 7 digits read in >= 3 groups is redacted without any cue; a cardinal ("one million") is a quantity.
    Shorter runs right after a calling verb ("call four five six seven") are phone numbers, except emergency numbers."""
    entity = "PHONE"
    name = "digit_sequence"

    def analyze(self, doc, ctx):
        if not doc.has_numbers():
            return []
        res = []
        for i, j in self._runs(doc):
            digits = doc.digits(i, j, homophones=True)
            groups = doc.groups(i, j)
            prev = doc.w(i - 1)
            nonpersonal = bool(set(doc.words[max(0, i - 3):i]) & NONPERSONAL_NUMBER_OWNERS) and not (
                set(doc.words[max(0, i - 3):i]) & {"phone", "card", "account", "social", "cell", "mobile"})
            after = doc.w(j)
            quantity = after in UNITS or after in MATH_WORDS or prev in MATH_WORDS
            written = any(doc.words[k].isdigit() and len(doc.words[k]) >= 7 for k in range(i, j))
            if len(digits) >= 7 and (groups >= 3 or written) and not nonpersonal and not (quantity and groups <= 3):
                t = cue_type_before(doc, i) or self._by_shape(digits)
                score = 0.75 + (0.1 if luhn_ok(digits) else 0.0)
                res.append(Result(i, j, t, score, self.name))
            elif prev in ("call", "dial", "ring", "phone", "text") and len(digits) >= 3 and \
                    digits not in EMERGENCY_NUMBERS and not quantity and groups >= 3:
                res.append(Result(i, j, "PHONE", 0.7, self.name))
        return res

    @staticmethod
    def _runs(doc):
        """Number runs, joined over a digit homophone that sits between two digits ("eight eight FOR three": Whisper
        writes "for", "to", "won", "ate" for digits)."""
        runs = list(doc.runs())
        k = 0
        while k < len(runs):
            i, j = runs[k]
            while k + 1 < len(runs) and runs[k + 1][0] == j + 1 and doc.w(j) in DIGIT_HOMOPHONES and \
                    doc.w(j - 1) in DIGIT_WORDS and doc.w(j + 1) in DIGIT_WORDS:
                j = runs[k + 1][1]
                k += 1
            yield i, j
            k += 1

    @staticmethod
    def _by_shape(d):
        if len(d) == 15 and luhn_ok(d) and d[:2] in ("35", "86", "01", "99", "49", "44"):
            return "DEVICE_ID"
        if 13 <= len(d) <= 19:
            return "CREDIT_CARD"
        return "PHONE"


_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_CODE_NEG = frozenset("flight gate seat platform terminal channel room table row track episode season chapter page "
                      "version model size vitamin interstate route highway bus train".split())


# words a recogniser writes for a digit ("eight" -> "take", "ate", "hate"; "nine" -> "fine")
_DIGIT_MISHEARD = frozenset(DIGIT_HOMOPHONES) | frozenset("take hate wait fine tin sics sicks fore tree".split())
# cues that people spell out right before their value
_SPELLED_CUES = ("dob", "ssn", "imei", "vin", "cvv", "iban")


class SpelledCodeRecognizer(Recognizer):
    """Letters and digits spelled out together ("k z r zero four", "l s one four a p") are codes: IDs, plates,
    postcodes. Context-free; UK postcodes are recognised by their shape."""
    entity = "ID_NUMBER"
    name = "spelled_code"

    def analyze(self, doc, ctx):
        res = []
        i = 0
        while i < doc.n:
            w = doc.words[i]
            if w in ("a", "i") or not doc.is_core(i, letters=True, nato=False):
                i += 1
                continue
            j = doc.run(i, letters=True, nato=False)
            if j == i:
                i += 1
                continue
            g = j + (doc.w(j) in ("a", "i"))
            if j - i >= 2 and doc.w(g) in _DIGIT_MISHEARD and doc.run(g + 1) - (g + 1) >= 3 and \
                    all(len(w) == 1 and w in LETTERS for w in doc.words[i:j]):
                j = doc.run(g + 1)  # "r t a TAKE four two one": a digit misheard as a word between letters and digits
            for cue in _SPELLED_CUES:
                if doc.words[i:i + len(cue)] == list(cue) and i + len(cue) < j:
                    i += len(cue)  # "d o b eleven nine sixty": the cue spelled out is not part of the code
                    break
            code = doc.code(i, j)
            letters = sum(1 for k in range(i, j) if len(doc.words[k]) == 1 and doc.words[k] in LETTERS)
            ndig = sum(c.isdigit() for c in code)
            if set(doc.words[max(0, i - 3):i]) & _CODE_NEG:
                i = j
                continue
            if _UK_POSTCODE.match(code):
                res.append(Result(i, j, "POSTCODE", 0.8, self.name))
            elif letters >= 1 and ndig >= 3 and len(code) >= 5:
                res.append(Result(i, j, cue_type_before(doc, i) or "ID_NUMBER", 0.7, self.name))
            i = j
        return res
