"""Number words in the spoken form of `../shared/eval/pii/README.md`: "forty two", "nineteen eighty five",
"two thousand ten", digit strings digit by digit ("five five five"), ordinals ("twenty third"). No "and"."""

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = [(10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"), (100, "hundred")]
ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
       "twelve": "twelfth"}


def cardinal(n: int) -> list:
    if n < 0:
        return ["minus"] + cardinal(-n)
    if n < 20:
        return [ONES[n]]
    if n < 100:
        t, o = divmod(n, 10)
        return [TENS[t]] + ([ONES[o]] if o else [])
    for value, name in SCALES:
        if n >= value:
            hi, lo = divmod(n, value)
            return cardinal(hi) + [name] + (cardinal(lo) if lo else [])
    raise AssertionError(n)


def ordinal(n: int) -> list:
    words = cardinal(n)
    last = words[-1]
    if last in ORD:
        last = ORD[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return words[:-1] + [last]


def digits(s: str) -> list:
    return [ONES[int(c)] for c in s if c.isdigit()]


def year(n: int) -> list | None:
    """'nineteen eighty five', 'nineteen oh five', 'nineteen hundred', 'two thousand five', 'twenty twenty four'."""
    if 2000 <= n <= 2009:
        return cardinal(n)
    if 1100 <= n <= 2099:
        hi, lo = divmod(n, 100)
        if lo == 0:
            return cardinal(hi) + ["hundred"]
        if lo < 10:
            return cardinal(hi) + ["oh", ONES[lo]]
        return cardinal(hi) + cardinal(lo)
    return None


def readings(s: str) -> list:
    """Plausible spoken readings of a bare digit string, most likely first (the aligner picks among them)."""
    out = []

    def add(r):
        if r and r not in out:
            out.append(r)

    n = int(s)
    if len(s) > 1 and s[0] == "0":
        add(digits(s))
        add(["oh" if w == "zero" else w for w in digits(s)])
        return out
    if len(s) <= 2:
        add(cardinal(n))
        add(digits(s))
    elif len(s) == 3:
        if n % 100 == 0 or n % 10 == 0:
            add(cardinal(n))
            add(digits(s))
            if n % 100:
                add(cardinal(n // 100) + cardinal(n % 100))      # "730": "seven thirty" (Whisper base writes times so)
        else:
            add(digits(s))
            add(cardinal(n))
            add(cardinal(n // 100) + cardinal(n % 100))          # "five fifty five" (times, prices)
    elif len(s) == 4:
        y = year(n)
        if y and n % 100 != 0:
            add(y)
            add(digits(s))
            add(cardinal(n))
        elif n % 100 == 0:
            add(cardinal(n))
            add(y)
            add(digits(s))
        else:
            add(digits(s))
            add(cardinal(n))
            add(cardinal(n // 100) + cardinal(n % 100))
        if 2010 <= n <= 2099:
            add(cardinal(n))
    else:
        add(digits(s))
        if len(s) <= 7 and n % 1000 == 0:
            add(cardinal(n))
    oh = [["oh" if w == "zero" else w for w in r] for r in out if "zero" in r and len(r) > 1]
    for r in oh:
        add(r)
    return out
