"""Fail closed on ASR doubt: words the recogniser was unsure of, inside a PII context, are redacted too.

The text detector reads what the recogniser wrote. When the recogniser garbles the value itself ("grace wright" ->
"grace right", "four one four" -> "fight fife fire"), the detector finds nothing and the value would stay audible and
readable. The recogniser says where it was unsure: Whisper's word probability (`Word.confidence`) and, for words the
forced aligner had no pronunciation for, `Word.aligned=False` (often the very names to hide). A doubtful word is
redacted, in the text and the audio alike, when it sits in a PII context:

- after a cue ("my number is ...", "call ...", and the medication cues below, "take my ..."): the run of doubtful
  words right after it, past confidently heard link words ("is", "it's"), gets the cue's type;
- next to a detected value: a run of up to MAX_RUN doubtful words directly after a span joins it (a surname's garbled
  half, the rest of a postcode; not after a condition or an age, which are whole), and before a name (a garbled first name); before any other value stand its cue words
  ("my routing number is"), which noise makes doubtful too, so nothing before it is taken;
- inside a value: at most MAX_GAP words between two spans of one type are redacted with them when each of them is
  doubtful or a number word ("[PHONE] for [PHONE]").

Cue words ("number", "code", "password" ...) are never doubtful: they are what makes the context. Closed-class words
(pronouns, articles, prepositions, conjunctions) are never doubtful on their own: "call mom" heard
as "call them on" must not get a tag; nor is a number word a doubtful name, place or condition ("call nine one one"),
nor a relative a doubtful name ("text dad").
Nothing outside a PII context is touched, so a no-PII sentence stays untagged.
"""
from .audio import word_offsets
from .recognizers import LINKS, cue_positions

LOW_CONFIDENCE = 0.5    # Whisper word probability below this is doubtful anywhere in a PII context
NEAR_CONFIDENCE = 0.65  # next to a detected value the bar is higher: garbled halves of names score 0.5-0.65
MAX_RUN = 3             # doubtful words that may join a span on one side
MAX_GAP = 2             # words between two same-type spans that may be filled

CLOSED_CLASS = frozenset("""a an the this that these those it its i me my mine you your we us our they them their he him
his she her hers and or but nor so if then than as at by for from in into of off on onto out over to up with without
about after before under is are was were be been am do does did have has had will would can could shall should may
might must not no yes oh okay ok um uh er hmm please thanks thank there here where when what who whom whose which why
how now then just also too very all any some each every both either neither other such same""".split())

CUE_WORDS = frozenset("""number numbers code codes pin password passcode account routing sort serial imei id
identification member license licence plate passport social security card ending expiry email e-mail address phone
mobile cell name surname birthday birth born zip postcode post date age old years""".split())

NUMBER_WORDS = frozenset("""zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
double triple for to""".split())


WORDY_TYPES = frozenset(("PERSON", "LOCATION", "MEDICAL"))  # values made of words, never of number words
# a value of these types is whole once detected (a condition, an age): what follows it is the rest of the sentence
# ("asthma | so cancel her gym class"), not more of the value
NO_TRAILING_TYPES = frozenset(("MEDICAL", "AGE"))
# relatives are not PII ("text dad", "call mom"), however badly heard
RELATION_WORDS = frozenset("""mom mum mommy mummy mother dad daddy father wife husband son daughter brother sister
grandma grandpa granny grandmother grandfather aunt uncle cousin niece nephew boss partner kids baby""".split())


# where a medicine or condition is expected: a drug name the recogniser garbled ("lisinopril" -> "lies and upper lap
# night") comes out as low-probability ordinary words that no detector would take for a medicine
DOUBT_CUES = {"MEDICAL": [tuple(c.split()) for c in (
    "take my", "taking my", "took my", "refill my", "refill of my", "pick up my", "picked up my", "prescription for",
    "prescribed", "diagnosed with", "allergic to", "allergy to", "suffers from", "suffering from", "treated for",
    "dose of my", "medication is", "medicine is", "on medication for")]}


