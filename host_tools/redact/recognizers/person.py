"""Private people's names: census lists, cue words, spelled names."""
from bisect import bisect_right

from ..doc import Result
from ..lexicon import (BRANDS, FILLERS, FUNCTION_WORDS, LETTER_NAMES, LETTERS, MEDIA_CUES, MEDICAL_HEADS, MEDICAL_TERMS, MONTHS,
                       NATO, PLACE_NAMES, RELATIONS, TITLES, UNITS, US_STATES, VALUE_STOP)
from ..names import english_words, first_names, last_names
from ..numbers import is_number_word
from .base import Recognizer, tup


_CONTACT_VERBS = frozenset("call text message msg email e-mail ring phone facetime tell remind ask invite meet contact "
                           "ping dm notify congratulate visit pay venmo thank greet page calling texting messaging "
                           "emailing phoning ringing telling reminding asking inviting paying thanking owe owes lend lent".split())
# social verbs: "i'm meeting siobhan", "seeing kevin tonight"; a place name after them is a place ("visiting paris")
_SOCIAL_VERBS = frozenset("meeting seeing visiting met saw visited meets sees visits".split())
_NAME_INTRO = [tup(c) for c in ("this is", "my name is", "my name's", "name is", "name's", "i'm", "i am", "im",
                                 "call me", "it's", "its", "speaking with", "talking to", "talk to", "speak to",
                                 "speak with", "message from", "call from", "text from", "email from", "meeting with",
                                 "lunch with", "dinner with", "coffee with", "appointment with", "meet with",
                                 "chat with", "date with", "call with", "message to", "text to", "email to",
                                 "letter to", "note to", "reply to", "respond to", "send it to", "send this to",
                                 "forward this to", "forward it to", "save as", "as", "and", "with", "from", "to", "for",
                                 "add", "send", "write to", "write", "named", "called", "whose name is", "say hi to",
                                 "say hello to", "wish", "happy birthday to", "happy birthday", "last name is",
                                 "surname is", "first name is", "family name is", "middle name is", "spelled",
                                 "spelt", "last name's", "surname's", "first name's", "surname", "last name",
                                 "first name", "family name", "under the name", "under the name of",
                                 "in the name of", "reservation under", "booked under", "booking under",
                                 "table under", "order under", "it's under", "put it under", "name on the account is",
                                 "the name on it is", "name on the card is")]
# what may sit between a name and its spelling: "novak, THAT'S n o v a k", "dunleavy AS IN delta uniform ..."
_SPELLING_LINKS = [tup(c) for c in ("that's spelled", "thats spelled", "it's spelled", "its spelled", "spelled",
                                    "spelt", "that's", "thats", "it's", "its", "that is", "as in", "spelled as",
                                    "which is", "like", "so")]
_NOT_NAME = FUNCTION_WORDS | RELATIONS | VALUE_STOP | UNITS | MONTHS | MEDIA_CUES | BRANDS | FILLERS | frozenset(
    """monday tuesday wednesday thursday friday saturday sunday morning afternoon evening night noon midnight
    everyone everybody back home work office mom dad god siri alexa google cortana lights light music timer alarm
    reminder list contacts contact number phone email message text call someone somebody people
    dear hi hey hello yes yeah okay mister doctor""".split())
_POSSESSED = frozenset("birthday birthdays number phone cell email address house home place party wedding mom dad "
                       "mother father wife husband kids son daughter car appointment flight bday gift present "
                       "anniversary office room school graduation funeral contact contacts details info account card password pin".split())
_CONTRACTIONS = frozenset("it's that's what's who's where's there's here's let's he's she's how's when's why's today's "
                          "tomorrow's tonight's everyone's somebody's someone's one's mom's dad's".split())


