"""Name and dictionary lists (loaded once, lazily) used by the PERSON recognizer.

- `first_names.txt`: US Census 1990 first names with their best frequency rank (public domain; shipped by the MIT
  PyPI package `names` 0.3.0, from which this compact copy was made).
- `last_names.txt`: the 30,000 most frequent US Census 1990 surnames, in rank order (same source).
- `english_words.txt.gz`: the lowercase entries of SCOWL's american-english list (Debian `wamerican`), used to tell
  names that are also ordinary words ("grace", "will", "mark") from names that are not ("emily", "kevin").
Licences: docs/threat-model.md.
"""
import gzip
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _lines(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line and not line.startswith("#"):
                line = line.strip()
                if line:
                    yield line


@lru_cache(maxsize=None)
def first_names():
    """{name: rank} (1 = most common)."""
    out = {}
    for line in _lines(DATA / "first_names.txt"):
        name, rank = line.split()
        out[name] = int(rank)
    return out


@lru_cache(maxsize=None)
def last_names():
    """{surname: rank}."""
    return {name: k + 1 for k, name in enumerate(_lines(DATA / "last_names.txt"))}


@lru_cache(maxsize=None)
def english_words():
    return frozenset(_lines(DATA / "english_words.txt.gz"))
