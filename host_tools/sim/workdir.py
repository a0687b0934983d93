"""The simulated board's temporary folder, and the cleanup of folders a killed launcher left behind.

A SimBoard works in `TMPDIR/hushmic-sim-<pid>-XXXXXXXX/` (0700): the board's filesystem, its pty link, and
`sim.json`, which holds the input WAV's absolute path. `SimBoard.stop()` removes it; a launcher killed with SIGKILL
cannot. So every new folder is made by `new_workdir()`, which first removes the stale ones: folders of this user
(never a link, never another user's) whose process is gone, and folders in the older unnamed form
(`hushmic-sim-XXXXXXXX`, no pid) untouched for a day.
"""
import os
import re
import shutil
import stat
import tempfile
import time

PREFIX = "hushmic-sim-"
_WITH_PID = re.compile(re.escape(PREFIX) + r"(\d+)-[A-Za-z0-9_]+")
_LEGACY = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_]+")
LEGACY_MAX_AGE_S = 86400.0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def clean_stale(tmpdir=None, now=None):
    """Remove this user's stale simulated-board folders from tmpdir (default: the system temp folder).
    Returns the names removed. Never raises."""
    tmpdir = tmpdir or tempfile.gettempdir()
    now = time.time() if now is None else now
    me = os.geteuid() if hasattr(os, "geteuid") else None
    removed = []
    try:
        entries = list(os.scandir(tmpdir))
    except OSError:
        return removed
    for e in entries:
        m = _WITH_PID.fullmatch(e.name)
        if not m and not _LEGACY.fullmatch(e.name):
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or (me is not None and st.st_uid != me):
            continue  # a link, a file, or another user's: not ours to remove
        if m:
            pid = int(m.group(1))
            if pid == os.getpid() or _alive(pid):
                continue
        elif now - st.st_mtime < LEGACY_MAX_AGE_S:
            continue
        shutil.rmtree(e.path, ignore_errors=True)
        removed.append(e.name)
    return removed


def new_workdir():
    """A fresh private folder for one simulated board, named with this process's id (after removing stale ones)."""
    clean_stale()
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
