"""Optional second opinion from Microsoft Presidio, run on digit-converted text. Not the default path.

    from hushmic.redact import redact_text
    from hushmic.redact.presidio_adapter import available, second_opinion, union
    spans = redact_text(text)
    if available():
        spans = union(text, spans, second_opinion(text))

Presidio expects written text ("555 1234"), so spoken digit runs are converted first with hushmic's number parser and
Presidio's findings are mapped back to whole tokens of the original text. It uses spaCy NER when an English spaCy
pipeline is installed (none is bundled: the one reachable here is an unofficial mirror), else its regex recognizers.
Measured on the dev set (bench/pii_bench.py) it adds nothing hushmic misses and over-redacts 29 % of harmless items
with spaCy, so it is off unless asked for. Install: pip install 'hushmic[bench-pii]'. Runs offline.
"""
from functools import lru_cache

from . import Span
from .doc import Doc

_TYPES = {"PERSON": "PERSON", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CREDIT_CARD",
          "US_SSN": "SSN", "US_BANK_NUMBER": "BANK_ACCOUNT", "IBAN_CODE": "BANK_ACCOUNT", "LOCATION": "LOCATION",
          "DATE_TIME": "DATE_OF_BIRTH", "US_DRIVER_LICENSE": "ID_NUMBER", "US_PASSPORT": "ID_NUMBER",
          "UK_NHS": "ID_NUMBER", "MEDICAL_LICENSE": "ID_NUMBER", "IP_ADDRESS": "DEVICE_ID", "US_ITIN": "ID_NUMBER",
          "NRP": "LOCATION", "URL": "EMAIL", "UK_NINO": "ID_NUMBER"}


def available():
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        return False
    return True


def digits_first(text):
    """Spoken digit runs -> digits ("five five five" -> "555"). Returns (converted text, mapping), where mapping holds
    (converted start, converted end, original start, original end) for every piece."""
    doc = Doc(text)
    pieces, i = [], 0
    while i < doc.n:
        j = doc.run(i)
        if j > i:
            d = doc.digits(i, j)
            if d:
                pieces.append((d, doc.starts[i], doc.ends[j - 1]))
                i = j
                continue
        pieces.append((text[doc.starts[i]:doc.ends[i]], doc.starts[i], doc.ends[i]))
        i += 1
    conv, mapping, pos = [], [], 0
    for s, a, b in pieces:
        conv.append(s)
        mapping.append((pos, pos + len(s), a, b))
        pos += len(s) + 1
    return " ".join(conv), mapping


def back_map(mapping, start, end):
    """Original (start, end) covering every piece that overlaps [start, end) of the converted text, or None."""
    hit = [(a, b) for (cs, ce, a, b) in mapping if cs < end and start < ce]
    return (min(a for a, _ in hit), max(b for _, b in hit)) if hit else None


@lru_cache(maxsize=4)
def analyzer(mode="auto"):
    """A callable text -> Presidio results: spaCy NER when a pipeline is installed (mode "auto"), else regex only."""
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    model = None
    if mode != "regex":
        try:
            import spacy.util

            installed = spacy.util.get_installed_models()
            for pref in ("en_core_web_lg", "en_core_web_md", "en_core_web_sm"):
                model = next((m for m in installed if m.startswith(pref)), None)
                if model:
                    break
        except ImportError:
            model = None
    if model:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
        engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine(),
                                supported_languages=["en"])
        run = lambda t: engine.analyze(t, language="en")  # noqa: E731
        run.description = f"spaCy {model}"
        return run
    from presidio_analyzer import PatternRecognizer, RecognizerRegistry

    reg = RecognizerRegistry()
    reg.load_predefined_recognizers()
    pats = [r for r in reg.recognizers if isinstance(r, PatternRecognizer) and r.supported_language == "en"]

    def run(t):
        out = []
        for r in pats:
            out.extend(r.analyze(t, entities=r.supported_entities, nlp_artifacts=None) or [])
        return out
    run.description = "regex recognizers only"
    return run


def second_opinion(text, min_score=0.3, mode="auto"):
    """Presidio's findings as hushmic Spans over whole tokens of `text` (may overlap each other; see `union`)."""
    conv, mapping = digits_first(text)
    out = []
    for r in analyzer(mode)(conv):
        m = back_map(mapping, r.start, r.end)
        if m and r.score >= min_score:
            out.append(Span(m[0], m[1], _TYPES.get(r.entity_type, r.entity_type), round(float(r.score), 3)))
    return sorted(out, key=lambda s: (s.start, s.end))


def union(text, primary, extra):
    """Spans covering everything either list covers: primary spans win; the rest of `extra` fills uncovered tokens."""
    doc = Doc(text)
    owner = [None] * doc.n
    for rank, spans in ((1, extra), (0, primary)):
        for s in spans:
            for k in range(doc.n):
                if doc.starts[k] < s.end and s.start < doc.ends[k]:
                    owner[k] = s
    out, k = [], 0
    while k < doc.n:
        s = owner[k]
        if s is None:
            k += 1
            continue
        m = k
        while m + 1 < doc.n and owner[m + 1] is s:
            m += 1
        out.append(Span(doc.starts[k], doc.ends[m], s.type, s.score))
        k = m + 1
    return out
