"""`hushmic redact-text "some text" [--json]` and `hushmic redact-text --jsonl IN.jsonl|-`."""
import json
import sys

from ..errors import BadInput

NAME = "redact-text"
HELP = "redact personal data from spoken-form text (one string, or a JSONL file)"
DESCRIPTION = """Find personal data in spoken-form text ("my number is five five five ...") and replace it with [TYPE] tags.

  hushmic redact-text "call lucy fischer"          -> prints: call [PERSON]
  hushmic redact-text "call lucy fischer" --json   -> {"redacted": ..., "spans": [{"start", "end", "type"}, ...]}
  hushmic redact-text --jsonl IN.jsonl             -> one line per input line:
      {"id": ..., "redacted": "...", "spans": [{"start": s, "end": e, "type": T}, ...]}
      id is copied from the input or is the 0-based line number; start/end are character offsets into the input
      text; spans are sorted and do not overlap. A bad line gets {"id": ..., "error": "..."} and processing goes on.
      Output line N answers input line N, always: join on the position when input ids can repeat or look like
      line numbers.
      Use - to read standard input.

Types: PERSON PHONE EMAIL ADDRESS POSTCODE CREDIT_CARD BANK_ACCOUNT SSN ID_NUMBER DATE_OF_BIRTH AGE DEVICE_ID
MEDICAL PASSWORD LOCATION. Everything runs locally; nothing is logged."""
ORDER = 45


def add_arguments(p):
    p.add_argument("text", nargs="?", help="the text to redact (spoken form, lowercase words)")
    p.add_argument("--jsonl", metavar="IN.jsonl", help='JSON-lines file with a "text" field per line (- for stdin)')
    p.add_argument("--json", action="store_true", help="print the JSON object instead of the redacted text")


def result_object(text, id_=None):
    from ..redact import apply_tags, redact_text

    spans = redact_text(text)
    obj = {} if id_ is None else {"id": id_}
    obj["redacted"] = apply_tags(text, spans)
    obj["spans"] = [{"start": s.start, "end": s.end, "type": s.type} for s in spans]
    return obj


class _NotJSON(ValueError):
    pass


def _no_constant(name):  # NaN, Infinity, -Infinity: Python's json accepts them, JSON does not
    raise _NotJSON(f"{name} is not a JSON value")


def _finite_float(text):
    x = float(text)
    if x != x or x in (float("inf"), float("-inf")):
        raise _NotJSON(f"{text} is too large for a JSON number here")
    return x


def process_line(line, lineno):
    """One JSONL input line -> one output object (never raises for bad input). Whatever the input holds, the
    output is strict JSON: NaN, Infinity and numbers that overflow to them are refused on their line, as is
    nesting too deep to parse."""
    id_ = lineno
    try:
        item = json.loads(line, parse_constant=_no_constant, parse_float=_finite_float)
    except _NotJSON as e:
        return {"id": id_, "error": f"line {lineno + 1}: not valid JSON ({e})"}
    except ValueError as e:
        return {"id": id_, "error": f"line {lineno + 1}: not valid JSON ({getattr(e, 'msg', None) or e})"}
    except RecursionError:
        return {"id": id_, "error": f"line {lineno + 1}: nested too deeply to read"}
    if not isinstance(item, dict):
        return {"id": id_, "error": f"line {lineno + 1}: expected a JSON object"}
    if "id" in item:
        id_ = item["id"]
    text = item.get("text")
    if not isinstance(text, str):
        what = "no \"text\" field" if "text" not in item else "\"text\" is not a string"
        return {"id": id_, "error": f"line {lineno + 1}: {what}"}
    try:
        return result_object(text, id_)
    except Exception as e:  # a detector bug must not stop the file; report it on the line
        return {"id": id_, "error": f"line {lineno + 1}: redaction failed ({type(e).__name__})"}


def run(args):
    from ..cli import emit_json

    if args.jsonl is not None and args.text is not None:
        raise BadInput("give either TEXT or --jsonl FILE, not both")
    if args.jsonl is None:
        if args.text is None:
            raise BadInput('nothing to redact: give TEXT or --jsonl FILE (see hushmic redact-text --help)')
        obj = result_object(args.text)
        if args.json:
            emit_json(obj)
        else:
            sys.stdout.write(obj["redacted"] + "\n")
        return 0
    if args.jsonl == "-":
        stream = sys.stdin
        close = False
    else:
        try:
            stream = open(args.jsonl, encoding="utf-8-sig", errors="replace")
        except FileNotFoundError:
            raise BadInput(f"{args.jsonl}: no such file") from None
        except IsADirectoryError:
            raise BadInput(f"{args.jsonl}: is a directory") from None
        except OSError as e:
            raise BadInput(f"{args.jsonl}: cannot read ({e.strerror or e})") from None
        close = True
    try:
        for lineno, line in enumerate(stream):
            line = line.rstrip("\r\n")
            if lineno == 0:
                line = line.lstrip("\ufeff")
            if not line.strip():
                emit_json({"id": lineno, "error": f"line {lineno + 1}: empty line"})
                continue
            emit_json(process_line(line, lineno))
    finally:
        if close:
            stream.close()
    return 0
