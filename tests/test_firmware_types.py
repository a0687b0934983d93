"""pyright, basic mode, finds 0 errors in firmware/ checked against the MicroPython ESP32-S3 port's stubs.

What it proves: every firmware module uses the esp32 port's API as its stubs declare it (machine.I2S/Pin, time.ticks_*,
micropython.const/viper, select, gc...), no attribute is read off a value that can be None without a check (the mute
IRQ is soft and sets capture.i2s = None at any bytecode), and every call matches its callee's signature. The
configuration is firmware/pyrightconfig.json; the stubs are pinned in the Makefile (MPY_STUBS) and installed by
`make setup` into .venv/mpy-stubs, outside the host venv's site-packages; pyright is pinned in pyproject's test extra.

A stub gap is silenced only on its line, `# pyright: ignore[rule]  # why`: the checks at the bottom keep it that way.
Nothing is downloaded: the pyright wheel bundles pyright, and [nodejs] brings node as a wheel.
"""
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
CONFIG = FIRMWARE / "pyrightconfig.json"
PYRIGHT = Path(sys.executable).parent / "pyright"
HINT = ("run `make setup` (it installs the pinned pyright[nodejs] from pyproject's test extra and the MicroPython stubs "
        "of the Makefile's MPY_STUBS into .venv/mpy-stubs)")


def _config():
    text = CONFIG.read_text()
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))  # pyright's config is JSON with // comments


def _stubs_dir():
    return (CONFIG.parent / _config()["typeshedPath"]).resolve()


def _pinned(line_re, text):
    """{name: version} of the `name==version` pins on the line of text that line_re matches (its group 1)."""
    line = re.search(line_re, text, re.M)
    assert line, line_re
    return dict(re.findall(r"([A-Za-z0-9_.\-\[\]]+)==([0-9][A-Za-z0-9.]*)", line.group(1)))


@functools.lru_cache(maxsize=None)
def _run_pyright():
    """pyright's JSON report on firmware/, or a str saying why there is none. Run once for the tests below."""
    if not PYRIGHT.exists():
        return f"pyright is not installed in this venv ({PYRIGHT}): {HINT}"
    stubs = _stubs_dir()
    if not (stubs / "machine.pyi").exists() or not (stubs / "stdlib" / "builtins.pyi").exists():
        return f"the MicroPython stubs are not at {stubs}: {HINT}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYRIGHT_PYTHON_")}  # none may force a download
    env["PYRIGHT_PYTHON_IGNORE_WARNINGS"] = "1"  # no check for a newer pyright on PyPI
    r = subprocess.run([str(PYRIGHT), "--outputjson", "--project", str(CONFIG)], capture_output=True, text=True,
                       env=env, cwd=REPO, timeout=300)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return f"pyright gave no JSON report (rc {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"


def _report():
    out = _run_pyright()
    if isinstance(out, str):  # a missing pyright or stubs FAILS: CI installs both with `make setup`
        pytest.fail(out, pytrace=False)
    return out


def test_firmware_has_no_pyright_errors():
    report = _report()
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    lines = []
    for d in errors:
        path = Path(d["file"])
        name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        rule = f" ({d['rule']})" if d.get("rule") else ""
        lines.append(f"{name}:{d['range']['start']['line'] + 1}: {d['message']}{rule}")
    if errors:
        pytest.fail(f"pyright found {len(errors)} error(s) in firmware/:\n" + "\n".join(lines), pytrace=False)


def test_every_firmware_module_was_checked():
    report = _report()
    sources = sorted(FIRMWARE.glob("*.py"))
    assert report["summary"]["filesAnalyzed"] == len(sources), (report["summary"], [p.name for p in sources])


def test_the_pinned_versions_are_the_ones_that_ran():
    """A venv made before a pin moved would check against other stubs, or another pyright, than CI's."""
    report = _report()
    want = _pinned(r'^test = \[(.*)\]', (REPO / "pyproject.toml").read_text())
    assert report["version"] == want["pyright[nodejs]"], (report["version"], want, HINT)
    stubs = _stubs_dir()
    installed = {p.name.lower() for p in stubs.glob("*.dist-info")}
    pins = _pinned(r"^MPY_STUBS\s*=(.*)$", (REPO / "Makefile").read_text())
    assert len(pins) >= 2, pins  # the port's stubs and the stdlib stubs they build on
    for name, version in pins.items():
        dist = re.sub(r"[-_.]+", "_", name).lower()
        found = sorted(d for d in installed if d.startswith(dist + "-"))
        assert found == [f"{dist}-{version}.dist-info"], (name, version, found, HINT)


def test_the_check_is_not_weakened():
    """Basic mode at least, all of firmware/, and no blanket switch-off: a gap is silenced on its line, by rule,
    with a reason after it."""
    cfg = _config()
    assert cfg["typeCheckingMode"] in ("basic", "standard", "strict"), cfg
    assert not {"exclude", "ignore"} & set(cfg), cfg
    assert cfg.get("enableTypeIgnoreComments") is False  # a bare `# type: ignore` would hide every rule
    off = {k: v for k, v in cfg.items() if k.startswith("report") and v in ("none", False, "information", "warning")}
    assert off == {"reportMissingModuleSource": "none"}, off  # stubs have no .py source beside them: that one only
    bad = []
    for src in sorted(FIRMWARE.glob("*.py")):
        for n, line in enumerate(src.read_text().splitlines(), 1):
            for m in re.finditer(r"#\s*(pyright|type)\s*:(.*)", line):
                ok = m.group(1) == "pyright" and re.match(r"\s*ignore\[\w+(,\s*\w+)*\]\s+#\s*\S", m.group(2))
                if not ok:
                    bad.append(f"{src.name}:{n}: {line.strip()}")
    assert not bad, "a pyright comment that is not `# pyright: ignore[rule]  # reason`:\n" + "\n".join(bad)
