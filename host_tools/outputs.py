"""Is this output path allowed? The one check every command that writes a file runs before it does any work.

A command that writes (redact --out, plot -o, listen/demo --save-audio, export OUT/) calls `check_output` first:
the output must be a new path or an existing regular file (a directory for kind="dir": new or empty), and it must
not be

  - empty, or a symlink (even a dangling one: the link decides where the data lands, not the user);
  - an input of the same command (by path after resolving symlinks, and by inode, so hard links count too);
  - inside the hushmic store (the default one and the one given with --store): the store's cleanup deletes files
    it does not know, and a WAV written over `hushmic.db` destroys the store;
  - a device, pipe, socket or directory where a file is expected (as root, a rename over /dev/full replaces the
    device node);
  - in a folder where this user cannot create files (checked by creating and removing a probe file, so /proc, a
    read-only mount or a folder of another user fail here, before minutes of transcription, not after).

Every refusal is a BadInput (exit 2) with one line saying which rule, and naming the path. The check runs before
the write, so a path swapped between the check and the write (a race by another local user with write access to
the folder) is not covered: see docs/threat-model.md, "A hostile local user".
"""
import os
import stat
import tempfile
from pathlib import Path

from .errors import BadInput


def _real(p):
    return os.path.realpath(os.path.abspath(os.fspath(p)))


def _inside(child, parent):
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _nearest_existing(p):
    d = os.path.dirname(p) or "."
    while not os.path.lexists(d):
        up = os.path.dirname(d)
        if up == d:
            break
        d = up
    return d


def check_output(path, inputs=(), stores=None, kind="file", what="output"):
    """Refuse an output path that is not ours to write (see the module docstring). Returns the path as a Path.

    inputs: paths this command reads (WAVs, JSON). stores: store roots to keep out of (default: the default store
    root, $HUSHMIC_HOME or the per-user data dir; pass the --store value too). kind: "file" or "dir" (a bundle
    directory: new, or an existing empty directory)."""
    raw = os.fspath(path) if path is not None else ""
    if not raw.strip():
        raise BadInput(f"{what}: the path is empty")
    p = os.path.abspath(raw)
    if os.path.islink(p):
        target = os.readlink(p)
        dangling = "" if os.path.exists(p) else " that points nowhere"
        raise BadInput(f"{raw}: is a symlink{dangling} (to {target}); give the real path of the {what}")
    real = _real(p)

    # inputs: same path after resolving links, or the same file by inode (a hard link)
    for inp in inputs or ():
        if inp is None:
            continue
        if _real(inp) == real:
            raise BadInput(f"{raw}: is the input {inp}; write the {what} to another path")
        try:
            a, b = os.stat(inp), os.stat(real)
        except OSError:
            continue
        if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
            raise BadInput(f"{raw}: is the same file as the input {inp} (a hard link); write the {what} elsewhere")

    # the store
    if stores is None:
        stores = [None]
    from . import paths
    roots = []
    for s in stores:
        roots.append(paths.user_data_dir() if s is None else Path(s).expanduser())
    for root in roots:
        r = _real(root)
        if _inside(real, r) or (kind == "dir" and _inside(r, real)):
            raise BadInput(f"{raw}: is inside the hushmic store {r}; the store is hushmic's own, "
                           f"write the {what} elsewhere")

    # what is there now
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise BadInput(f"{raw}: cannot be checked ({e.strerror or e})") from None
    if st is not None:
        if kind == "dir":
            if not stat.S_ISDIR(st.st_mode):
                what_is = "a file" if stat.S_ISREG(st.st_mode) else "not a directory"
                raise BadInput(f"{raw}: exists and is {what_is}; the {what} must be a new or empty directory")
            try:
                empty = not any(os.scandir(real))
            except OSError as e:
                raise BadInput(f"{raw}: cannot be read ({e.strerror or e})") from None
            if not empty:
                raise BadInput(f"{raw}: is a directory that is not empty; choose a new {what} directory")
        elif stat.S_ISDIR(st.st_mode):
            raise BadInput(f"{raw}: is a directory; give a file name for the {what}")
        elif not stat.S_ISREG(st.st_mode):
            raise BadInput(f"{raw}: is not a regular file (a device, pipe or socket); the {what} must be a new "
                           f"path or a regular file")

    # can this user create files next to it? (a probe file, removed at once)
    folder = _nearest_existing(real)
    if not os.path.isdir(folder):
        raise BadInput(f"{raw}: {folder} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-hushmic-probe-", dir=folder)
    except OSError as e:
        raise BadInput(f"{raw}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return Path(p)
