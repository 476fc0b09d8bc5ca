"""Run an experiment's cells as Ray tasks.

The cell cache is the unit of distribution: every cell is a pure function of its key, so each
Ray task fills one shard of the cells into a shared ``out/cells`` directory (atomic writes; no
two shards share a cell) and one final call assembles tables, figures and the report from the
cache — the same files a single-process run writes, byte for byte.

    import ray, medisim.ray
    ray.init()                       # or ray.init(address="auto") on a cluster
    medisim.ray.map_cells("reproduce", out="/shared/run")

On a cluster ``out`` must be on storage every node can reach, unless ``shared_storage=False``:
then each task fills its shard into a directory of its own node and returns the finished cell
files through Ray's object store, and the driver writes them into ``out/cells`` (atomically) before
it assembles. ``map_sweep`` does the same for a sweep of any model (``model="panel"``, …).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Callable, Dict, Iterable, Optional

from . import _native


def _shard_files(fill: Callable[[str], str], shared_out: Optional[str]) -> dict:
    """Run ``fill(out)`` (one shard's cells into ``out/cells``): into ``shared_out`` when the
    nodes share storage, else into a directory of this node, returning the finished cell files
    (name → bytes) with the counts, for the driver to write."""
    if shared_out is not None:
        return {"stats": json.loads(fill(shared_out)), "cells": {}}
    with tempfile.TemporaryDirectory(prefix="medisim-shard-") as local:
        stats = json.loads(fill(local))
        cells = os.path.join(local, "cells")
        files = {}
        if os.path.isdir(cells):
            for name in sorted(os.listdir(cells)):
                if name.endswith(".json"):
                    with open(os.path.join(cells, name), "rb") as f:
                        files[name] = f.read()
        return {"stats": stats, "cells": files}


def _write_cells(out: str, files: Dict[str, bytes]) -> None:
    """Write cell files returned by the tasks into ``out/cells``, each through a temporary and
    a rename, so a killed driver leaves whole cells or none."""
    cells = os.path.join(out, "cells")
    os.makedirs(cells, exist_ok=True)
    for name, data in files.items():
        if os.path.basename(name) != name or not name.endswith(".json"):
            raise ValueError(f"a task returned a cell file named {name!r}")
        tmp = os.path.join(cells, f".{name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(cells, name))


def map_cells(
    experiment: str = "l1",
    out: str = "medisim-out",
    shards: Optional[int] = None,
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    grid: int = 11,
    shared_storage: bool = True,
) -> dict:
    """Fill ``experiment``'s cells (``l1``, ``l2``, ``validate`` or ``reproduce``) in ``shards``
    Ray tasks (default: one per CPU Ray reports), then assemble its outputs in ``out``.
    Returns each shard's counts and the assembly's (``computed`` is 0 when every shard
    finished). ``shared_storage=False``: the cells come back through the object store."""
    import ray

    if not ray.is_initialized():
        raise RuntimeError("call ray.init(...) before medisim.ray.map_cells")
    n = int(shards or max(1, int(ray.available_resources().get("CPU", 1))))
    seeds = [int(s) for s in seeds]
    out = os.path.abspath(os.fspath(out))

    shared = out if shared_storage else None

    @ray.remote
    def fill(index: int) -> dict:
        from medisim import _native as native
        from medisim.ray import _shard_files

        return _shard_files(
            lambda o: native.fill_shard(experiment, index, n, o, seeds, horizon, grid), shared
        )

    results = ray.get([fill.remote(k) for k in range(1, n + 1)])
    for r in results:
        _write_cells(out, r["cells"])
    shard_stats = [r["stats"] for r in results]
    assembled = json.loads(_native.assemble(experiment, out, seeds, horizon, grid))
    return {"shards": shard_stats, "assembled": assembled, "out": out}


def map_sweep(
    *sets: str,
    out: str = "medisim-out",
    shards: Optional[int] = None,
    shared_storage: bool = True,
    **sweep: object,
):
    """``medisim.sweep(*sets, **sweep)`` of any model (``model="panel"``, ``"contract"``, …) with
    its cells computed in ``shards`` Ray tasks, then the table assembled from the cache in
    ``out`` — the same table a single-process sweep returns. ``shared_storage=False``: the
    cells come back through Ray's object store and the driver writes them."""
    import ray

    import medisim

    if not ray.is_initialized():
        raise RuntimeError("call ray.init(...) before medisim.ray.map_sweep")
    n = int(shards or max(1, int(ray.available_resources().get("CPU", 1))))
    out = os.path.abspath(os.fspath(out))
    shared = out if shared_storage else None

    @ray.remote
    def fill(index: int) -> dict:
        from medisim import _sweep_shard
        from medisim.ray import _shard_files

        return _shard_files(lambda o: _sweep_shard(sets, index, n, o, **sweep), shared)

    for r in ray.get([fill.remote(k) for k in range(1, n + 1)]):
        _write_cells(out, r["cells"])
    return medisim.sweep(*sets, out=out, **sweep)


def search(
    out: str,
    objective: str = "mixed",
    seed: int = 0,
    iterations: Optional[int] = None,
):
    """A policy search whose evaluations run as Ray tasks. The search asks for one
    evaluation at a time and uses the answers in order, so it follows exactly the path of the
    same search run locally (same programs, same best, same held-out table)."""
    import ray

    import medisim

    if not ray.is_initialized():
        raise RuntimeError("call ray.init(...) before medisim.ray.search")

    @ray.remote
    def evaluate(policy: str, scenario: str, seeds: list, horizon: int, objective: str) -> str:
        from medisim import _native as native

        return native.evaluate(policy, scenario, seeds, horizon, objective)

    def backend(policy, scenario, seeds, horizon, objective):
        return ray.get(evaluate.remote(policy, scenario, list(seeds), int(horizon), objective))

    r = json.loads(
        _native.search(os.fspath(out), objective, int(seed), iterations, backend)
    )
    rows = [dict(method=t["method"], policy=t["policy"], **t["metrics"]) for t in r["table"]]
    best = medisim.check(r["best_policy"])
    return medisim.SearchResult(table=medisim._rows(rows), best=best, updates=r["updates"])
