"""Batch runs (host_tools/batch.py): a folder through `hushmic redact|transcribe --out-dir`, killed and restarted
(every file done once, nothing half-written), outputs that would overwrite inputs refused, and the same batch on a
Dask LocalCluster giving the same bytes as the local pool."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_vad_cli import needs_vm

REPO = Path(__file__).resolve().parent.parent
UTT = REPO.parent / "shared" / "eval" / "e2e" / "utt"
HUSHMIC = [sys.executable, "-m", "hushmic"]
needs_utt = pytest.mark.skipif(not UTT.is_dir(), reason="shared/eval/e2e not present")


def inputs(tmp_path, n, sub=None):
    d = tmp_path / "in"
    files = sorted(UTT.glob("*.wav"))[:n]
    for k, f in enumerate(files):
        dst = d / (sub if sub and k % 2 else "") / f.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dst)
    return d


def env(tmp_path):
    e = dict(os.environ)
    e["HUSHMIC_HOME"] = str(tmp_path / "home")
    return e


def manifest(out):
    return [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines() if x.strip()]


@needs_vm
@needs_utt
def test_killed_run_continues_and_every_file_is_done_once(tmp_path):
    src = inputs(tmp_path, 6, sub="deeper")
    out = tmp_path / "out"
    cmd = HUSHMIC + ["redact", str(src), "--out-dir", str(out), "--jobs", "1", "--backend", "pocketsphinx"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(tmp_path),
                         start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        m = out / "manifest.jsonl"
        if m.exists() and len(m.read_text().splitlines()) >= 2:
            break
        if p.poll() is not None:
            pytest.fail("the batch ended before it could be killed: " + p.stderr.read().decode()[-500:])
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    first = manifest(out)
    assert 2 <= len(first) < 6, len(first)
    # whatever is there is whole: every output a manifest line names matches its hash; no other output exists
    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env(tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr[-800:]
    summary = json.loads(r.stdout)
    assert summary["skipped"] == len(first) and summary["done"] == 6 - len(first) and not summary["failed"]
    lines = manifest(out)
    rels = [e["rel"] for e in lines]
    assert len(rels) == len(set(rels)) == 6                        # each file done once, none twice
    assert "deeper/" + sorted(UTT.glob("*.wav"))[1].stem in rels    # the folder's layout is kept
    for e in lines:
        for o in e["outputs"].values():
            from hushmic.batch import sha256_file
            assert sha256_file(out / o["path"]) == o["sha256"]
        assert e["audit"]["entities"] >= 0 and "text" not in json.dumps(e["audit"])
    assert not [p for p in out.rglob(".tmp-*")]                    # nothing half-written left behind
    # a third run has nothing to do
    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env(tmp_path), timeout=600)
    s = json.loads(r.stdout)
    assert r.returncode == 0 and s["done"] == 0 and s["skipped"] == 6
    # an input that changed is done again
    f = sorted(src.rglob("*.wav"))[0]
    data = bytearray(f.read_bytes())
    data[len(data) // 2:len(data) // 2 + 200] = b"\x10" * 200
    f.write_bytes(bytes(data))
    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env(tmp_path), timeout=600)
    s = json.loads(r.stdout)
    assert s["done"] == 1 and s["skipped"] == 5


@needs_utt
@pytest.mark.parametrize("how", ["same-dir", "file-in-out"])
def test_an_output_that_would_overwrite_an_input_is_refused(tmp_path, how):
    src = inputs(tmp_path, 2)
    before = {p: p.read_bytes() for p in src.rglob("*")}
    if how == "same-dir":
        args = [str(src), "--out-dir", str(src)]
    else:   # a file whose output name is another input
        out = tmp_path / "out"
        out.mkdir()
        f = sorted(src.glob("*.wav"))[0]
        shutil.copy(f, out / f.name)
        args = [str(out / f.name), "--out-dir", str(out)]
        before[out / f.name] = (out / f.name).read_bytes()
    r = subprocess.run(HUSHMIC + ["redact", *args], capture_output=True, text=True, env=env(tmp_path), timeout=120)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "input" in r.stderr
    assert all(p.read_bytes() == b for p, b in before.items())


def test_batch_options_are_checked(tmp_path):
    from hushmic.cli import main
    assert main(["redact", "a.wav", "b.wav", "--out", str(tmp_path / "x.wav")]) == 2       # several need --out-dir
    assert main(["redact", "a.wav", "--out", str(tmp_path / "x.wav"), "--jobs", "2"]) == 2  # --jobs is for batches
    assert main(["transcribe", str(tmp_path), "--out-dir", str(tmp_path / "o"), "--jobs", "0"]) == 2
    assert main(["transcribe", str(tmp_path), "--out-dir", str(tmp_path / "o")]) == 2      # a folder with no .wav


@needs_vm
@needs_utt
def test_dask_cluster_gives_the_same_bytes_as_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = inputs(tmp_path, 2)
    local, remote = tmp_path / "local", tmp_path / "dask"
    e = env(tmp_path)
    base = HUSHMIC + ["transcribe", str(src), "--backend", "pocketsphinx", "--json"]
    r = subprocess.run(base + ["--out-dir", str(local), "--jobs", "2"], capture_output=True, text=True, env=e,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-800:]
    os.environ["HUSHMIC_HOME"] = e["HUSHMIC_HOME"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        r = subprocess.run(base + ["--out-dir", str(remote), "--scheduler", cluster.scheduler_address],
                           capture_output=True, text=True, env=e, timeout=600)
    assert r.returncode == 0, r.stderr[-800:]
    assert "Dask cluster" in r.stderr
    names = sorted(p.name for p in local.glob("*.json"))
    assert names == sorted(p.name for p in remote.glob("*.json")) and len(names) == 2
    for n in names:
        assert (local / n).read_bytes() == (remote / n).read_bytes(), n
    assert any(json.loads((local / n).read_text())["words"] for n in names)
    a = {x["rel"]: x["outputs"] for x in manifest(local)}
    b = {x["rel"]: x["outputs"] for x in manifest(remote)}
    assert a == b


def test_unreachable_scheduler_is_one_line_exit_1(tmp_path):
    pytest.importorskip("distributed")
    if not UTT.is_dir():
        pytest.skip("shared/eval/e2e not present")
    src = inputs(tmp_path, 1)
    r = subprocess.run(HUSHMIC + ["transcribe", str(src), "--out-dir", str(tmp_path / "o"), "--backend",
                                  "pocketsphinx", "--scheduler", "tcp://127.0.0.1:9"],
                       capture_output=True, text=True, env=env(tmp_path), timeout=120)
    assert r.returncode == 1 and r.stdout == ""
    assert "Dask scheduler" in r.stderr.strip().splitlines()[-1]
