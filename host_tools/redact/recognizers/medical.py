"""Conditions, medications and treatments attributed to a person; the "blood type" cue slot."""

from ..doc import Result
from ..lexicon import (BRANDS, FUNCTION_WORDS, LETTERS, MEDICAL_ABBREVIATIONS, MEDICAL_HEADS, MEDICAL_PHRASES,
                       MEDICAL_TERMS, MONTHS, RELATIONS, VALUE_STOP)
from ..names import english_words, first_names
from ..numbers import is_number_word
from .base import CueValueRecognizer, Recognizer, tup
from .location import place_value


def cue_recognizers():
    """The blood-type cue slot."""
    R = CueValueRecognizer
    return [
        R("MEDICAL", ["blood type", "blood group"], "words", 0.8),
    ]


_MED_SUFFIXES = ("itis", "osis", "emia", "aemia", "oma", "pathy", "algia", "ectomy", "otomy", "plasty", "plegia",
                 "iasis", "orrhea", "phobia")
_NOT_MED_SUFFIXED = frozenset("""diploma aroma sympathy empathy apathy telepathy antipathy nostalgia diagnosis
prognosis osmosis symbiosis hypnosis metamorphosis oklahoma tacoma sonoma academia bohemia dichotomy
apotheosis""".split())
_MED_NOT_MODIFIER = frozenset("has have had got with from for diagnosed suffering suffers treated getting "
                               "developed been being".split())
_MED_SLOT_BEFORE = frozenset("refill renew take taking took prescribed on".split())
_MED_SLOT_AFTER = frozenset("prescription prescriptions medication medications meds pills tablets inhaler dose "
                            "injection injections shot shots refill capsules drops cream patch".split())


# a relative is a specific person ("grandpa's on warfarin"); professions are not ("what does a doctor prescribe")
_FAMILY = RELATIONS - frozenset("""doctor dentist nurse therapist pharmacy pharmacist vet teacher lawyer mechanic
electrician plumber office home work school team support reception receptionist assistant family everyone everybody
someone somebody anyone anybody nobody""".split())
_MED_MODIFIERS = frozenset("""early onset late stage chronic severe mild acute advanced terminal juvenile adult
gestational postpartum seasonal clinical major moderate persistent recurrent metastatic inoperable benign malignant
aggressive rare""".split())
_DAYS = frozenset("""monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays
fridays saturdays sundays weekends weekdays""".split())
_HAS = frozenset("has have had got with diagnosed".split())


