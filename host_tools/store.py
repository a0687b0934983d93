"""The local store: SQLite for sessions and utterances, WAV files for their audio, private to the user.

Layout under the store root (default `hushmic.paths.user_data_dir()`, `$HUSHMIC_HOME` overrides, `--store DIR` too):

    ROOT/                      0700
      hushmic.db               0600  (+ hushmic.db-wal, hushmic.db-shm in WAL mode, also 0600)
      .lock                    0600  (flock: only the sole opener cleans up leftovers)
      audio/                   0700
        <session id>/          0700
          <utterance id>.redacted.wav   0600  (keep=redacted or raw)
          <utterance id>.raw.wav        0600  (keep=raw only)

Crash safety: every WAV is written to a temp file in its directory, fsynced and renamed into place
(`hushmic.audio_io.write_wav`), the directory is fsynced, and only then is the utterance row committed, in one SQLite
transaction (WAL, synchronous=FULL). A crash at any point leaves either a whole entry or no row at all; leftovers
(temp files, WAVs no row points to) are deleted the next time a store is opened while no other process has it open.

Only the store's own names are ever touched: the root must belong to the current user (else BadInput, exit 2);
a symlink, or an entry of another user, where the store expects its own file or directory makes it refuse to open;
mode fixes go through file descriptors opened with O_NOFOLLOW; cleanup and purge delete only regular files whose
names the store itself makes (`audio/<12 hex>/<12 hex>.raw|redacted.wav`, `.tmp-*.wav`), never following a link.

Open sessions: `open_session` creates the session's directory and holds an exclusive flock on it until
`close_session` (or `close`, or the process's death). Purge and retention never delete a session whose `ended` is
NULL; at every open, a session with `ended` NULL whose directory lock is free (its process died: SIGKILL, power
loss) is closed, with `stats` = {"recovered": true}. `add_utterance`, `add_mute` and `close_session` on a session
that is no longer in the store raise `SessionGone` (an HushmicError, exit 1), never a generic error.

Privacy: the store only ever receives redacted text. With keep="redacted" (the default) raw audio is never written,
with keep="none" no audio at all. Logs carry ids, counts and durations, never text, board names or hello fields
(a board name can be a /dev/serial/by-id path that embeds the device serial).
"""
import contextlib
import json
import logging
import os
import re
import sqlite3
import stat
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from . import paths
from .audio_io import write_wav
from .errors import BadInput, HushmicError

log = logging.getLogger("hushmic.store")

KEEP_POLICIES = ("redacted", "raw", "none")
DEFAULT_KEEP = "redacted"
DEFAULT_MAX_AGE_DAYS = 30
DB_NAME = "hushmic.db"
AUDIO_DIR = "audio"
LOCK_NAME = ".lock"
TMP_PREFIX = ".tmp-"
SCHEMA_VERSION = 1
MIN_PREFIX = 4  # shortest session id prefix `session()` accepts

_SESSION_ID = re.compile(r"[0-9a-f]{12}")
_WAV_NAME = re.compile(r"[0-9a-f]{12}\.(raw|redacted)\.wav")
_TMP_WAV = re.compile(re.escape(TMP_PREFIX) + r"[A-Za-z0-9_-]+\.wav")
_WAV_REL = re.compile(AUDIO_DIR + r"/[0-9a-f]{12}/[0-9a-f]{12}\.(raw|redacted)\.wav")
_DB_FILES = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME + "-journal")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class SessionGone(HushmicError):
    """The session is no longer in the store (deleted by hand, or by an older hushmic's purge). A writer that gets
    this must open a new session (`open_session`) and retry, or stop with a non-zero exit; never drop speech."""

    def __init__(self, session_id):
        super().__init__(f"session {session_id} is no longer in the store")
        self.session_id = session_id


def _me():
    return os.geteuid() if hasattr(os, "geteuid") else None


def _owner_name(uid):
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)

