"""Many recordings at once: `hushmic redact|transcribe DIR_OR_FILES... --out-dir OUT [--jobs N] [--scheduler URL]`.

Each input file goes through host_tools/longfile.py (bounded memory, turns, fail closed per turn), on a local pool of
worker processes (`--jobs`, default the cores) or on a Dask cluster (`--scheduler tcp://HOST:PORT`; docs/batch.md).

Outputs, for an input `sub/a.wav` (relative to the folder given, or the file name alone for a file given):
  redact:     OUT/sub/a.wav (redacted audio) and OUT/sub/a.json (the `redact --json` object)
  transcribe: OUT/sub/a.json (the `transcribe --json` object)
Each is written to a temp file beside it and renamed, so a file is either whole or absent. An output that would be
an input (same path, or the same file through a link), a link, or inside the store is refused before any work
(outputs.check_output).

Resuming: OUT/manifest.jsonl gets one line per finished file, appended (and fsynced) only after its outputs are in
place: the input's SHA-256, the options that shape the output, each output's SHA-256, the summary and the audit
(categories, counts and times, never values). A run started again with the same options skips every input whose
manifest line matches (same input bytes, same options, outputs present with the recorded hashes) and does the rest.
A killed run leaves at most temp files (`.tmp-*`, removed at the next start) and never a half-written output.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .errors import BadInput, HushmicError

MANIFEST = "manifest.jsonl"
AUDIO_EXT = ".wav"


# ------------------------------------------------------------------------------------------------ planning
def sha256_file(path):
    from .asr.models import sha256_file as sha
    return sha(path)


def collect(paths):
    """[(absolute input path, relative output stem)] for files and folders (every *.wav below a folder, sorted)."""
    out = []
    for p in paths:
        q = Path(p)
        if q.is_dir():
            found = sorted(f for f in q.rglob("*") if f.is_file() and f.suffix.lower() == AUDIO_EXT
                           and not f.name.startswith(".tmp-"))
            if not found:
                raise BadInput(f"{p}: no .wav files in this folder")
            out += [(str(f.resolve()), str(f.relative_to(q).with_suffix(""))) for f in found]
        elif q.exists():
            out.append((str(q.resolve()), q.stem))
        else:
            raise BadInput(f"{p}: no such file or folder")
    seen = {}
    for src, rel in out:
        if rel in seen and seen[rel] != src:
            raise BadInput(f"{seen[rel]} and {src} would both write OUT/{rel}.*; give them in separate runs")
        seen[rel] = src
    return list(dict(sorted((src, rel) for src, rel in out)).items())


def output_names(kind, rel):
    return {"audio": rel + ".wav", "json": rel + ".json"} if kind == "redact" else {"json": rel + ".json"}


def plan(kind, inputs, out_dir, stores=None):
    """The jobs of a run: [{"src", "rel", "outputs": {name: relative path}}], after refusing any output that is an
    input, a link or inside the store. out_dir: new, or an existing folder (a previous run's, to resume)."""
    from .outputs import check_output

    od = Path(out_dir)
    if od.exists() and not od.is_dir():
        raise BadInput(f"{out_dir}: exists and is not a folder; --out-dir must be a folder")
    if od.is_symlink():
        raise BadInput(f"{out_dir}: is a symlink; give the real folder")
    pairs = collect(inputs)
    srcs = [s for s, _ in pairs]
    jobs = []
    for src, rel in pairs:
        outs = output_names(kind, rel)
        for name in outs.values():
            check_output(od / name, inputs=srcs, stores=stores, what=f"output for {rel}")
        jobs.append({"src": src, "rel": rel, "outputs": outs})
    return jobs


# ------------------------------------------------------------------------------------------------ manifest
def read_manifest(out_dir):
    """rel -> the last complete manifest line for it (a line torn by a kill is ignored)."""
    p = Path(out_dir) / MANIFEST
    done = {}
    if not p.exists():
        return done
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(e, dict) and "rel" in e:
            done[e["rel"]] = e
    return done


def is_done(entry, job, sha, options, out_dir):
    if not entry or entry.get("sha256") != sha or entry.get("options") != options:
        return False
    for name, rel in job["outputs"].items():
        o = entry.get("outputs", {}).get(name)
        p = Path(out_dir) / rel
        if not o or o.get("path") != rel or not p.is_file() or sha256_file(p) != o.get("sha256"):
            return False
    return True


def append_manifest(out_dir, entry):
    p = Path(out_dir) / MANIFEST
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if os.fstat(fd).st_size:
            with open(p, "rb") as f:       # a line torn by a kill: start on a fresh line
                f.seek(-1, 2)
                torn = f.read(1) != b"\n"
            if torn:
                os.write(fd, b"\n")
        os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_temps(out_dir):
    """Temp files a killed run left (only the names longfile/batch make: .tmp-*.wav, .tmp-*.json)."""
    for p in Path(out_dir).rglob(".tmp-*"):
        if p.is_file() and not p.is_symlink() and p.suffix in (".wav", ".json"):
            try:
                p.unlink()
            except OSError:
                pass


def write_atomic(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=str(path.parent))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ------------------------------------------------------------------------------------------------ one file
_PIPE = {}


def _pipeline(options):
    """One Pipeline per worker process and options (the models load once)."""
    from .longfile import make_pipeline

    key = json.dumps(options, sort_keys=True)
    if key not in _PIPE:
        check_model(options)
        _PIPE[key] = make_pipeline(options.get("backend"), margin_ms=options.get("margin_ms", 100))
    return _PIPE[key]


def model_pin(backend):
    """What identifies the ASR model: its backend and, for Whisper, the pinned manifest (every file's SHA-256)."""
    from . import asr
    from .asr import models

    name = backend
    if backend is None:
        name = asr.default_backend()
    pin = {"backend": name}
    if name in asr.WHISPER_BACKENDS:
        m = models.manifest_for(asr.WHISPER_BACKENDS[name])
        pin["model"] = m["name"]
        pin["files"] = {f: v[1] for f, v in sorted(m["files"].items())}
    return pin


def check_model(options):
    """On a worker: the model the run was planned with is here and verifies file by file (never downloaded)."""
    pin = options.get("model") or {}
    if "files" not in pin:
        return
    import socket

    from .asr import models
    m = models.manifest_for(pin["model"])
    if {f: v[1] for f, v in m["files"].items()} != pin["files"]:
        raise HushmicError(f"worker {socket.gethostname()}: its hushmic pins other files for {pin['model']} than the "
                           f"client; install the same hushmic version on every worker")
    if models.verified_model_dir(None, m) is None:
        raise HushmicError(f"worker {socket.gethostname()}: no verified {pin['model']} model; "
                           f"run `{models.fix_command(m)}` there (files are checked by SHA-256, never downloaded)")


def process_one(kind, options, src, out_paths):
    """Run one input through longfile, writing its outputs (absolute paths) atomically; returns the manifest fields
    that depend on the work (summary, audit, backend, output hashes)."""
    from .longfile import Progress, process_file

    pipe = _pipeline(options)
    audio = out_paths.get("audio")
    res = process_file(src, pipe, out=audio, mode=options.get("mode", "tone"),
                       progress=Progress(src, 1.0, quiet=True))
    if kind == "redact":
        obj = res.json_redact()
    else:
        obj = res.transcript().to_json(with_aligned=options.get("aligned", False))
    write_atomic(out_paths["json"], (json.dumps(obj) + "\n").encode())
    return {"backend": res.backend, "summary": res.summary(), "audit": res.audit(), "errors": res.errors,
            "out_sha256": {name: sha256_file(p) for name, p in out_paths.items()}}


def remote_one(kind, options, name, data):
    """On a Dask worker (no shared folder assumed): the input arrives as bytes, the outputs go back as bytes."""
    with tempfile.TemporaryDirectory(prefix="hushmic-batch-") as td:
        src = Path(td) / ("in" + AUDIO_EXT)
        src.write_bytes(data)
        outs = {n: str(Path(td) / ("out-" + n + Path(r).suffix)) for n, r in name.items()}
        info = process_one(kind, options, str(src), outs)
        info["data"] = {n: Path(p).read_bytes() for n, p in outs.items()}
    return info


def add_batch_arguments(p):
    """--out-dir, --jobs and --scheduler, for redact and transcribe."""
    p.add_argument("--out-dir", metavar="OUT", default=None,
                   help="batch: write one output per input into OUT (resumable through OUT/manifest.jsonl)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="batch: worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="batch: run on this Dask cluster instead of local workers (docs/batch.md)")


def batch_mode(args, single_out=None):
    """True for a batch run (--out-dir); checks the options that go with each mode (BadInput otherwise)."""
    if args.jobs is not None and args.jobs < 1:
        raise BadInput(f"--jobs {args.jobs}: must be at least 1")
    if args.out_dir is None:
        if args.jobs is not None or args.scheduler:
            raise BadInput("--jobs and --scheduler are for batch runs: add --out-dir OUT")
        if len(args.wav) != 1:
            raise BadInput(f"{len(args.wav)} inputs: give --out-dir OUT to process several files")
        return False
    if single_out:
        raise BadInput("--out is for one file; with --out-dir each input gets OUT/<name>.wav")
    if args.scheduler and not args.scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        raise BadInput(f"--scheduler {args.scheduler!r}: give the scheduler address, e.g. tcp://HOST:8786")
    return True


def _init_worker(threads):
    os.environ["HUSHMIC_ASR_THREADS"] = str(threads)


# ------------------------------------------------------------------------------------------------ the run
def run_batch(kind, inputs, out_dir, options, jobs=None, scheduler=None, stores=None, say=None, progress=True):
    """Process every input not already done; returns the run's summary dict. say: a function for stderr lines."""
    from .longfile import Progress, WavStream

    say = say or (lambda m: print(m, file=sys.stderr))
    todo = plan(kind, inputs, out_dir, stores=stores)
    od = Path(out_dir)
    od.mkdir(parents=True, exist_ok=True)
    clean_temps(od)
    options = dict(options, kind=kind, model=model_pin(options.get("backend")))
    done = read_manifest(od)
    pending, skipped = [], 0
    total_s = 0.0
    for job in todo:
        job["sha256"] = sha256_file(job["src"])
        if is_done(done.get(job["rel"]), job, job["sha256"], options, od):
            skipped += 1
            continue
        try:
            job["seconds"] = WavStream(job["src"]).duration
        except BadInput as e:
            job["bad"] = str(e)
            job["seconds"] = 0.0
        total_s += job["seconds"]
        pending.append(job)
    ncores = os.cpu_count() or 1
    jobs = max(1, int(jobs or ncores))
    say(f"{kind}: {len(todo)} file(s), {skipped} already done (manifest), {len(pending)} to do "
        f"({total_s / 60:.1f} min of audio) " + (f"on the Dask cluster at {scheduler}" if scheduler
                                                 else f"with {min(jobs, max(1, len(pending)))} worker(s)"))
    prog = Progress(f"{kind} {len(pending)} file(s)", max(total_s, 1e-6), quiet=not progress)
    failed, finished, audio_done = [], 0, 0.0
    t0 = time.monotonic()

    def record(job, info):
        nonlocal finished, audio_done
        entry = {"rel": job["rel"], "input": os.path.basename(job["src"]), "sha256": job["sha256"],
                 "options": options, "backend": info["backend"], "summary": info["summary"], "audit": info["audit"],
                 "outputs": {n: {"path": r, "sha256": info["out_sha256"][n]} for n, r in job["outputs"].items()}}
        append_manifest(od, entry)
        for e in info.get("errors") or []:
            say(f"warning: {job['rel']}: {e}")
        finished += 1
        audio_done += job["seconds"]
        prog.update(audio_done, f"{finished}/{len(pending)} file(s)")

    def fail(job, e):
        failed.append({"rel": job["rel"], "error": str(e)})
        say(f"{job['rel']}: {e}")

    runnable = []
    for job in pending:
        if "bad" in job:
            fail(job, job["bad"])
        else:
            runnable.append(job)
    try:
        if scheduler:
            _run_dask(kind, runnable, od, options, scheduler, record, fail)
        else:
            _run_local(kind, runnable, od, options, jobs, ncores, record, fail)
    finally:
        prog.close()
    wall = time.monotonic() - t0
    summary = {"out_dir": str(od), "files": len(todo), "done": finished, "skipped": skipped, "failed": failed,
               "audio_s": round(audio_done, 3), "wall_s": round(wall, 3), "manifest": str(od / MANIFEST)}
    say(f"{kind}: {finished} file(s) done, {skipped} skipped (already done), {len(failed)} failed; "
        f"{audio_done / 60:.1f} min of audio in {wall:.0f} s -> {od}")
    return summary


def _abs_outputs(job, od):
    return {n: str(od / r) for n, r in job["outputs"].items()}


def _run_local(kind, jobs_list, od, options, jobs, ncores, record, fail):
    if not jobs_list:
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing

    n = min(jobs, len(jobs_list))
    threads = max(1, ncores // n)
    if n == 1:     # no pool for one worker: the same code in this process
        _init_worker(threads)
        for job in jobs_list:
            try:
                record(job, process_one(kind, options, job["src"], _abs_outputs(job, od)))
            except (HushmicError, OSError) as e:
                fail(job, e)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker, initargs=(threads,)) as ex:
        futs = {ex.submit(process_one, kind, options, job["src"], _abs_outputs(job, od)): job for job in jobs_list}
        try:
            for f in as_completed(futs):
                job = futs[f]
                try:
                    record(job, f.result())
                except (HushmicError, OSError) as e:
                    fail(job, e)
        except BaseException:
            for f in futs:
                f.cancel()
            raise


def _run_dask(kind, jobs_list, od, options, scheduler, record, fail):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise HushmicError("--scheduler needs Dask's `distributed`: pip install 'hushmic[cluster]'") from None
    if not jobs_list:
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise HushmicError(f"cannot reach the Dask scheduler at {scheduler} ({type(e).__name__}: {e})") from None
    try:
        futs = {}
        for job in jobs_list:
            data = Path(job["src"]).read_bytes()
            f = client.submit(remote_one, kind, options, job["outputs"], data, pure=False,
                              key=f"hushmic-{kind}-{job['sha256'][:16]}-{job['rel']}")
            futs[f] = job
        for f in as_completed(list(futs)):
            job = futs[f]
            try:
                info = f.result()
            except (HushmicError, OSError) as e:
                fail(job, e)
                continue
            for n, rel in job["outputs"].items():
                write_atomic(od / rel, info["data"][n])
            info.pop("data", None)
            record(job, info)
    finally:
        client.close()