class MedicalRecognizer(Recognizer):
    """Conditions, medications and treatments attributed to a person ("i have migraines", "peter has asthma",
    "refill my metformin", "diagnosed with ..."). General questions ("symptoms of the flu") are left alone."""
    entity = "MEDICAL"
    name = "medical"
    OPEN_CUES = [tup(c) for c in ("diagnosed with", "suffering from", "suffer from", "suffers from", "treated for",
                                   "treatment for my", "recovering from", "allergic to", "tested positive for",
                                   "being treated for", "medication for my", "medicine for my", "prescribed")]
    PHRASES = [tup(p) for p in MEDICAL_PHRASES]
    PHRASE_INDEX, OPEN_INDEX = {}, {}
    for _p in PHRASES:
        PHRASE_INDEX.setdefault(_p[0], []).append(_p)
    for _p in OPEN_CUES:
        OPEN_INDEX.setdefault(_p[0], []).append(_p)

    def analyze(self, doc, ctx):
        eng, fn = english_words(), first_names()
        strong_personal = bool(doc.wordset & {"i", "my", "me", "i'm", "i've", "im", "ive", "he", "she", "his", "her",
                                               "he's", "she's", "diagnosed", "has", "have", "our", "their", "got"})
        relative = any(w in _FAMILY or w.endswith("'s") and w[:-2] in _FAMILY for w in doc.words)
        if not strong_personal and not relative and not any(r.type == "PERSON" for r in ctx.results):
            return []
        if ctx.general_health and not (doc.wordset & {"my", "i", "i'm", "i've", "im", "ive", "has", "his", "her", "he",
                                                       "she"}):
            return []
        res = []
        i = 0
        while i < doc.n:
            w = doc.words[i]
            hit = None
            if len(w) == 1 and w in LETTERS and doc.w(i - 1) in _HAS | {"my", "his", "her", "of", "for", "from"}:
                # a condition spelled by its letters: "she has m s", "diagnosed with a d h d"
                j = i
                while j < doc.n and j - i < 5 and len(doc.words[j]) == 1 and doc.words[j] in LETTERS:
                    j += 1
                if j - i >= 2 and "".join(doc.words[i:j]) in MEDICAL_ABBREVIATIONS:
                    res.append(Result(i, j, "MEDICAL", 0.75, self.name))
                    i = j
                    continue
            for p in self.PHRASE_INDEX.get(w, ()):
                if doc.phrase_at(i, p):
                    hit = (i, i + len(p))
                    break
            if hit is None:
                opened = None
                for c in self.OPEN_INDEX.get(w, ()):
                    if doc.phrase_at(i, c):
                        # "diagnosed with X", "allergic to X": whatever follows is the condition
                        k = i + len(c)
                        while doc.w(k) in ("a", "an", "the", "my", "some"):
                            k += 1
                        opened = place_value(doc, k, max_len=4)
                        break
                if opened:
                    res.append(Result(opened[0], opened[1], "MEDICAL", 0.8, self.name))
                    i = opened[1]
                    if doc.w(i) in ("and", "or") and doc.w(i + 1) not in FUNCTION_WORDS and \
                            doc.w(i + 1) not in VALUE_STOP:
                        more = place_value(doc, i + 1, max_len=3)  # "allergic to penicillin AND LATEX"
                        if more:
                            res.append(Result(more[0], more[1], "MEDICAL", 0.8, self.name))
                            i = more[1]
                    continue
                if hit is None and w in ("have", "has", "had", "got") and doc.w(i - 1) not in ("what", "do", "does"):
                    k = i + 1
                    while doc.w(k) in ("severe", "mild", "chronic", "bad"):
                        k += 1
                    b = doc.w(k)[:-2] if doc.w(k).endswith("'s") else doc.w(k)
                    if b and b.isalpha() and b not in eng and b not in fn and b not in FUNCTION_WORDS and \
                            not is_number_word(b) and len(b) > 2 and b not in BRANDS:
                        res.append(Result(k, k + 1, "MEDICAL", 0.6, self.name))
                        i = k + 1
                        continue
                if hit is None and w in _MED_SLOT_BEFORE and doc.w(i + 1) not in FUNCTION_WORDS and (
                        w != "on" or doc.w(i - 1) in ("i'm", "im", "am", "he's", "she's", "been", "started", "is",
                                                      "was", "stay", "stayed", "still")):
                    # "refill my X", "take my X", "i'm on X": an unknown word there is a medication
                    k = i + 1
                    while doc.w(k) in ("my", "his", "her", "the", "some", "more"):
                        k += 1
                    b = doc.w(k)
                    if b and b.isalpha() and (b in MEDICAL_TERMS or b not in eng and b not in fn and b not in BRANDS
                                              and b.rstrip("s") not in BRANDS and b not in _DAYS and
                                              b not in MONTHS) and not is_number_word(b):
                        res.append(Result(k, k + 1, "MEDICAL", 0.7, self.name))
                        i = k + 1
                        continue
                if hit is None and w in _MED_SLOT_AFTER and i > 0:
                    b = doc.words[i - 1]
                    if b.isalpha() and b not in eng and b not in fn and not is_number_word(b) and b not in BRANDS and \
                            doc.w(i - 2) in ("my", "his", "her", "their", "our", "the", "a"):
                        res.append(Result(i - 1, i, "MEDICAL", 0.7, self.name))
                        i += 1
                        continue
                if hit is None and len(w) > 6 and w.endswith(_MED_SUFFIXES) and w not in _NOT_MED_SUFFIXED:
                    hit = (i, i + 1)  # "tonsillitis", "scoliosis", "carcinoma", "neuropathy", "mastectomy"
                if hit is None and w in MEDICAL_TERMS:
                    hit = (i, i + 1)
                    if w in ("allergy", "allergies", "intolerance"):
                        a0 = i
                        while a0 > 0 and i - a0 < 2 and doc.words[a0 - 1] not in FUNCTION_WORDS and \
                                doc.words[a0 - 1] not in VALUE_STOP and not any(r.i <= a0 - 1 < r.j for r in
                                                                                 ctx.results if r.type == "PERSON"):
                            a0 -= 1
                        hit = (a0, i + 1)
                if hit is None and w in MEDICAL_HEADS and i > 0 and doc.words[i - 1] not in FUNCTION_WORDS and \
                        doc.words[i - 1] not in VALUE_STOP and w not in ("attack", "attacks", "condition", "failure"):
                    hit = (i - 1, i + 1)
            if hit:
                a, b = hit
                while a > 0 and doc.words[a - 1] in _MED_MODIFIERS and b - a < 6:
                    a -= 1  # "EARLY ONSET alzheimer's", "SEVERE asthma", "STAGE ..." below
                if doc.words[a] == "pregnant" and doc.w(a - 1) in ("weeks", "months") and is_number_word(doc.w(a - 2)):
                    a -= 2  # "seven months pregnant"
                    while a > 0 and is_number_word(doc.words[a - 1]):
                        a -= 1
                if doc.words[b - 1] in MEDICAL_HEADS or doc.words[b - 1] in ("cancer", "diabetes", "tumor", "tumour",
                                                                               "diabetic"):
                    # "lung cancer", "stage four lung cancer", "type two diabetes": fold modifiers and qualifiers in
                    while a > 0 and hit[1] - a < 5:
                        p = doc.words[a - 1]
                        if is_number_word(p) and doc.w(a - 2) in ("stage", "type", "grade", "level", "class"):
                            a -= 2
                            continue
                        if p in FUNCTION_WORDS or p in VALUE_STOP or p in RELATIONS or is_number_word(p) or \
                                any(r.i <= a - 1 < r.j for r in ctx.results if r.type == "PERSON") or \
                                p in _MED_NOT_MODIFIER:
                            break
                        a -= 1
                res.append(Result(a, b, "MEDICAL", 0.75, self.name))
                i = b
                continue
            i += 1
        return res