_umask_lock = threading.Lock()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    board TEXT NOT NULL,
    info TEXT NOT NULL,            -- JSON: the board's hello fields (may hold a device serial: local only, never exported)
    keep TEXT NOT NULL,
    started REAL NOT NULL,         -- wall clock, seconds since the epoch
    ended REAL,
    stats TEXT                     -- JSON, from close_session
);
CREATE TABLE IF NOT EXISTS utterances (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    segment INTEGER NOT NULL,
    start REAL NOT NULL,           -- seconds on the session's timeline
    "end" REAL NOT NULL,
    truncated INTEGER NOT NULL,
    rate INTEGER NOT NULL,
    samples INTEGER,               -- length of the stored audio, if any
    raw_wav TEXT,                  -- path relative to the store root, or NULL
    redacted_wav TEXT,
    text_redacted TEXT,
    backend TEXT,
    audit TEXT,                    -- JSON: redaction types, counts, times; never values
    created REAL NOT NULL          -- wall clock; retention is measured from here
);
CREATE INDEX IF NOT EXISTS utterances_session ON utterances(session_id, start);
CREATE INDEX IF NOT EXISTS utterances_created ON utterances(created);
CREATE TABLE IF NOT EXISTS mutes (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    start REAL NOT NULL,
    "end" REAL                     -- NULL: still muted when the session ended
);
CREATE TABLE IF NOT EXISTS exports (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    consent TEXT NOT NULL,         -- the consent statement given on the command line (kept locally, not in the bundle)
    items INTEGER NOT NULL,
    disguise INTEGER NOT NULL
);
"""


@contextlib.contextmanager
def private_umask():
    """Create files and directories private to the user (umask 077) for the duration of the block."""
    with _umask_lock:
        old = os.umask(0o077)
        try:
            yield
        finally:
            os.umask(old)


def _fsync_dir(d):
    try:
        fd = os.open(str(d), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_id():
    return uuid.uuid4().hex[:12]


def _check_keep(keep):
    if keep not in KEEP_POLICIES:
        raise BadInput(f"keep policy must be one of {', '.join(KEEP_POLICIES)}, not {keep!r}")
    return keep


def _pcm(x):
    a = np.asarray(x)
    if a.ndim != 1:
        raise BadInput("utterance audio must be mono (a 1-D array)")
    if a.dtype != np.int16:
        if np.issubdtype(a.dtype, np.floating):
            a = np.clip(np.round(a), -32768, 32767)
        a = a.astype(np.int16)
    return a


def audit_spans(audit):
    """[(type, t0, t1)] from a stored audit record (times relative to the utterance's audio), whatever its shape:
    `hushmic.redact.audit_record` puts them in audit["audio"]["times"]; a plain {"spans": [...]} or a list of
    {"type", "t0", "t1"} dicts (e.g. `hushmic redact --json`) works too. Entries without numeric times are skipped."""
    if not audit:
        return []
    spans = audit
    if isinstance(audit, dict):
        audio = audit.get("audio")
        spans = (audio.get("times") if isinstance(audio, dict) else None) or audit.get("audio_spans") \
            or audit.get("spans") or []
    out = []
    for sp in spans if isinstance(spans, list) else []:
        if not isinstance(sp, dict):
            continue
        try:
            t0, t1 = float(sp["t0"]), float(sp["t1"])
        except (KeyError, TypeError, ValueError):
            continue
        if t0 == t0 and t1 == t1 and t1 >= t0:
            out.append((str(sp.get("type", "PII")), t0, t1))
    return out


def audit_categories(audit):
    """{type: count} from an audit record (its "categories", else counted from its spans)."""
    if isinstance(audit, dict) and isinstance(audit.get("categories"), dict):
        return {str(k): int(v) for k, v in audit["categories"].items() if isinstance(v, (int, float))}
    counts = {}
    for typ, _, _ in audit_spans(audit):
        counts[typ] = counts.get(typ, 0) + 1
    return counts


def add_store_arguments(parser, keep=False):
    """The shared `--store DIR` flag (and `--keep` for commands that write), for any command that uses the store."""
    parser.add_argument("--store", metavar="DIR", default=None,
                        help="store directory (default: $HUSHMIC_HOME, else the per-user data directory)")
    if keep:
        parser.add_argument("--keep", choices=KEEP_POLICIES, default=DEFAULT_KEEP,
                            help="what audio to keep: redacted (default; raw audio is never written), "
                                 "raw (raw and redacted), none (redacted text only)")


class Store:
    """Sessions and utterances on disk. Thread-safe: one connection guarded by a lock."""

    def __init__(self, root=None, keep=DEFAULT_KEEP, max_age_days=DEFAULT_MAX_AGE_DAYS):
        self.keep = _check_keep(keep)
        if max_age_days is not None and max_age_days < 0:
            raise BadInput("max_age_days must be >= 0")
        self.max_age_days = max_age_days
        self.root = Path(root).expanduser() if root is not None else paths.user_data_dir()
        self.root = Path(os.path.realpath(os.path.abspath(self.root)))  # the user's own link, followed once
        self.audio_dir = self.root / AUDIO_DIR
        self.db_path = self.root / DB_NAME
        self._lock = threading.RLock()
        self._lockfd = None
        self._db = None
        self._session_locks = {}  # session id -> descriptor of its directory, flocked while the session is open
        self.added = 0  # utterances this instance committed
        try:
            self._open()
        except sqlite3.DatabaseError as e:
            self.close()
            raise HushmicError(f"store database {self.db_path} cannot be opened ({e})") from None
        except OSError as e:
            self.close()
            raise HushmicError(f"store {self.root} cannot be opened ({e.strerror or e})") from None

    # ----------------------------------------------------------------------------------------------- opening, modes
    def _refuse(self, name, why):
        fix = ("move it out of the store and run again" if name != "." else
               "use a store of your own: --store DIR or HUSHMIC_HOME=DIR")
        where = f"store {self.root}" + ("" if name == "." else f": {name}")
        raise BadInput(f"{where} {why}; {fix}")

    def _check_entry(self, st, name, want_dir):
        """An entry of the store (lstat result): the right type, not a link, owned by this user."""
        if stat.S_ISLNK(st.st_mode):
            self._refuse(name, "is a symlink, and a store holds no symlinks")
        if want_dir and not stat.S_ISDIR(st.st_mode):
            self._refuse(name, "is not a directory")
        if not want_dir and not stat.S_ISREG(st.st_mode):
            self._refuse(name, "is not a regular file")
        me = _me()
        if me is not None and st.st_uid != me:
            self._refuse(name, f"belongs to user {_owner_name(st.st_uid)}, not to you ({_owner_name(me)}); "
                               "hushmic will not use or change what another user controls")

    def _make_private_dir(self, d):
        """Create d (0700) or check the existing one: a real directory (never a link) of this user; then 0700,
        through a descriptor opened with O_NOFOLLOW, so a link swapped in cannot redirect the chmod."""
        d = Path(d)
        with private_umask():
            if d == self.root:
                d.mkdir(parents=True, exist_ok=True)
            else:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(d, 0o700)
        name = "." if d == self.root else d.relative_to(self.root).as_posix()
        self._check_entry(os.lstat(d), name, want_dir=True)
        try:
            fd = os.open(str(d), os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW)
        except OSError:
            self._refuse(name, "cannot be opened as a directory (a symlink?)")
        try:
            st = os.fstat(fd)
            self._check_entry(st, name, want_dir=True)
            if st.st_mode & 0o077:
                os.fchmod(fd, 0o700) if hasattr(os, "fchmod") else os.chmod(d, 0o700)
                log.warning("tightened permissions of a store directory to 0700")
        finally:
            os.close(fd)

    def _open(self):
        if os.path.lexists(self.root) and not os.path.isdir(self.root):
            raise BadInput(f"store {self.root}: exists and is not a directory")
        self._make_private_dir(self.root)
        for name in _DB_FILES:
            with contextlib.suppress(FileNotFoundError):
                self._check_entry(os.lstat(self.root / name), name, want_dir=False)
        self._make_private_dir(self.audio_dir)
        try:
            with private_umask():
                self._lockfd = os.open(str(self.root / LOCK_NAME), os.O_RDWR | os.O_CREAT | _O_NOFOLLOW, 0o600)
        except OSError as e:
            if os.path.islink(self.root / LOCK_NAME):
                self._refuse(LOCK_NAME, "is a symlink, and a store holds no symlinks")
            raise e
        self._check_entry(os.fstat(self._lockfd), LOCK_NAME, want_dir=False)
        sole = self._lock_exclusive_nb()
        with private_umask():
            self._db = sqlite3.connect(str(self.db_path), timeout=30, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys=ON")
            try:
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            except sqlite3.OperationalError:
                mode = "delete"
            if str(mode).lower() != "wal":
                log.info("store journal mode is %s (WAL not available here); transactions still make writes atomic", mode)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        self._fix_file_modes()
        self._recover_sessions(sole is True)
        if sole:
            self._cleanup()
        self._lock_shared()

    def _lock_exclusive_nb(self):
        try:
            import fcntl
        except ImportError:  # Windows: no flock; cleanup then only removes leftovers older than an hour
            return "old-only"
        try:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _lock_shared(self):
        try:
            import fcntl
        except ImportError:
            return
        fcntl.flock(self._lockfd, fcntl.LOCK_SH)

    def _fix_file_modes(self):
        """0600 on the database files and the lock, regular files of this user only, never through a link.

        The database files are checked by path (lstat, then chmod): opening and closing a descriptor on them would
        drop SQLite's POSIX locks of this process. The store directory is 0700 and this user's, so nobody else can
        swap a link in between. The lock file is changed through the descriptor this store holds."""
        me = _me()
        for name in _DB_FILES:
            p = self.root / name
            try:
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode) and (me is None or st.st_uid == me) and st.st_mode & 0o077:
                    os.chmod(p, 0o600)
            except OSError:
                pass
        if self._lockfd is not None and hasattr(os, "fchmod"):
            with contextlib.suppress(OSError):
                if os.fstat(self._lockfd).st_mode & 0o077:
                    os.fchmod(self._lockfd, 0o600)

    # ------------------------------------------------------------------------------------------- open sessions
    def _session_dir_fd(self, sid):
        """A descriptor on the session's directory (never through a link), or None when it has none."""
        if not _SESSION_ID.fullmatch(str(sid)):
            return None
        try:
            return os.open(str(self.audio_dir / sid), os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW)
        except OSError:
            return None

    def session_is_open(self, sid):
        """True while some process (this one included) has the session open (holds its directory's flock),
        False when nobody does, None when that cannot be known (no directory, or no flock on this platform)."""
        if sid in self._session_locks:
            return True
        try:
            import fcntl
        except ImportError:
            return None
        fd = self._session_dir_fd(sid)
        if fd is None:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # releases the probe's lock, if it got one
        return False

    def _recover_sessions(self, sole):
        """Close the sessions whose process died without closing them (ended NULL, lock free). Without a session
        directory (sessions from before the lock) only a sole opener can tell, and it closes them too."""
        rows = self._q("SELECT id FROM sessions WHERE ended IS NULL")
        stale = []
        for r in rows:
            state = self.session_is_open(r["id"])
            if state is False or (state is None and sole):
                stale.append(r["id"])
        if not stale:
            return
        with self._tx() as db:
            for sid in stale:
                db.execute(
                    "UPDATE sessions SET ended = COALESCE((SELECT MAX(created) FROM utterances WHERE session_id = ?),"
                    " started), stats = COALESCE(stats, ?) WHERE id = ? AND ended IS NULL",
                    (sid, json.dumps({"recovered": True}), sid))
        log.info("closed %d session(s) left open by a process that ended", len(stale))

    def _cleanup(self):
        """Delete what a crash can leave behind: temp WAVs, and WAVs that no committed row points to, in session
        directories; then empty directories of sessions that are closed or unknown. Only names the store makes,
        only regular files, never through a link: anything else found in the store is left alone."""
        known = set()
        for r in self._db.execute("SELECT raw_wav, redacted_wav FROM utterances"):
            for rel in r:
                if rel:
                    known.add(rel)
        live = {r["id"] for r in self._q("SELECT id FROM sessions WHERE ended IS NULL")}
        cutoff = time.time() - 3600 if self._lockfd is not None and _no_flock() else None
        removed_tmp = removed_orphans = 0
        try:
            sdirs = [e for e in os.scandir(self.audio_dir)
                     if _SESSION_ID.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
        except OSError:
            sdirs = []
        for sd in sdirs:
            try:
                entries = list(os.scandir(sd.path))
            except OSError:
                continue
            for f in entries:
                rel = f"{AUDIO_DIR}/{sd.name}/{f.name}"
                is_tmp = bool(_TMP_WAV.fullmatch(f.name))
                if rel in known or not (is_tmp or _WAV_NAME.fullmatch(f.name)):
                    continue
                try:
                    if not f.is_file(follow_symlinks=False):
                        continue
                    if cutoff is not None and f.stat(follow_symlinks=False).st_mtime > cutoff:
                        continue
                    os.unlink(f.path)
                except OSError:
                    continue
                if is_tmp:
                    removed_tmp += 1
                else:
                    removed_orphans += 1
            if sd.name not in live:
                with contextlib.suppress(OSError):
                    os.rmdir(sd.path)  # only succeeds when empty
        if removed_tmp or removed_orphans:
            log.info("store cleanup: removed %d temp file(s) and %d orphan WAV(s)", removed_tmp, removed_orphans)

    def _unlink_owned(self, rel):
        """Delete one WAV the store made (by its relative path from a row), never following a link."""
        if not rel or not _WAV_REL.fullmatch(rel):
            return False
        p = self.root / rel
        try:
            if not stat.S_ISREG(os.lstat(p).st_mode):
                return False
            os.unlink(p)
            return True
        except OSError:
            return False

    def close(self):
        with self._lock:
            for fd in self._session_locks.values():
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._session_locks.clear()
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None
            if self._lockfd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._lockfd)
                self._lockfd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextlib.contextmanager
    def _tx(self):
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error, under the private umask."""
        if self._db is None:
            raise HushmicError("the store is closed")
        with self._lock, private_umask():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self._fix_file_modes()

    def _q(self, sql, args=()):
        if self._db is None:
            raise HushmicError("the store is closed")
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ---------------------------------------------------------------------------------------------------- writing
    def open_session(self, board: str, info: dict) -> str:
        """Start a session for one board. `info` holds the hello fields; they stay in this store and are never exported."""
        if self._db is None:
            raise HushmicError("the store is closed")
        sid = _new_id()
        self._make_private_dir(self.audio_dir / sid)
        fd = self._session_dir_fd(sid)
        if fd is None:
            raise HushmicError(f"store {self.root}: cannot open the directory of a new session")
        try:
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held until close_session: "this session is open"
        except ImportError:
            pass
        except OSError:
            os.close(fd)
            raise HushmicError(f"store {self.root}: cannot lock a new session") from None
        with self._lock:
            self._session_locks[sid] = fd
        try:
            with self._tx() as db:
                db.execute("INSERT INTO sessions(id, board, info, keep, started) VALUES (?, ?, ?, ?, ?)",
                           (sid, str(board), json.dumps(info or {}, default=str), self.keep, time.time()))
        except BaseException:
            self._release_session(sid)
            with contextlib.suppress(OSError):
                os.rmdir(self.audio_dir / sid)
            raise
        log.info("session %s opened (keep=%s)", sid, self.keep)
        return sid

    def _release_session(self, sid):
        with self._lock:
            fd = self._session_locks.pop(sid, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def add_utterance(self, session_id, segment: int, start: float, end: float, truncated: bool,
                      raw_pcm=None, redacted_pcm=None, rate=16000, text_redacted: str = None,
                      backend: str = None, audit: dict = None) -> str:
        """Save one utterance. Audio follows the keep policy: raw only with keep="raw", redacted unless keep="none".

        The WAVs are written and renamed into place (and their directory fsynced) before the row is committed, so a
        crash never leaves a row without its audio; a crash before the commit leaves orphans removed on next open.
        """
        if self._db is None:
            raise HushmicError("the store is closed")
        uid = _new_id()
        rate = int(rate)
        if rate <= 0:
            raise BadInput("rate must be positive")
        to_write = []
        if self.keep == "raw" and raw_pcm is not None:
            to_write.append(("raw", _pcm(raw_pcm)))
        if self.keep in ("raw", "redacted") and redacted_pcm is not None:
            to_write.append(("redacted", _pcm(redacted_pcm)))
        rels = {"raw": None, "redacted": None}
        samples = None
        written = []
        try:
            if to_write:
                sdir = self.audio_dir / session_id
                if not self._q("SELECT 1 FROM sessions WHERE id=?", (session_id,)):
                    raise SessionGone(session_id)
                if not _SESSION_ID.fullmatch(str(session_id)):
                    raise BadInput(f"not a session id: {session_id!r}")
                self._make_private_dir(sdir)  # exists for sessions opened here; never a link
                for kind, pcm in to_write:
                    p = sdir / f"{uid}.{kind}.wav"
                    with private_umask():
                        write_wav(p, pcm, rate)
                    written.append(p)
                    rels[kind] = p.relative_to(self.root).as_posix()
                    samples = len(pcm) if samples is None else max(samples, len(pcm))
                _fsync_dir(sdir)
            with self._tx() as db:
                db.execute(
                    'INSERT INTO utterances(id, session_id, segment, start, "end", truncated, rate, samples, raw_wav, '
                    "redacted_wav, text_redacted, backend, audit, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (uid, session_id, int(segment), float(start), float(end), int(bool(truncated)), rate, samples,
                     rels["raw"], rels["redacted"], text_redacted, backend,
                     json.dumps(audit, default=str) if audit is not None else None, time.time()))
        except sqlite3.IntegrityError:
            self._unlink_all(written)
            raise SessionGone(session_id) from None
        except BaseException:
            self._unlink_all(written)
            raise
        self.added += 1
        log.info("utterance %s stored: session %s segment %d, %.2f s, %d audio file(s)%s",
                 uid, session_id, int(segment), float(end) - float(start), len(written),
                 " (truncated)" if truncated else "")
        return uid

    @staticmethod
    def _unlink_all(files):
        for p in files:
            with contextlib.suppress(OSError):
                p.unlink()

    def add_mute(self, session_id, start: float, end: float = None):
        """Record a mute period (session timeline, seconds); `end` None means muted until the session ended."""
        try:
            with self._tx() as db:
                db.execute('INSERT INTO mutes(session_id, start, "end") VALUES (?, ?, ?)',
                           (session_id, float(start), None if end is None else float(end)))
        except sqlite3.IntegrityError:
            raise SessionGone(session_id) from None

    def close_session(self, session_id, stats: dict):
        with self._tx() as db:
            cur = db.execute("UPDATE sessions SET ended=?, stats=? WHERE id=?",
                             (time.time(), json.dumps(stats or {}, default=str), session_id))
            if cur.rowcount == 0:
                self._release_session(session_id)
                raise SessionGone(session_id)
        self._release_session(session_id)
        log.info("session %s closed", session_id)

    def record_export(self, day: str, consent: str, items: int, disguise: bool) -> str:
        """Remember locally that an export happened (the bundle itself carries no link back)."""
        eid = _new_id()
        with self._tx() as db:
            db.execute("INSERT INTO exports(id, day, consent, items, disguise) VALUES (?,?,?,?,?)",
                       (eid, day, consent, int(items), int(bool(disguise))))
        return eid

    # ---------------------------------------------------------------------------------------------------- reading
    def _abs(self, rel):
        return str(self.root / rel) if rel else None

    def _utt_dict(self, r):
        return {
            "id": r["id"], "session_id": r["session_id"], "segment": r["segment"],
            "start": r["start"], "end": r["end"], "duration": round(r["end"] - r["start"], 6),
            "truncated": bool(r["truncated"]), "rate": r["rate"], "samples": r["samples"],
            "raw_wav": self._abs(r["raw_wav"]), "redacted_wav": self._abs(r["redacted_wav"]),
            "text": r["text_redacted"], "backend": r["backend"],
            "audit": json.loads(r["audit"]) if r["audit"] else None, "created": r["created"],
        }

    def _session_dict(self, r, n=None, speech=None):
        d = {"id": r["id"], "board": r["board"], "info": json.loads(r["info"] or "{}"), "keep": r["keep"],
             "started": r["started"], "ended": r["ended"],
             "stats": json.loads(r["stats"]) if r["stats"] else None}
        if n is not None:
            d["utterances"] = n
            d["speech_s"] = round(speech or 0.0, 3)
        return d

    def sessions(self) -> list:
        """Every session, oldest first, with its utterance count and seconds of speech."""
        rows = self._q(
            'SELECT s.*, COUNT(u.id) AS n, COALESCE(SUM(u."end" - u.start), 0) AS speech FROM sessions s '
            "LEFT JOIN utterances u ON u.session_id = s.id GROUP BY s.id ORDER BY s.started, s.id")
        return [self._session_dict(r, r["n"], r["speech"]) for r in rows]

    def session(self, session_id) -> dict:
        """One session with its utterances (list, in time order) and mute periods. Unknown id -> BadInput.

        A unique prefix of an id is accepted too."""
        rows = self._q("SELECT * FROM sessions WHERE id=?", (session_id,))
        if not rows and session_id and len(session_id) < MIN_PREFIX:
            raise BadInput(f"session id {session_id!r} is too short: give the id or a unique prefix of "
                           f"{MIN_PREFIX}+ characters (see `hushmic sessions`)")
        if not rows and session_id and len(session_id) >= MIN_PREFIX:
            rows = self._q("SELECT * FROM sessions WHERE id LIKE ? ESCAPE '\\'",
                           (session_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",))
            if len(rows) > 1:
                raise BadInput(f"session id prefix {session_id!r} is ambiguous")
        if not rows:
            raise BadInput(f"no session {session_id!r} in the store")
        r = rows[0]
        utts = [self._utt_dict(u) for u in
                self._q('SELECT * FROM utterances WHERE session_id=? ORDER BY start, segment', (r["id"],))]
        d = self._session_dict(r, len(utts), sum(u["duration"] for u in utts))
        d["utterances"] = utts
        d["mutes"] = [[m["start"], m["end"]] for m in
                      self._q('SELECT start, "end" FROM mutes WHERE session_id=? ORDER BY start', (r["id"],))]
        return d

    def utterance_count(self) -> int:
        return self._q("SELECT COUNT(*) FROM utterances")[0][0]

    # ---------------------------------------------------------------------------------------------------- retention
    def purge(self, older_than_days=None, all=False, dry_run=False) -> dict:
        """Delete utterances (rows and WAVs) older than the cutoff, and sessions left empty that started before it.

        older_than_days None -> the store's retention policy (max_age_days, default 30); all=True -> everything.
        Rows go first, in one transaction, then the files; if a crash interrupts the unlinking, the WAVs are orphans and
        the next open removes them. Returns counts (never contents).
        """
        if all:
            days, cutoff = None, float("inf")
        else:
            days = self.max_age_days if older_than_days is None else older_than_days
            if days is None:
                raise BadInput("no retention age set: give older_than_days or all=True")
            try:
                days = float(days)
            except (TypeError, ValueError):
                raise BadInput(f"older-than must be a number of days, not {days!r}") from None
            if days < 0 or days != days:
                raise BadInput("older-than must be a number of days >= 0")
            cutoff = time.time() - days * 86400.0
        q_utt = "SELECT id, raw_wav, redacted_wav FROM utterances WHERE created < ?"
        # a session still open (ended NULL: its process holds it, see session_is_open) is never deleted, whatever
        # the cutoff: its utterances go, the session stays, and its writer goes on. Sessions left open by a dead
        # process were closed when this store was opened (_recover_sessions), so they are purged normally.
        q_ses = ("SELECT id, ended FROM sessions s WHERE s.started < ? AND NOT EXISTS "
                 "(SELECT 1 FROM utterances u WHERE u.session_id = s.id AND u.created >= ?)")

        def select(db):
            utts = db.execute(q_utt, (cutoff,)).fetchall()
            cand = db.execute(q_ses, (cutoff, cutoff)).fetchall()
            sess = [r["id"] for r in cand if r["ended"] is not None and self.session_is_open(r["id"]) is not True]
            return utts, sess, len(cand) - len(sess)

        with self._lock:
            if dry_run:
                utts, sess, kept = select(self._db)
            else:
                with self._tx() as db:
                    utts, sess, kept = select(db)
                    db.execute("DELETE FROM utterances WHERE created < ?", (cutoff,))
                    for sid in sess:
                        db.execute("DELETE FROM sessions WHERE id=?", (sid,))
            rels = [rel for u in utts for rel in (u["raw_wav"], u["redacted_wav"]) if rel]
            nbytes = 0
            for rel in rels:
                with contextlib.suppress(OSError):
                    nbytes += os.lstat(self.root / rel).st_size
            if not dry_run:
                for rel in rels:
                    self._unlink_owned(rel)
                for sid in sess:
                    if _SESSION_ID.fullmatch(sid):
                        with contextlib.suppress(OSError):
                            os.rmdir(self.audio_dir / sid)
                with contextlib.suppress(sqlite3.Error), self._lock:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old page images leave the WAL too
        files = rels
        result = {"dry_run": bool(dry_run), "all": bool(all), "older_than_days": days,
                  "utterances": len(utts), "sessions": len(sess), "files": len(files), "bytes": nbytes,
                  "open_sessions_kept": kept}
        log.info("purge%s: %d utterance(s), %d session(s), %d file(s)", " (dry run)" if dry_run else "",
                 len(utts), len(sess), len(files))
        return result


def _no_flock():
    try:
        import fcntl  # noqa: F401
        return False
    except ImportError:
        return True
