"""How training scales with hidden units, batch size, training-set size, and from a stream.

Four parts (``--parts``), every measurement in its own process with ``--threads``
threads, as ``bench/rbm_epoch.py`` runs its contenders (whose functions it times):

- ``hidden``: one CD-1 epoch of a 784-n RBM on binarised MNIST at batch 100, n from
  128 to 4096, for deepbelief's ``BernoulliRBM`` (``train_epoch``), scikit-learn's
  ``BernoulliRBM(n_iter=1)`` and the bare five GEMMs of CD-1; the fastest of
  ``--repeat`` epochs.
- ``batch``: the same at 500 hidden units, batch from 1000 down to 10.
- ``stream``: a 784-500 ``BernoulliRBM`` (batch 100, CD-1) trained through a
  ``DataLoader`` over a memory-mapped .npy file of ``--copies`` copies of the training
  rows (float32, written once to ``--memmap-path``, reused after), one whole minibatch
  per item, against the same model on the in-memory tensor.
- ``fit``: ``DBNClassifier()`` and ``DBN()`` (defaults, ``random_state=0``) fitted on
  the first n of a fixed permutation (seed 0) of the 60k gray-level training images
  (as ``bench/defaults.py`` reads them), scored on the 10k test images.

Each result is appended to ``--out`` as one JSON line, and a rerun skips what is
already there (``--redo`` measures it again), so a sweep can span several sittings.
An epoch slower than ``--max-seconds`` is not repeated, and its contender's costlier
points in that sweep are skipped; ``--rows`` trains on fewer rows (rates are per
sample). ``--plot`` only draws what ``--out`` holds, partial or not, into PNGs beside
it. ``--smoke`` shrinks everything to check the script in about a minute. Usage::

    python bench/scaling.py [--parts hidden batch stream fit] [--threads 2] [--repeat 2]
        [--rows 60000] [--max-seconds 300] [--hidden 128 256 ...] [--batches 10 20 ...]
        [--sizes 1000 3000 10000 30000 60000] [--models classifier dbn]
        [--memmap-path /tmp/deepbelief_mnist_x10.npy] [--num-workers 0]
        [--out bench/results/scaling.jsonl] [--redo]
    python bench/scaling.py --plot [--out bench/results/scaling.jsonl] [--threads 2]
    python bench/scaling.py --smoke --threads 1 --out /tmp/smoke.jsonl  # then with --plot
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import rbm_epoch  # bench/ is on sys.path when run as a script

HERE = Path(__file__).resolve()
DATA_DIR = str(HERE.parents[2] / "shared/data/mnist")
OUT = HERE.parent / "results" / "scaling.jsonl"
MEMMAP = Path("/tmp/deepbelief_mnist_x10.npy")
SMOKE_MEMMAP = Path("/tmp/deepbelief_scaling_smoke.npy")
PARTS = ("hidden", "batch", "stream", "fit")
CONTENDERS = ("deepbelief", "scikit-learn", "bare GEMMs")
SMOKE = {"rows": 2000, "hidden": [128, 256], "batches": [100, 50], "sizes": [500, 1000],
         "repeat": 1, "pretrain_epochs": 1, "finetune_epochs": 1}


# ------------------------------------------------------------ in the child process
def _repeat(fn: Callable[[], float], repeat: int, max_seconds: float) -> float:
    """The fastest of ``repeat`` timings of ``fn``, stopping after one slower than max_seconds."""
    times: list[float] = []
    while len(times) < repeat and not (times and times[-1] > max_seconds):
        times.append(fn())
    return min(times)


def _epoch_child(job: dict) -> dict:
    spec = job["spec"]
    X = rbm_epoch._data(job["data_dir"])[:spec["rows"]]
    run = rbm_epoch.CONTENDERS[spec["contender"]]
    seconds = _repeat(lambda: run(X, spec["n_hidden"], spec["batch"]), job["repeat"],
                      job["max_seconds"])
    return {"rows_used": len(X), "seconds": seconds, "samples_per_s": len(X) / seconds}


class MemmapMinibatches:
    """A map-style dataset whose item i is minibatch i of a .npy file, rows
    ``[i * batch, (i + 1) * batch)``, as a tensor over the file's memory map.

    The map is opened copy-on-write, lazily in each process that reads it (a
    DataLoader worker opens its own): the tensor shares the mapped pages, no copy.
    """

    def __init__(self, path: str, batch: int) -> None:
        import numpy as np

        self.path, self.batch = path, batch
        self.rows = int(np.load(path, mmap_mode="r").shape[0])
        self._array = None

    def __len__(self) -> int:
        return -(-self.rows // self.batch)

    def __getitem__(self, i: int):
        import numpy as np
        import torch

        if not 0 <= i < len(self):
            raise IndexError(i)
        if self._array is None:
            self._array = np.load(self.path, mmap_mode="c")
        return torch.from_numpy(self._array[i * self.batch:(i + 1) * self.batch])

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _array=None)


def run_memmap(loader, n_hidden: int, batch: int) -> float:
    """One ``train_epoch`` of a fresh 784-n_hidden RBM over the stream ``loader``."""
    from deepbelief import BernoulliRBM

    rbm = BernoulliRBM(n_hidden, n_iter=1, batch_size=batch, random_state=0)
    rbm.partial_fit(next(iter(loader)))  # initialise, as rbm_epoch.run_deepbelief does
    start = time.perf_counter()
    rbm.train_epoch(loader)
    return time.perf_counter() - start


def _stream_child(job: dict) -> dict:
    spec = job["spec"]
    if spec["source"] == "memory":
        return _epoch_child(dict(job, spec=dict(spec, contender="deepbelief")))
    import torch
    from torch.utils.data import DataLoader

    dataset = MemmapMinibatches(job["memmap_path"], spec["batch"])
    workers = spec["num_workers"]
    loader = DataLoader(dataset, batch_size=None, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0,
                        generator=torch.Generator().manual_seed(0))
    seconds = _repeat(lambda: run_memmap(loader, spec["n_hidden"], spec["batch"]),
                      job["repeat"], job["max_seconds"])
    return {"rows_used": dataset.rows, "seconds": seconds,
            "samples_per_s": dataset.rows / seconds}


def _fit_child(job: dict) -> dict:
    import numpy as np

    from deepbelief import DBN, DBNClassifier
    from deepbelief.datasets import load_mnist

    spec = job["spec"]
    X, y = load_mnist("train", data_dir=job["data_dir"])
    X_test, y_test = load_mnist("test", data_dir=job["data_dir"])
    rows = np.random.default_rng(0).permutation(len(X))[:spec["n"]]
    model = {"classifier": DBNClassifier, "dbn": DBN}[spec["model"]]
    est = model(random_state=0, **spec["params"])
    start = time.perf_counter()
    est.fit(X[rows], y[rows])
    seconds = time.perf_counter() - start
    error = 100 * (1 - est.score(X_test, y_test))
    return {"rows_used": len(rows), "seconds": seconds, "error": error}


CHILDREN = {"hidden": _epoch_child, "batch": _epoch_child, "stream": _stream_child,
            "fit": _fit_child}


def _child(job: dict) -> None:
    import torch

    torch.set_num_threads(job["spec"]["threads"])
    print(json.dumps(CHILDREN[job["spec"]["part"]](job)))


# ---------------------------------------------------------- in the parent process
def _key(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)


def read_records(path: Path) -> list[dict]:
    """The records of a JSON-lines file (none if it is missing; a torn last line is dropped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class Runner:
    """Runs measurements in child processes, appending each result to the JSON-lines file."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.done = {} if args.redo else {_key(r["spec"]): r for r in read_records(self.out)
                                         if "spec" in r}

    def measure(self, spec: dict) -> dict | None:
        """The record of ``spec``: the one in the file, or a new measurement (None: failed)."""
        key = _key(spec)
        if key in self.done:
            return self.done[key]
        job = {"spec": spec, "repeat": self.args.repeat, "max_seconds": self.args.max_seconds,
               "data_dir": self.args.data_dir, "memmap_path": str(self.args.memmap_path)}
        proc = subprocess.run([sys.executable, str(HERE), "--child", json.dumps(job)],
                              capture_output=True, text=True,
                              env=rbm_epoch.thread_env(spec["threads"]))
        if proc.returncode != 0:
            print(f"  {_label(spec)}: failed ({proc.stderr.strip().splitlines()[-1:]})",
                  flush=True)
            return None
        record = {"spec": spec, **json.loads(proc.stdout.strip().splitlines()[-1]),
                  "date": datetime.datetime.now().isoformat(timespec="seconds")}
        _append(self.out, record)
        self.done[key] = record
        return record


def _append(path: Path, record: dict) -> None:
    """``record`` as the last line of ``path``, on a line of its own after a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with path.open("a") as f:
        f.write(("\n" if torn else "") + json.dumps(record) + "\n")


def _label(spec: dict) -> str:
    names = {"hidden": ("contender", "n_hidden", "batch"), "batch": ("contender", "n_hidden",
             "batch"), "stream": ("source", "rows"), "fit": ("model", "n")}[spec["part"]]
    return f"{spec['part']}: " + ", ".join(f"{k} {spec[k]}" for k in names)


def _report(spec: dict, record: dict | None, cached: bool) -> None:
    if record is None:
        return
    figures = f"{record['seconds']:8.2f} s"
    if "samples_per_s" in record:
        figures += f", {record['samples_per_s']:9.0f} samples/s"
    if "error" in record:
        figures += f", test error {record['error']:.2f}%"
    print(f"  {_label(spec)}: {figures}{'  (from the file)' if cached else ''}", flush=True)


def _measure(runner: Runner, spec: dict) -> dict | None:
    cached = _key(spec) in runner.done
    record = runner.measure(spec)
    _report(spec, record, cached)
    return record


def epoch_sweep(runner: Runner, part: str, points: Iterable[tuple[int, int]]) -> None:
    """Each contender over the (n_hidden, batch) points, cheapest first, until one is slow."""
    args = runner.args
    for contender in args.contenders:
        for n_hidden, batch in points:
            spec = {"part": part, "contender": contender, "n_hidden": n_hidden,
                    "batch": batch, "rows": args.rows, "threads": args.threads}
            record = _measure(runner, spec)
            if record is not None and record["seconds"] > args.max_seconds:
                print(f"  {contender}: slower than --max-seconds, its costlier points skipped")
                break


def write_memmap(path: Path, X, copies: int) -> None:
    """``copies`` copies of the rows of X in a float32 .npy file at ``path`` (kept if it
    is already there with that shape)."""
    import numpy as np
    from numpy.lib.format import open_memmap

    shape = (copies * len(X), X.shape[1])
    if path.exists() and np.load(path, mmap_mode="r").shape == shape:
        return
    print(f"  writing {shape[0]} rows to {path}", flush=True)
    part = path.with_name(path.name + ".part")
    out = open_memmap(part, mode="w+", dtype=np.float32, shape=shape)
    for k in range(copies):
        out[k * len(X):(k + 1) * len(X)] = X
    out.flush()
    del out
    os.replace(part, path)


def stream_part(runner: Runner) -> None:
    args = runner.args
    write_memmap(Path(args.memmap_path), rbm_epoch._data(args.data_dir)[:args.rows],
                 args.copies)
    common = {"part": "stream", "n_hidden": rbm_epoch.N_HIDDEN, "batch": rbm_epoch.BATCH,
              "threads": args.threads}
    memmap = _measure(runner, {**common, "source": "memmap", "rows": args.copies * args.rows,
                               "num_workers": args.num_workers})
    memory = _measure(runner, {**common, "source": "memory", "rows": args.rows})
    if memmap and memory:
        print(f"  memory-mapped stream / in-memory tensor: "
              f"{memmap['samples_per_s'] / memory['samples_per_s']:.2f}x (target >= 0.9x)",
              flush=True)


def fit_part(runner: Runner) -> None:
    args = runner.args
    params = {k: v for k in ("pretrain_epochs", "finetune_epochs")
              if (v := getattr(args, k)) is not None}
    for model in args.models:
        for n in args.sizes:
            _measure(runner, {"part": "fit", "model": model, "n": n, "threads": args.threads,
                              "params": params})


def run_parts(args: argparse.Namespace) -> None:
    runner = Runner(args)
    for part in args.parts:
        print(part, flush=True)
        if part == "hidden":
            epoch_sweep(runner, part, [(h, rbm_epoch.BATCH) for h in sorted(args.hidden)])
        elif part == "batch":
            batches = sorted(args.batches, reverse=True)
            epoch_sweep(runner, part, [(rbm_epoch.N_HIDDEN, b) for b in batches])
        elif part == "stream":
            stream_part(runner)
        else:
            fit_part(runner)


# ------------------------------------------------------------------------ plots
def _lines(records: list[dict], part: str, series: str, x: str, y: str,
           threads: int) -> dict[str, list[tuple[float, float]]]:
    """Per value of ``series``: the sorted (x, y) points of one part (the newest per x)."""
    points: dict[str, dict[float, float]] = {}
    for r in records:
        spec = r.get("spec", {})
        if spec.get("part") == part and spec.get("threads") == threads:
            points.setdefault(spec[series], {})[spec[x]] = r[y]
    return {name: sorted(p.items()) for name, p in points.items()}


def _draw(ax, lines: dict[str, list[tuple[float, float]]], xlabel: str, ylabel: str,
          log_y: bool = True) -> None:
    """One line per series on log axes (y linear unless ``log_y``), ticked at the data's x."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for name, pts in lines.items():
        ax.plot(*zip(*pts, strict=True), marker="o", label=name)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.set_xscale("log")
    ax.set_xticks(sorted({x for pts in lines.values() for x, _ in pts}))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()


def _threads(threads: int) -> str:
    return f"{threads} thread{'s' * (threads != 1)}"


def plot_epochs(records: list[dict], out_dir: Path, threads: int) -> None:
    import matplotlib.pyplot as plt

    for part, x, fixed in (("hidden", "n_hidden", f"batch {rbm_epoch.BATCH}"),
                           ("batch", "batch", f"{rbm_epoch.N_HIDDEN} hidden units")):
        lines = _lines(records, part, "contender", x, "samples_per_s", threads)
        if not lines:
            print(f"no {part} results for {_threads(threads)}: scaling_{part}.png not written")
            continue
        fig, ax = plt.subplots(figsize=(6, 4.5))
        _draw(ax, lines, "hidden units" if part == "hidden" else "batch size", "samples / s")
        ax.set_title(f"CD-1 epoch, binarised MNIST, {fixed}, {_threads(threads)}")
        _save(fig, out_dir / f"scaling_{part}.png")


def plot_fit(records: list[dict], out_dir: Path, threads: int) -> None:
    import matplotlib.pyplot as plt

    seconds = _lines(records, "fit", "model", "n", "seconds", threads)
    if not seconds:
        print(f"no fit results for {_threads(threads)}: scaling_fit.png not written")
        return
    errors = _lines(records, "fit", "model", "n", "error", threads)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    _draw(left, seconds, "training images", "fit seconds")
    _draw(right, errors, "training images", "test error (%)", log_y=False)
    fig.suptitle(f"DBNClassifier() and DBN() on MNIST, {_threads(threads)}")
    _save(fig, out_dir / "scaling_fit.png")


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    records = read_records(Path(args.out))
    out_dir = Path(args.out).parent
    plot_epochs(records, out_dir, args.threads)
    plot_fit(records, out_dir, args.threads)


# ------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--rows", type=int, default=60000,
                   help="training rows of the epochs (the stream file holds --copies x as many)")
    p.add_argument("--max-seconds", type=float, default=300.0,
                   help="an epoch slower than this is not repeated and ends its sweep")
    p.add_argument("--contenders", nargs="+", choices=list(rbm_epoch.CONTENDERS),
                   default=list(CONTENDERS))
    p.add_argument("--hidden", nargs="+", type=int, default=[128, 256, 512, 1024, 2048, 4096])
    p.add_argument("--batches", nargs="+", type=int, default=[10, 20, 50, 100, 200, 500, 1000])
    p.add_argument("--sizes", nargs="+", type=int, default=[1000, 3000, 10000, 30000, 60000])
    p.add_argument("--models", nargs="+", choices=("classifier", "dbn"),
                   default=["classifier", "dbn"])
    p.add_argument("--pretrain-epochs", type=int, default=None)
    p.add_argument("--finetune-epochs", type=int, default=None)
    p.add_argument("--memmap-path", default=None, help=f"default {MEMMAP}")
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--redo", action="store_true", help="measure again what --out already holds")
    p.add_argument("--plot", action="store_true", help="only draw the PNGs from --out")
    p.add_argument("--smoke", action="store_true",
                   help="everything tiny by default, to check the script")
    p.add_argument("--child", help=argparse.SUPPRESS)
    if p.parse_args().smoke:  # the smoke sizes as defaults: options given still count
        p.set_defaults(**SMOKE)
    args = p.parse_args()
    if args.memmap_path is None:
        args.memmap_path = str(SMOKE_MEMMAP if args.smoke else MEMMAP)
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        _child(json.loads(args.child))
    elif args.plot:
        plot(args)
    else:
        run_parts(args)


if __name__ == "__main__":
    main()