def _doubt_cue_positions(words):
    toks = [w.word for w in words]
    out = []
    for typ, cues in DOUBT_CUES.items():
        for i in range(len(toks)):
            for c in cues:
                if tuple(toks[i:i + len(c)]) == c:
                    out.append((i + len(c), typ))
    return out


# values made of digits and letters: a word the recogniser garbled inside or after one is a digit or letter heard
# wrong ("fife", "won", "tree", "ate"), short; "tomorrow" after a phone number is the sentence going on
CODE_TYPES = frozenset(("PHONE", "CREDIT_CARD", "BANK_ACCOUNT", "SSN", "POSTCODE", "ID_NUMBER", "DEVICE_ID"))
MAX_CODE_WORD = 5


def _fits(w, typ):
    if typ == "PERSON" and w.word in RELATION_WORDS:
        return False
    if typ in CODE_TYPES and len(w.word) > MAX_CODE_WORD and w.word not in NUMBER_WORDS:
        return False
    return not (typ in WORDY_TYPES and w.word in NUMBER_WORDS)


def _timed(w):
    return bool(getattr(w, "aligned", True)) and w.t0 is not None and w.t1 is not None


def doubtful(w, bar=LOW_CONFIDENCE, nxt=None):
    """A word the recogniser was unsure of: low probability, or no pronunciation to time it by. A closed-class word is
    doubtful only as a bridge: unsure itself and followed by a doubtful word ("lies AND upper lap")."""
    if w.word in CUE_WORDS:
        return False
    if w.word in CLOSED_CLASS:
        return nxt is not None and float(w.confidence) < LOW_CONFIDENCE and doubtful(nxt, bar)
    return float(w.confidence) < bar or not _timed(w)


def _at(words, k):
    return words[k] if 0 <= k < len(words) else None


def doubt_spans(words, spans, span_cls):
    """Extra spans (span_cls(start, end, type, score)) over doubtful words in PII contexts; may overlap `spans`."""
    words = list(words)
    n = len(words)
    if not n:
        return []
    offs = word_offsets(words)
    text = " ".join(w.word for w in words)
    covered = [None] * n  # span type per word
    ranges = []
    for s in spans:
        ks = [k for k, (a, b) in enumerate(offs) if a < s.end and s.start < b]
        if ks:
            ranges.append((ks[0], ks[-1] + 1, s.type))
            for k in ks:
                covered[k] = s.type
    out = []

    def add(i, j, typ):
        if j > i:
            out.append(span_cls(offs[i][0], offs[j - 1][1], typ, 0.6))

    # after a cue
    for end, typ in sorted(set(cue_positions(text)) | set(_doubt_cue_positions(words))):
        k = end
        while k < n and words[k].word in LINKS and float(words[k].confidence) >= LOW_CONFIDENCE and k - end < 3:
            k += 1
        m = k
        while m < n and covered[m] is None and doubtful(words[m], nxt=_at(words, m + 1)) and _fits(words[m], typ):
            m += 1
        add(k, m, typ)
    # next to a detected value
    for i, j, typ in ranges:
        m = j
        while typ not in NO_TRAILING_TYPES and m < n and m - j < MAX_RUN and covered[m] is None \
                and doubtful(words[m], NEAR_CONFIDENCE) and _fits(words[m], typ):
            m += 1
        add(j, m, typ)
        k = i
        while typ == "PERSON" and k > 0 and i - k < MAX_RUN and covered[k - 1] is None and doubtful(words[k - 1], NEAR_CONFIDENCE) \
                and _fits(words[k - 1], typ):
            k -= 1
        add(k, i, typ)
    # inside a value
    ranges.sort()
    for (i0, j0, t0), (i1, j1, t1) in zip(ranges, ranges[1:]):
        if t0 == t1 and 0 < i1 - j0 <= MAX_GAP and \
                all(words[k].word in NUMBER_WORDS or doubtful(words[k], NEAR_CONFIDENCE) for k in range(j0, i1)):
            add(j0, i1, t0)
    return out
