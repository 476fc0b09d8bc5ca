"""Run an experiment's cells as Ray tasks.

The cell cache is the unit of distribution: every cell is a pure function of its key, so each
Ray task fills one shard of the cells into a shared ``out/cells`` directory (atomic writes; no
two shards share a cell) and one final call assembles tables, figures and the report from the
cache — the same files a single-process run writes, byte for byte.

    import ray, medisim.ray
    ray.init()                       # or ray.init(address="auto") on a cluster
    medisim.ray.map_cells("reproduce", out="/shared/run")

On a cluster ``out`` must be on storage every node can reach.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, Optional

from . import _native


def map_cells(
    experiment: str = "l1",
    out: str = "medisim-out",
    shards: Optional[int] = None,
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    grid: int = 11,
) -> dict:
    """Fill ``experiment``'s cells (``l1``, ``l2``, ``validate`` or ``reproduce``) in ``shards``
    Ray tasks (default: one per CPU Ray reports), then assemble its outputs in ``out``.
    Returns each shard's counts and the assembly's (``computed`` is 0 when every shard
    finished)."""
    import ray

    if not ray.is_initialized():
        raise RuntimeError("call ray.init(...) before medisim.ray.map_cells")
    n = int(shards or max(1, int(ray.available_resources().get("CPU", 1))))
    seeds = [int(s) for s in seeds]
    out = os.path.abspath(os.fspath(out))

    @ray.remote
    def fill(index: int) -> dict:
        from medisim import _native as native

        return json.loads(native.fill_shard(experiment, index, n, out, seeds, horizon, grid))

    shard_stats = ray.get([fill.remote(k) for k in range(1, n + 1)])
    assembled = json.loads(_native.assemble(experiment, out, seeds, horizon, grid))
    return {"shards": shard_stats, "assembled": assembled, "out": out}


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
