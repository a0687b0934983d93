"""The recognizers, one module per entity family, behind one registry (the shape of Presidio's predefined recognizers).

    base.py         Recognizer, Context, cue -> value slots (CueValueRecognizer, value_after, date_run, words_value)
    identifiers.py  phones, cards, bank accounts, SSNs, ID numbers, device IDs: cue slots, digit sequences, spelled codes
    email.py        spoken e-mail addresses
    address.py      street addresses and postcodes
    location.py     places tied to a person
    person.py       private people's names
    age.py          ages of a person
    dob.py          dates of birth
    medical.py      conditions, medications, treatments (and blood type)
    secrets.py      passwords, PINs, codes, user names, IP addresses

`analyze(text)` runs the registry and returns (doc, results); `cue_positions(text)` tells where a value is expected
(used by the fail-closed doubt spans); `LINKS` are the words allowed between a cue and its value.
"""
from ..doc import Doc
from . import address, dob, identifiers, medical, secrets
from .address import AddressRecognizer
from .age import AgeRecognizer
from .base import ENTITY_TYPES, LINKS, Context, CueValueRecognizer, Recognizer, tup
from .email import EmailRecognizer
from .identifiers import DigitSequenceRecognizer, SpelledCodeRecognizer
from .location import LocationRecognizer
from .medical import MedicalRecognizer
from .person import PersonRecognizer


def cue_recognizers():
    """Every cue -> value slot, in registry order."""
    return [*identifiers.cue_recognizers(), *address.cue_recognizers(), *secrets.cue_recognizers(),
            *medical.cue_recognizers(), *dob.cue_recognizers()]


def cue_words(recognizers):
    """First words (longer than one letter) of the cues of `recognizers`: never a name ("the mac address", "pin")."""
    return frozenset(t[0] for r in recognizers if isinstance(r, CueValueRecognizer)
                     for lst in r.cues.values() for t in lst if len(t[0]) > 1)


def default_registry():
    cues = cue_recognizers()
    return [
        *cues,
        DigitSequenceRecognizer(),
        SpelledCodeRecognizer(),
        EmailRecognizer(),
        AddressRecognizer(),
        LocationRecognizer(),
        AgeRecognizer(),
        PersonRecognizer(cue_words(cues)),
        MedicalRecognizer(),  # last: uses the PERSON results for attribution
    ]


def analyze(text, registry=None):
    """Run every recognizer; return (doc, results)."""
    doc = Doc(text)
    ctx = Context(doc)
    for r in registry or _REGISTRY:
        found = r.analyze(doc, ctx)
        ctx.results.extend(found)
    return doc, ctx.results


_REGISTRY = default_registry()
_AUDIO_PERSON_CUES = [tup(c) for c in ("my name is", "my name's", "this is", "call", "text", "message", "tell",
                                       "email", "contact", "remind", "ask", "invite")]
_AUDIO_EMAIL_CUES = [tup(c) for c in ("email is", "email address is", "e-mail is", "email me at", "mail me at")]


def cue_positions(text):
    """(token index right after a PII cue, type) for every cue in `text`: where a value is expected.

    Audio redaction uses it to bleep a low-confidence stretch after a cue even when no value was recognised."""
    doc = Doc(text)
    out = []
    for r in _REGISTRY:
        if isinstance(r, CueValueRecognizer):
            out.extend((cj, r.entity) for _, cj in r.find_cues(doc))
    loc = next(r for r in _REGISTRY if isinstance(r, LocationRecognizer))
    for i, w in enumerate(doc.words):
        for t in loc.by_first.get(w, ()):
            if doc.phrase_at(i, t):
                out.append((i + len(t), "LOCATION"))
                break
        for cues, typ in ((_AUDIO_PERSON_CUES, "PERSON"), (_AUDIO_EMAIL_CUES, "EMAIL")):
            for t in cues:
                if t[0] == w and doc.phrase_at(i, t):
                    out.append((i + len(t), typ))
                    break
    return sorted(set(out))


__all__ = ["ENTITY_TYPES", "LINKS", "Recognizer", "Context", "CueValueRecognizer", "analyze", "cue_positions",
           "default_registry"]
