"""Workload generators: many small files, one big file, and the seed's example project.

Data is generated once per work directory and reused (a marker file records the parameters).
Contents are pseudo-random from a fixed seed, so every run hashes the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from dataclasses import dataclass

FILES_PER_DIR = 100


@dataclass(frozen=True)
class Workload:
    key: str  # "10k", "1g", "example"
    title: str
    targets: tuple[str, ...]  # what `add` is given, relative to the repo root
    src: str  # directory holding the generated files (copied into each tool's repo)
    nfiles: int
    nbytes: int
    cache_type: str = ""  # cache.type set in each tool's repository ("" = the default, copy)


def _done(marker: str, params: dict) -> bool:
    try:
        with open(marker) as f:
            return json.load(f) == params
    except (OSError, ValueError):
        return False


def _mark(marker: str, params: dict) -> None:
    with open(marker, "w") as f:
        json.dump(params, f)


def small_files(work: str, n: int, size: int = 1024) -> Workload:
    """``n`` files of ``size`` bytes in a two-level tree of directories, 100 files per leaf."""
    key = _count_label(n)
    src = os.path.join(work, "data", f"small-{key}")
    params = {"n": n, "size": size, "v": 1}
    marker = src + ".json"
    if not _done(marker, params):
        shutil.rmtree(src, ignore_errors=True)
        rng = random.Random(8)
        leaves = max(1, math.ceil(n / FILES_PER_DIR))
        top = max(1, math.ceil(math.sqrt(leaves)))
        made = 0
        for leaf in range(leaves):
            d = os.path.join(src, "data", f"d{leaf // top:03d}", f"s{leaf % top:03d}")
            os.makedirs(d, exist_ok=True)
            for j in range(min(FILES_PER_DIR, n - made)):
                with open(os.path.join(d, f"f{j:03d}.bin"), "wb") as f:
                    f.write(rng.randbytes(size))
                made += 1
        _mark(marker, params)
    return Workload(key, f"{n:,} files of {_size_label(size)} in nested directories", ("data",), src, n, n * size)


def mid_files(work: str, cache_type: str = "", n: int = 2226) -> Workload:
    """issue 26's mid-size dataset: ``n`` files of 20-64 KB (about 93 MB) in 20 directories, run
    with ``cache_type`` (copy, hardlink, symlink) as the cache type."""
    src = os.path.join(work, "data", f"mid-{n}")
    params = {"n": n, "v": 1}
    marker = src + ".json"
    if not _done(marker, params):
        shutil.rmtree(src, ignore_errors=True)
        rng = random.Random(26)
        per = math.ceil(n / 20)
        for i in range(n):
            d = os.path.join(src, "data", f"d{i // per:02d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i % per:03d}.bin"), "wb") as f:
                f.write(rng.randbytes(rng.randint(20 << 10, 64 << 10)))
        _mark(marker, params)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)
    key = "mid" + (f"-{cache_type}" if cache_type else "")
    title = f"{n:,} files of 20-64 KB in 20 directories, cache.type {cache_type or 'copy'}"
    return Workload(key, title, ("data",), src, n, total, cache_type)


def tiny_files(work: str, cache_type: str = "", n: int = 70_000) -> Workload:
    """issue 26's many-tiny-files dataset (MNIST as PNGs): ``n`` files of 150-400 bytes in 70
    directories, run with ``cache_type`` (copy, hardlink, symlink) as the cache type."""
    src = os.path.join(work, "data", f"tiny-{n}")
    params = {"n": n, "v": 1}
    marker = src + ".json"
    if not _done(marker, params):
        shutil.rmtree(src, ignore_errors=True)
        rng = random.Random(70)
        per = math.ceil(n / 70)
        for i in range(n):
            d = os.path.join(src, "data", f"d{i // per:02d}")
            if i % per == 0:
                os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"{i % per:05d}.png"), "wb") as f:
                f.write(rng.randbytes(rng.randint(150, 400)))
        _mark(marker, params)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)
    key = "tiny" + (f"-{cache_type}" if cache_type else "")
    title = f"{n:,} files of 150-400 bytes in 70 directories, cache.type {cache_type or 'copy'}"
    return Workload(key, title, ("data",), src, n, total, cache_type)


def big_file(work: str, size: int) -> Workload:
    label = _size_label(size)
    src = os.path.join(work, "data", f"big-{label}")
    params = {"size": size, "v": 1}
    marker = src + ".json"
    if not _done(marker, params):
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        rng = random.Random(9)
        with open(os.path.join(src, "big.bin"), "wb") as f:
            left = size
            while left:
                n = min(left, 8 << 20)
                f.write(rng.randbytes(n))
                left -= n
        _mark(marker, params)
    return Workload(label.lower(), f"one {label} file of random bytes", ("big.bin",), src, 1, size)


def example(work: str) -> Workload:
    """Files shaped like the seed's example (CML/DVC blog): four CSV feature/label files written as
    ``np.savetxt`` does (``%.18e``, 1000 samples x 20 features, 750/250 split) and a ~330 KB model.

    scikit-learn is not needed: the numbers come from a seeded generator, the model is seeded bytes.
    """
    src = os.path.join(work, "data", "example")
    params = {"v": 1}
    marker = src + ".json"
    if not _done(marker, params):
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(os.path.join(src, "data"))
        os.makedirs(os.path.join(src, "model"))
        rng = random.Random(42)
        for split, rows in (("train", 750), ("test", 250)):
            with open(os.path.join(src, "data", f"{split}_features.csv"), "w") as f:
                for _ in range(rows):
                    f.write(" ".join(f"{rng.gauss(0, 1.5):.18e}" for _ in range(20)) + "\n")
            with open(os.path.join(src, "data", f"{split}_labels.csv"), "w") as f:
                for _ in range(rows):
                    f.write(f"{float(rng.randint(0, 1)):.18e}\n")
        with open(os.path.join(src, "model", "random_forest.joblib"), "wb") as f:
            f.write(rng.randbytes(330_000))
        _mark(marker, params)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)
    return Workload(
        "example", "the seed's example: data/ (4 CSV files) and model/random_forest.joblib",
        ("data", "model/random_forest.joblib"), src, 5, total,
    )


def _count_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _size_label(size: int) -> str:
    for unit, div in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= div and size % div == 0:
            return f"{size // div}{unit}"
    return f"{size}B"


def parse_size(text: str) -> int:
    t = text.strip().upper().removesuffix("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    return int(float(t.rstrip("KMG")) * mult)


def parse_count(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t.rstrip("km")) * mult)
