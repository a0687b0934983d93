"""Issue 13: the CLI's contract under hostile input. stdout is strict JSON whatever the input holds (defect 7), a
line nested 100k deep is an error object for that line, not a crash of the run (defect 5), and the friction items
on arguments and messages."""
import json

import numpy as np
import pytest

from hushmic.cli import emit_json, main as cli_main
from hushmic.store import Store


def _strict(line):
    def bad(name):
        raise AssertionError(f"{name} on stdout is not JSON: {line!r}")
    return json.loads(line, parse_constant=bad)


def test_redact_text_jsonl_output_is_strict_json_for_any_input(tmp_path, capsys):
    lines = [
        '{"id": NaN, "text": "call lucy fischer"}',
        '{"id": Infinity, "text": "hi"}',
        '{"id": -Infinity, "text": "hi"}',
        '{"id": 1e999, "text": "hi"}',
        '{"id": "ok", "text": "my number is five five five one two one two"}',
        "[" * 100000 + "]" * 100000,
        '{"id": 7, "text": "bye", "extra": [1e400]}',
        '{"text": "last line"}',
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    assert cli_main(["redact-text", "--jsonl", str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(lines)
    objs = [_strict(o) for o in out]
    for i in (0, 1, 2, 3, 6):
        assert objs[i]["id"] == i and "not valid JSON" in objs[i]["error"], objs[i]
    assert objs[4]["id"] == "ok" and "[PHONE]" in objs[4]["redacted"]
    assert objs[5] == {"id": 5, "error": "line 6: nested too deeply to read"}
    assert objs[7]["id"] == 7 and objs[7]["redacted"] == "last line"


def test_emit_json_never_prints_nan(capsys):
    emit_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": float("-inf")}})
    assert _strict(capsys.readouterr().out) == {"a": None, "b": [None, 1.5], "c": {"d": None}}
