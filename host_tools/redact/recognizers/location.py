"""Places tied to a person ("i live in ...", "i work at ..."), and `place_value`, the reader of a
place name after a cue (also used for conditions after "diagnosed with").
"""

from ..doc import Result
from ..lexicon import FUNCTION_WORDS, RELATIONS, STREET_TYPES, UNITS, VALUE_STOP
from ..names import english_words
from ..numbers import is_number_word
from .base import Recognizer, match_loose, tup


_LOC_CONNECT = frozenset("of on in at near the de la".split())
_GENERIC_PLACES = frozenset("""home work school bed lunch dinner breakfast the a my office gym store shop mall bank
airport station park beach library church pharmacy supermarket restaurant bar pub cafe hotel movies cinema party
house apartment flat car doctor's dentist's doctors dentist hospital clinic game concert meeting""".split())


def _placeish(doc, v, loose=False):
    """Does the value look like a named place (a proper noun, a number, a street word; with `loose`, also any two
    content words: "canary wharf") rather than "on fire" or "great"?"""
    eng = english_words()
    content = [doc.words[k] for k in range(v[0], v[1]) if doc.words[k] not in ("the", "a", "an")]
    if loose and len(content) >= 2:
        return True
    return any(w not in eng or is_number_word(w) or w in STREET_TYPES for w in content)


def place_value(doc, i, max_len=9):
    """A place name after a location cue: tokens up to a stop word; "of/on/in/at" join two place words
    ("saint mary's hospital on fifth street")."""
    while doc.w(i) in ("near", "by", "on", "at", "in", "off") and i + 1 < doc.n:
        i += 1  # "my school is NEAR the park": the preposition is not part of the place
    j = i
    last = i
    while j < doc.n and j - i < max_len:
        w = doc.words[j]
        if w in _LOC_CONNECT and j + 1 < doc.n and doc.words[j + 1] not in VALUE_STOP and \
                doc.words[j + 1] not in FUNCTION_WORDS | {"the"} and doc.words[j + 1] not in _WHEN:
            if j == i and w != "the":
                break
            j += 1
            continue
        if w == "the" and j + 1 < doc.n:
            j += 1
            continue
        if j == i and w in ("my", "our", "his", "her") and doc.w(j + 1).endswith("'s"):
            j += 1  # "i'm at my mom's place on elm street"
            continue
        if w == "and" and j > i and "corner" in doc.words[i:j] and j + 1 < doc.n and \
                doc.words[j + 1] not in VALUE_STOP:
            j += 1  # "the corner of fifth and main"
            continue
        if j > i and doc.words[j - 1] in _ROOMS and doc.is_core(j, letters=True, nato=False):
            j = doc.run(j, letters=True, nato=False)  # "... room eight oh six": the whole room number
            last = j
            continue
        if w in VALUE_STOP or w in FUNCTION_WORDS or w in UNITS and not w == "st":
            break
        j += 1
        last = j
    if last == i:
        return None
    k = i
    while k < last and doc.words[k] in ("the", "a", "my", "our", "an"):
        k += 1
    if last - k <= 1 and (k == last or doc.words[k] in _GENERIC_PLACES):
        return None
    return (i, last)


# the last word of a named institution ("lincoln elementary", "saint mary's hospital", "the grand hotel")
INSTITUTIONS = frozenset("""elementary school academy college university hospital clinic center centre hotel inn motel
church library prison jail base campus daycare preschool nursery kindergarten institute hall hospice infirmary
prep high middle seminary lodge resort home ward wing unit icu department hostel apartments towers tower building plaza mall""".split())
# what follows "live in", "i'm in" without being a place
_NOT_PLACES = frozenset("""fear hope denial peace luxury poverty harmony sin hiding squalor comfort dread terror
misery bliss style sync shock awe doubt pain agony trouble love debt danger limbo silence darkness secret secrecy
moment present past future dream dreams world bubble rush hurry mood mess""".split())
# what one works in without it being a place: "i work in sales"
_FIELDS = frozenset("""sales marketing finance retail healthcare education construction hospitality insurance it tech
engineering accounting hr admin administration management logistics manufacturing law banking research software
government publishing media advertising design operations support ops security nursing medicine pharma""".split())
# a time after a place is not part of it: "i work at home ON FRIDAYS"
_WHEN = frozenset("""monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays
fridays saturdays sundays weekends weekdays weekend mornings evenings nights afternoons""".split())
_ROOMS = frozenset("room suite ward cabin bed unit apartment flat bay villa bungalow cottage chalet dorm".split())


def room_value(doc, k):
    """"room four twelve at the radisson", "suite nine": a numbered room, and the named place it is in."""
    if doc.w(k) not in _ROOMS:
        return None
    j = doc.run(k + 1, letters=True, nato=False)
    if j == k + 1:
        return None
    if doc.w(j) in ("at", "in", "of", "on") and doc.w(j + 1) == "the":
        v = place_value(doc, j + 2)
        if v and (_placeish(doc, v) or doc.words[v[1] - 1] in INSTITUTIONS):
            return (k, v[1])
    elif doc.w(j) in ("at", "in", "of", "on"):
        v = place_value(doc, j + 1)
        if v and _placeish(doc, v):
            return (k, v[1])
    if doc.w(k) in ("room", "bed", "bay", "ward") and len(doc.code(k + 1, j)) < 3:
        return None  # "i'm in room four": a classroom or a meeting room, not where one stays
    return (k, j)