# first names that are also dictionary words, but whose word sense is rare in speech ("peter out", "a jenny")
NAME_OVER_WORD = frozenset("""peter harry jimmy ken tony jerry terry barry larry gary eddie billy bobby johnny jenny
abby betty kitty nancy timothy stan molly polly dolly sally jill jackie andy benny danny lenny kenny teddy freddy
ricky nicky micky vicky tommy bridget carol""".split())
_SUBJECT_VERBS = frozenset("""has had is was needs needed wants wanted said says called texted asked told likes loves
hates can can't cannot will won't should must just also doesn't didn't isn't wasn't gets got takes took""".split())
_FOR_OBJECTS = frozenset("""gift present card table reservation appointment ticket tickets message note flowers cake
party surprise something anything room seat it this one""".split())
_FROM_OBJECTS = frozenset("""message messages text texts email emails call calls letter note gift present package
voicemail voicemails anything news card it this""".split())
_BUSINESS = frozenset("""pizza pizzeria diner garage bakery cafe restaurant grill bar pub shop store salon auto
plumbing hardware market deli tavern kitchen bistro burgers tacos bbq barbershop cleaners pharmacy clinic dental
florist boutique motors tire tires liquor wine steakhouse sushi noodles inn hotel motel spa gym fitness""".split())
_PLACE_PREFIX = frozenset("san santa st saint fort ft port mount mt lake new north south east west los las el la de "
                          "del port upper lower".split())
_PLACE_SUFFIX = frozenset("city county beach springs falls valley heights park hills island islands bay harbor "
                          "village town township hole creek river lake mountain mountains canyon station airport "
                          "street road avenue boulevard lane drive".split())
_SAYING_VERBS = frozenset("said says called texted asked told wants wanted needs needed likes loves hates".split())
_PERSON_VERBS = frozenset("has had needs needed wants wanted said says called texted asked told likes loves hates "
                          "gets got takes took".split())
# words that follow a name in a command without being a surname ("call kevin back", "text sarah tonight")
_SURNAME_BLOCK = frozenset("""back later now again right away instead first then quickly asap real please too also
maybe tomorrow tonight today morning afternoon evening night weekend mobile cell work home office speaker
speakerphone video voice direct directly immediately soon anyway yet still next last monday tuesday wednesday
thursday friday saturday sunday know""".split())
# surnames that a recogniser writes as a word ("grace right" for wright, "tom white"); a surname only after a name
# and when the word does not go with what follows ("call kevin right away", "text sam right now")
_WORD_SURNAMES = frozenset("right write rite".split())
_AFTER_RIGHT = frozenset("""away now back there here after before when then this that as on at in to so and please
back thanks now""".split())
_NOT_NAME_SET = frozenset("them him her me us it everyone everybody someone somebody".split())
_FAMILY_TITLES = frozenset("aunt auntie uncle grandma grandpa nana granny gran grandad granddad cousin".split())
_AUXILIARIES = frozenset("did does do will would can could should shall may might must didn't doesn't won't".split())
# "emeka is PICKING up the kids": what a person (not a virus or a shop) is doing
_PERSON_ING = frozenset("""picking coming going bringing driving cooking calling visiting staying taking working sleeping
feeling leaving arriving waiting running walking flying joining helping making meeting dropping babysitting hosting
moving studying""".split())
_NAME_NEVER = frozenset("home office work everyone everybody someone somebody back mobile cell".split())
_CONTACT_BOOK = frozenset("contacts contact phonebook favorites favourites".split())
_GIVING = frozenset("send sent give gave message text email write forward reply say talk speak ship deliver mail "
                    "post hand pass introduce".split())


_SPELLING_LINK_INDEX = {}
for _t in _SPELLING_LINKS:
    _SPELLING_LINK_INDEX.setdefault(_t[0], []).append(_t)


def _letter_of(w):
    """The letter a spelling token stands for ("k", "kilo", "zed"), else None."""
    if len(w) == 1 and w in LETTERS:
        return w
    return NATO.get(w) or LETTER_NAMES.get(w)


def _after_spelling_link(doc, k):
    """Index after fillers and a spelling link ("that's", "it's spelled", "as in") at k."""
    while doc.w(k) in FILLERS:
        k += 1
    for t in _SPELLING_LINK_INDEX.get(doc.w(k), ()):
        if doc.phrase_at(k, t):
            k += len(t)
            break
    while doc.w(k) in FILLERS:
        k += 1
    return k


def _spelled(doc, k):
    """(end, letters) of the run of spelling tokens (letters, spelling-alphabet words, fillers) at k."""
    j, letters = k, []
    while j < doc.n:
        w = doc.words[j]
        c = _letter_of(w)
        if c is not None:
            letters.append(c)
        elif w and w not in FILLERS:
            break
        j += 1
    while j > k and (not doc.words[j - 1] or doc.words[j - 1] in FILLERS):
        j -= 1
    end = doc.code_end(k, j)  # "s m i t h I think"
    if end < j:
        j, letters = end, [c for w in doc.words[k:end] for c in [_letter_of(w)] if c]
    return j, "".join(letters)