_MY_PLACES = frozenset("""office gym school house home apartment flat dorm hotel work job workplace studio shop store
church clinic campus building condo cabin farm practice company business restaurant bakery salon college university
daycare nursery kindergarten""".split())
_WHERE_I = [tup(c) for c in ("where i live", "where we live", "where i work", "where i'm staying", "where i am",
                                "where i'm", "where we are", "where we're staying", "where my office is",
                                "where my kids go to school", "where i grew up", "where i'm from")]


class LocationRecognizer(Recognizer):
    """Places tied to the speaker or someone they know: "i live in ...", "i'm at ...", "my office is on ...",
    "my kids go to ...", "at home in ...". Places in general requests ("weather in boston") are left alone."""
    entity = "LOCATION"
    name = "location"
    CUES = [tup(c) for c in """
i live in|i live on|i live near|i live at|i live by|i'm living in|i am living in|we live in|we live on|we live near|
we live at|they live in|he lives in|she lives in|he lives on|she lives on|lives in|live in|living in|
i reside in|i reside at|i'm at|i am at|im at|we're at|we are at|i'm staying at|i'm staying in|i am staying at|
we're staying at|staying at|i work at|i work in|i work for|i work on|i'm working at|i work near|she works at|
he works at|works at|my office is in|my office is on|my office is at|my office is near|our office is in|
my work is in|my work is at|my job is at|my job is in|my school is|i study at|i go to school at|i'm a student at|
i teach at|i grew up in|i grew up on|i'm from|i am from|i come from|originally from|we moved to|i moved to|
i just moved to|my hometown is|my house is on|my house is in|my house is near|our house is on|my home is in|
my home is on|my apartment is on|my apartment is in|my flat is in|at home in|my home in|my house in|back home in|
i'm in|i am in|i'm currently in|i am currently in|i'm near|pick me up at|pick me up from|come get me at|
i'm currently at|i am currently at|i'm now at|i'm still at|i'm right outside|i'm outside|i am outside|we're outside|
i'm inside|i'm by|i'm right by|we're in|we are in|we're near|my hotel is|our hotel is|my hotel is in|my hotel is at|
i'm staying in|we're staying in|my office is|my workplace is|i'm based in|we're based in|i'm located at|
i'm located in|lives at|lives near|lives on|studies at|studies in|study at|teaches at|
stays at|i'm parked outside|parked outside|parked at|parked on|i'm waiting at|i'm waiting outside|waiting outside|
i'm standing at|i'm standing outside|i'm stuck at|i'm stuck on|
meet me at|i'm parked at|from home in|i'm working from|working from|we're camping at|camping at|
camping in|i'm home in|we're home in|i'm back home in|i'm parked on|i'm outside|born in|go to|goes to|attend|attends|i'm staying near
""".replace("\n", "").split("|") if c.strip()]

    def _after_cues(self, doc, res):
        """Cues after the place: "the weather in leeds where i live"; "i'm a nurse at X" (a job, then "at")."""
        if "where" in doc.wordset:
            for i, w in enumerate(doc.words):
                if w == "where" and any(doc.phrase_at(i, t) for t in _WHERE_I):
                    for k in range(i - 1, max(-1, i - 6), -1):
                        if doc.words[k] in ("in", "at", "near", "on"):
                            if k + 1 < i:
                                res.append(Result(k + 1, i, "LOCATION", 0.8, self.name))
                            break
                        if doc.words[k] in VALUE_STOP or doc.words[k] in FUNCTION_WORDS and doc.words[k] != "the":
                            break
        eng = english_words()
        for i in range(1, doc.n - 3):
            # "my gym is on elm street", "our office is in the fenwick tower"
            if doc.words[i - 1] in ("my", "our") and doc.words[i] in _MY_PLACES and doc.words[i + 1] in ("is", "'s") \
                    and doc.words[i + 2] in ("on", "in", "at", "near", "by", "off"):
                v = place_value(doc, i + 3)
                if v and _placeish(doc, v, loose=True) and not (is_number_word(doc.words[v[0]]) and v[1] - v[0] <= 2 and
                                                    doc.w(v[1]) not in STREET_TYPES):
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(1, doc.n - 2):
            # "visiting my mom in tampa": where a relative is or lives
            if doc.words[i] in RELATIONS and doc.words[i - 1] in ("my", "our", "his", "her") and \
                    doc.words[i + 1] in ("in", "at", "near", "from") and doc.words[i + 2] not in eng and \
                    doc.words[i + 2] not in FUNCTION_WORDS and not is_number_word(doc.words[i + 2]):
                v = place_value(doc, i + 2)
                if v:
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(1, doc.n - 2):
            # "my daughter is at lincoln elementary", "my husband's in grand rapids": where a relative is now
            w = doc.words[i]
            if doc.words[i - 1] in ("my", "our", "his", "her") and (w in RELATIONS or w.endswith("'s") and
                                                                     w[:-2] in RELATIONS):
                k = i + 1 if w.endswith("'s") else (i + 2 if doc.words[i + 1] in ("is", "was", "are", "were")
                                                    else None)
                if k is not None and doc.w(k) in ("at", "in") and not doc.w(k + 1) in RELATIONS:
                    room = room_value(doc, k + 1)  # "my father is in room twelve of the cardiac ward"
                    if room:
                        res.append(Result(room[0], room[1], "LOCATION", 0.8, self.name))
                        continue
                    v = place_value(doc, k + 1)
                    if v and all(x in RELATIONS or x.endswith("'s") and x[:-2] in RELATIONS or x in ("the", "my", "our")
                                 for x in doc.words[v[0]:v[1]]):
                        continue  # "my kids are at grandma's"
                    if v and (_placeish(doc, v) or doc.words[v[1] - 1] in INSTITUTIONS and v[1] - v[0] >= 2) and \
                            not is_number_word(doc.words[v[0]]):
                        res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(1, doc.n - 2):
            # "my son's school is maplewood middle", "my wife's office is in the hanley building"
            w = doc.words[i]
            if doc.words[i - 1] in ("my", "our", "his", "her") and w.endswith("'s") and w[:-2] in RELATIONS and \
                    doc.words[i + 1] in _MY_PLACES and doc.w(i + 2) in ("is", "'s"):
                k = i + 3 + (doc.w(i + 3) in ("on", "in", "at", "near", "by", "called"))
                v = place_value(doc, k)
                if v and (_placeish(doc, v) or doc.words[v[1] - 1] in INSTITUTIONS):
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))
        for i in range(doc.n - 3):
            if doc.words[i] in ("i'm", "im") and doc.words[i + 1] in ("a", "an") and doc.words[i + 3] in ("at", "in"):
                v = place_value(doc, i + 4)
                if v and doc.words[i + 2].isalpha() and doc.words[i + 2] not in FUNCTION_WORDS:
                    res.append(Result(v[0], v[1], "LOCATION", 0.8, self.name))

    def __init__(self):
        self.by_first = {}
        for t in self.CUES:
            self.by_first.setdefault(t[0], []).append(t)
        for k in self.by_first:
            self.by_first[k].sort(key=len, reverse=True)

    def analyze(self, doc, ctx):
        res = []
        self._after_cues(doc, res)
        if doc.wordset.isdisjoint(self.by_first):
            return res
        eng = english_words()
        for i, w in enumerate(doc.words):
            for t in self.by_first.get(w, ()):
                k = match_loose(doc, i, t)
                if k is None:
                    continue
                if t[-1] in ("go", "goes", "attend", "attends") or t in (("go", "to"), ("goes", "to")):
                    # "my kids go to X", "my daughter attends X": only with a person before
                    before = set(doc.words[max(0, i - 3):i])
                    if not (before & RELATIONS or before & {"i", "we"}):
                        break
                    if doc.w(k) in ("bed", "sleep", "work", "the", "a"):
                        if doc.w(k) != "the":
                            break
                room = room_value(doc, k)
                if room:
                    res.append(Result(room[0], room[1], "LOCATION", 0.88, self.name))
                    break
                if t in (("i'm", "in"), ("i", "am", "in"), ("born", "in")):
                    # "i'm in a meeting" is not a place: need a proper noun
                    if doc.w(k) in eng or doc.w(k) in FUNCTION_WORDS or is_number_word(doc.w(k)):
                        break
                if t[-1] == "outside" and doc.w(k) in ("of", "at"):
                    v = place_value(doc, k + 1)
                else:
                    v = place_value(doc, k)
                if v and (t[-1] in ("is", "attend", "attends") or t[0] in ("my", "our") and "is" in t) and \
                        not _placeish(doc, v, loose=t[-1] not in ("is", "attend", "attends")):
                    break  # "my school is great", "my house is on fire"
                if v is None and doc.w(k) in ("a", "an"):
                    v2 = place_value(doc, k + 1)  # "my parents live in A village near york": a named place in it
                    if v2 and _placeish(doc, v2):
                        v = (k, v2[1])
                if v and (doc.words[v[0] + (doc.words[v[0]] in ("the", "a"))] in _NOT_PLACES or
                          "work" in t and t[-1] in ("in", "on") and doc.words[v[0]] in _FIELDS):
                    break  # "i live in fear of spiders", "we live in hope"
                if v:
                    # a time after "at" is not a place ("i'm at five")
                    if is_number_word(doc.words[v[0]]) and (v[1] - v[0]) <= 2 and doc.w(v[1]) not in STREET_TYPES:
                        break
                    res.append(Result(v[0], v[1], "LOCATION", 0.88, self.name))
                break
        return res