class PersonRecognizer(Recognizer):
    """Private people's names.

    A name is a word from the census first-name or surname lists, or (right after a strong cue such as "call",
    "my name is", "this is") any word that is not an ordinary English word. Names that are also ordinary words
    ("grace", "will") need such a cue; names that are not ("emily", "kevin") count anywhere except in media and
    knowledge requests ("play songs by taylor swift") and after place prepositions ("weather in austin").
    A following surname is folded in; "robert's" keeps its possessive; titles are not part of the span."""
    entity = "PERSON"
    name = "person"

    def __init__(self, cue_words=frozenset()):
        # cue words of the other recognizers are never names ("the mac address", "pin")
        self.cue_words = frozenset(cue_words)
        self.not_name = _NOT_NAME | self.cue_words
        self.intro = {}
        for t in _NAME_INTRO:
            self.intro.setdefault(t[-1], []).append(t)

    def analyze(self, doc, ctx):
        fn, ln, eng = first_names(), last_names(), english_words()
        not_name, cue_words = self.not_name, self.cue_words
        res = []
        taken = set()

        def base(w):
            return w[:-2] if w.endswith("'s") else w

        def strongish(w):  # acceptable right after a strong cue
            b = base(w)
            if not b or len(b) < 2 or w in _CONTRACTIONS or is_number_word(b):
                return False
            if b in FUNCTION_WORDS or b in VALUE_STOP or b in RELATIONS or b in TITLES or b in FILLERS or \
                    b in cue_words or b in _NAME_NEVER:
                return False
            # a census first name wins over the softer exclusions (months, units, brands): "call august", "jan's"
            if (b in not_name or b in NATO) and b not in fn:
                return False
            return b in fn or b in ln or b not in eng

        def bare(w):  # acceptable with no cue at all
            b = base(w)
            if w in not_name or b in not_name or w in _CONTRACTIONS or (b in eng and b not in NAME_OVER_WORD):
                return False
            if b in PLACE_NAMES:
                return False
            return fn.get(b, 10 ** 9) <= 1500

        def surname(w):
            b = base(w)
            if w in not_name or b in not_name or is_number_word(b) or b in MONTHS or len(b) < 2 or \
                    b in _SURNAME_BLOCK or b in _SUBJECT_VERBS:
                return False
            if b in eng:
                return b in ln  # "brad moon", "maude shoemaker"; adverbs and verbs are blocked above
            return b.isalpha() or "'" in b

        def extend(i):
            j = i + 1
            if doc.words[i].endswith("'s") or doc.w(i - 1) in _AUXILIARIES:
                return j  # "what did yolanda SAY": after an auxiliary the word after the name is its verb
            while j < doc.n and j - i < 3 and (surname(doc.words[j]) or doc.words[j] in _WORD_SURNAMES and
                                                   doc.w(j + 1) not in _AFTER_RIGHT and j + 1 < doc.n):
                j += 1
                if doc.words[j - 1].endswith("'s"):
                    return j
            if len(doc.w(j)) == 1 and doc.w(j) in LETTERS and len(doc.w(j + 1)) == 1 and doc.w(j + 1) in LETTERS:
                j = max(j, doc.run(j, letters=True, nato=False))  # "anna k o w a l s k a"
            return j

        def add(i, score, why):
            if i in taken:
                return None
            j = extend(i)
            if doc.words[j - 1].endswith("'s") and doc.w(j) in _BUSINESS or doc.w(j) in _BUSINESS and \
                    doc.w(j) not in _POSSESSED:
                return None  # a business the user calls: "call joe's pizza", "call tony's garage"
            for k in range(i, j):
                taken.add(k)
            res.append(Result(i, j, "PERSON", score, why))
            return j

        media = ctx.media or ctx.knowledge
        for i, w in enumerate(doc.words):
            if i in taken or not w:
                continue
            strong = False
            p2, p1 = doc.prevs(i, 2)
            # titles: "doctor fischer", "mrs chen"
            if p1 in TITLES and p1 not in ("father", "sister") or p1 in ("mr", "mrs", "ms"):
                strong = True
            elif p1 in _CONTACT_VERBS and not (media and p1 in ("tell",)):
                strong = True
            elif p1 in _SOCIAL_VERBS and base(w) not in PLACE_NAMES and not media:
                strong = True
            elif p1 in _FAMILY_TITLES and base(w) in fn and base(w) not in _SUBJECT_VERBS:
                strong = True  # "call grandma rose", "let aunt rosie know"
            elif (p1 in ("it's", "its") or p1 == "is" and p2 == "this") and doc.w(i + 1) == "from" and \
                    base(w).isalpha() and len(base(w)) > 1 and base(w) not in FUNCTION_WORDS and \
                    base(w) not in RELATIONS and base(w) not in VALUE_STOP and i not in taken:
                add(i, 0.85, "person_cue")  # "it's jun from the front desk", "this is ana from billing"
                continue
            elif p1 == "have" and doc.w(i + 1) in _CONTACT_VERBS | {"pick", "bring", "send", "come", "drop"} and \
                    (base(w) not in eng or base(w) in fn) and base(w) not in _NOT_NAME_SET:
                strong = True  # "have brynn call me"
            elif p1 == "the" and doc.w(i + 1) in ("family", "household", "residence", "twins", "house") and \
                    (base(w) in ln or base(w) not in eng) and base(w) not in FUNCTION_WORDS:
                strong = True  # "mail it to the lopez family"
            elif p1 == "put" and doc.w(i + 1) in ("on", "in") and "list" in doc.words[i + 2:i + 5] and \
                    base(w) not in eng:
                strong = True  # "put agnieszka on the guest list"
            elif p1 in RELATIONS and p2 in ("my", "our", "his", "her", "their", "your") and p1 not in (
                    "office", "home", "work", "school", "team", "support", "family"):
                b = base(w)
                strong = b not in eng or b in NAME_OVER_WORD or (
                    fn.get(b, 10 ** 9) <= 1000 and b not in _SUBJECT_VERBS and b not in ("rose", "may", "will"))
            elif (i == 0 or p1 in ("and", "but", "so", "because", "that", "since", "if")) and \
                    doc.w(i + 1) in _SUBJECT_VERBS and (base(w) in fn or base(w) not in eng) and not (
                    base(w) in PLACE_NAMES and doc.w(i + 1) not in _PERSON_VERBS):
                if base(w) in fn:
                    strong = True
                else:
                    # an unknown word before a verb is a person only with a person's verb or a health term after it
                    # ("xiomara has lupus", "zainab said ..."), not "covid is spreading" or "ebay has a sale"
                    nxt = set(doc.words[i + 1:i + 6])
                    strong = doc.w(i + 1) in _SAYING_VERBS or (doc.w(i + 1) in ("has", "had", "is", "was") and bool(
                        nxt & (MEDICAL_TERMS | MEDICAL_HEADS))) or (doc.w(i + 1) in ("is", "was") and
                                                                     doc.w(i + 2) in _PERSON_ING)
            elif w.endswith("'s") and doc.w(i + 1) in _POSSESSED:
                strong = True
            elif w.endswith("s") and doc.w(i + 1) in _POSSESSED and w[:-1] in fn and w[:-1] not in eng and \
                    w not in fn:
                strong = True  # "olivias birthday": a possessive written without the apostrophe
            else:
                for t in self.intro.get(p1, ()):
                    if doc.prevs(i, len(t)) == t:
                        if t[-1] in ("i'm", "i", "am", "im", "it's", "its") and (doc.w(i + 1) in ("years", "year")):
                            break
                        if t in (("and",), ("with",), ("from",), ("to",), ("for",), ("as",), ("add",), ("send",),
                                 ("write",)):
                            # weak intros: need a name-list word, and "and" only after a person
                            if t == ("and",) and not (i - 2 in taken):
                                break
                            if t == ("as",) and "save" not in doc.wordset and "add" not in doc.wordset:
                                break
                            if t == ("for",) and doc.w(i - 2) not in _FOR_OBJECTS:
                                break
                            if t == ("from",) and doc.w(i - 2) not in _FROM_OBJECTS:
                                break
                            b = base(w)
                            contactish = (t == ("and",) or t == ("as",) or t == ("add",) and doc.wordset & _CONTACT_BOOK
                                          or t == ("to",) and doc.wordset & _GIVING
                                          or t == ("send",) and doc.w(i + 1) in ("a", "an", "the", "my", "this", "some"))
                            if b not in fn and b not in ln and not (contactish and b not in eng):
                                break
                            if b in _PLACE_PREFIX:
                                break  # "how many miles to san antonio"
                            if t[-1] in ("to", "from", "with", "for") and b in eng and b not in fn:
                                break
                            if t == ("to",) and not (doc.wordset & _GIVING) and not (
                                    surname(doc.w(i + 1)) and doc.w(i + 1) not in eng and b not in PLACE_NAMES):
                                break
                        if t[-1] in ("i'm", "am", "im", "it's", "its") and (base(w) in eng and base(w) not in fn):
                            break
                        strong = True
                        break
            if not strong and p1 in ("is", "was", "'s") and i >= 3:
                # "the name ON THE BOOKING is yusuf demir", "the name for the reservation is ..."
                for k in range(i - 2, max(-1, i - 7), -1):
                    if doc.words[k] in ("name", "names"):
                        strong = doc.w(k - 1) not in ("user", "screen", "account", "maiden", "pet's", "street",
                                                      "company", "business", "wifi", "network", "file")
                        break
                    if doc.words[k] in VALUE_STOP or doc.words[k] in _SUBJECT_VERBS:
                        break
            if strong and media and p1 not in _CONTACT_VERBS and p1 not in TITLES:
                # in a media request "called"/"named" introduce a title: "play a song called june"
                strong = w in fn and w not in eng and not ctx.knowledge and p1 not in ("called", "named", "titled")
            if strong and len(w) == 1 and w in LETTERS and (len(doc.w(i + 1)) == 1 or doc.w(i + 1) in NATO):
                # a spelled name: "my last name is s m i t h"
                j = doc.run(i, letters=True)
                if j - i >= 2:
                    res.append(Result(i, j, "PERSON", 0.85, "person_spelled"))
                    taken.update(range(i, j))
                    continue
            if strong and strongish(w) or strong and base(w) in fn and (base(w) not in FUNCTION_WORDS or base(w) in (
                    "will", "may")) and \
                    doc.w(i + 1) in ln and surname(doc.w(i + 1)) and "name" in doc.words[max(0, i - 4):i]:
                add(i, 0.85, "person_cue")  # ... also a first name that is a word, with a surname: "will smith"
                continue
            if media:
                continue
            if bare(w):
                if p1 in _PLACE_PREFIX or doc.w(i + 1) in _PLACE_SUFFIX:
                    continue  # "san jose", "jackson hole", "virginia beach"
                # "weather in austin", "flights to paris": a place, unless a surname follows
                j = extend(i)
                if p1 in ("in", "near", "to", "from", "at", "of", "around", "via", "for", "about", "by", "into") and (
                        j == i + 1 or not all(doc.words[k] in ln and doc.words[k] not in US_STATES
                                              for k in range(i + 1, j))):
                    continue
                add(i, 0.7, "person_name_list")
        self._spelling_after(doc, res)
        return res

    @staticmethod
    def _spelling_after(doc, res):
        """A name is often spelled right after it is said ("my surname is novak, that's n o v a k"; "whitcombe,
        whiskey hotel india ..."): letters or spelling-alphabet words after a name are the name too. The spelling
        may start inside a found name (its surname fold took the first letters). And a word followed by its own
        spelling is a name, whatever the word ("it's hull, as in h uniform lima l")."""
        for r in list(res):
            for k0 in range(r.i + 1, r.j + 1):
                if k0 < r.j and _letter_of(doc.words[k0]) is None:
                    continue
                k = _after_spelling_link(doc, k0) if k0 == r.j else k0
                j, letters = _spelled(doc, k)
                if len(letters) >= 3:
                    res.append(Result(k, j, "PERSON", 0.85, "person_spelled"))
                    break
        spelling = [k for k, w in enumerate(doc.words) if _letter_of(w) is not None]
        if not spelling:
            return
        for k, w in enumerate(doc.words):
            if len(w) < 2 or not w.isalpha() or w in FUNCTION_WORDS or w in NATO:
                continue
            nxt = bisect_right(spelling, k)  # the first spelling token after k, if it is near
            if nxt == len(spelling) or spelling[nxt] > k + 5:
                continue
            m = _after_spelling_link(doc, k + 1)
            if _letter_of(doc.w(m)) is None:
                continue
            j, letters = _spelled(doc, m)
            if len(letters) >= 2 and letters == w:
                res.append(Result(k, k + 1, "PERSON", 0.85, "person_spelled"))
                res.append(Result(m, j, "PERSON", 0.85, "person_spelled"))
