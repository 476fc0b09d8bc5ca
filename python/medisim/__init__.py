"""medisim: healthcare mechanism design under strategic provider response, from Python.

A thin layer over the Rust crates behind the ``medisim`` command line (the native module
``medisim._native``): every call parses its inputs with the crates' own readers, runs with the
GIL released, and returns the command line's numbers bit for bit. Tables come back as pandas
DataFrames when pandas is installed, else as dicts of NumPy arrays (or of lists without NumPy).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _native

__all__ = [
    "MODEL_VERSION",
    "__version__",
    "gym",
    "Diagnostic",
    "Policy",
    "Scenario",
    "Params",
    "check",
    "run",
    "summary",
    "trace",
    "validate",
    "l1",
    "l2",
    "sweep",
    "search",
    "contract",
    "panel",
    "panel_experiments",
    "panel_sweep",
    "game",
    "game_tables",
    "cea",
    "CostEffectiveness",
    "panel_psa",
    "PanelPsa",
]

MODEL_VERSION: str = _native.MODEL_VERSION


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("medisim")
    except Exception:  # not installed as a distribution (a source checkout on the path)
        return "unknown"


__version__: str = _package_version()


def __getattr__(name: str):
    # ``medisim.gym`` after ``import medisim``, imported on first use because gymnasium is
    # optional.
    if name == "gym":
        import importlib

        return importlib.import_module(".gym", __name__)
    raise AttributeError(f"module 'medisim' has no attribute {name!r}")

#: Show a tqdm progress bar during long calls when tqdm is installed.
PROGRESS: bool = True


def _call(fn, *args, desc: str = "medisim"):
    """Run a native call on a worker thread (it releases the GIL): the main thread waits in
    short slices, so Ctrl-C raises KeyboardInterrupt at once (the worker finishes in the
    background and its result is dropped), and a tqdm bar follows the call's progress."""
    box: dict = {}

    def work() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=work, daemon=True)
    t.start()
    bar = None
    try:
        if PROGRESS:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=0, desc=desc, leave=False)
            except ModuleNotFoundError:
                bar = None
        while t.is_alive():
            t.join(0.1)
            if bar is not None:
                done, total = _native.progress()
                if total and bar.total != total:
                    bar.total = total
                bar.n = done
                bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    if "error" in box:
        raise box["error"]
    return box["value"]

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - older interpreters
    try:
        import tomli as _toml  # type: ignore[no-redef]
    except ModuleNotFoundError:
        _toml = None  # type: ignore[assignment]


def _table(columns: Dict[str, list]) -> Any:
    """Columns as a DataFrame (pandas), a dict of arrays (NumPy) or the dict itself."""
    try:
        import pandas as pd

        return pd.DataFrame(columns)
    except ModuleNotFoundError:
        pass
    try:
        import numpy as np

        return {k: np.asarray(v) for k, v in columns.items()}
    except ModuleNotFoundError:
        return columns


def _rows(rows: List[dict]) -> Any:
    columns: Dict[str, list] = {}
    for r in rows:
        for k in r:
            columns.setdefault(k, [])
    for r in rows:
        for k in columns:
            columns[k].append(r.get(k))
    return _table(columns)


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a policy, as the command line reports it."""

    line: int
    column: int
    severity: str
    code: str
    message: str
    expected: str
    help: Optional[str]
    text: str

    def __str__(self) -> str:
        return self.text


class Policy:
    """A policy that checks: its source, name and canonical hash."""

    def __init__(self, source: str, name: str, hash: str, formatted: Optional[str]):
        self.source = source
        self.name = name
        self._hash = hash
        self._formatted = formatted

    def hash(self) -> str:
        """The canonical hash (layout and comments do not change it)."""
        return self._hash

    def format(self) -> str:
        """The policy in canonical layout (`medisim fmt`)."""
        return self._formatted if self._formatted is not None else self.source

    def __repr__(self) -> str:
        return f"Policy({self.name!r}, hash={self._hash[:12]})"


def _source(text_or_path: Union[str, os.PathLike]) -> tuple:
    s = os.fspath(text_or_path)
    if "\n" not in s and os.path.exists(s):
        with open(s, encoding="utf-8") as f:
            return f.read(), s
    return s, "<string>"


def check(text_or_path: Union[str, os.PathLike]) -> Union[Policy, List[Diagnostic]]:
    """Check a policy given as text or a path: a :class:`Policy`, or its diagnostics."""
    source, origin = _source(text_or_path)
    out = json.loads(_native.check(source, origin))
    if out["ok"]:
        return Policy(source, out["name"], out["hash"], out["formatted"])
    return [Diagnostic(**d) for d in out["diagnostics"]]


def _policy_text(policy: Union[None, str, os.PathLike, Policy]) -> Optional[str]:
    if policy is None:
        return None
    if isinstance(policy, Policy):
        return policy.source
    return _source(policy)[0]


def _lookup(data: dict, key: str, what: str) -> Any:
    """The value at a dotted key of parsed TOML, or KeyError naming it."""
    v: Any = data
    for part in key.split("."):
        if not isinstance(v, dict) or part not in v:
            raise KeyError(f"unknown {what} key `{key}`")
        v = v[part]
    return v


def _dotted_keys(data: dict) -> List[str]:
    """Every dotted key of parsed TOML."""
    out: List[str] = []

    def walk(prefix: str, d: dict) -> None:
        for k, v in d.items():
            name = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(name + ".", v)
            else:
                out.append(name)

    walk("", data)
    return out


def _key(name: str) -> str:
    """A keyword argument as the key `--set` takes: ``__`` is a dot, or an index before a
    number (``retinopathy__macular_edema_cost``, ``k__0`` for ``k[0]``)."""
    head, *parts = name.split("__")
    return head + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


def _parse_toml(text: str) -> dict:
    if _toml is None:  # pragma: no cover
        raise RuntimeError("reading keys needs tomllib (Python 3.11+) or tomli")
    return _toml.loads(text)


class _Section:
    """A read-only view of one table of a scenario: ``s.care.omega``."""

    def __init__(self, name: str, data: dict):
        self._name, self._data = name, data

    def __getattr__(self, key: str) -> Any:
        k = key[:-1] if key.endswith("_") and key[:-1] in self._data else key  # lambda_
        if k not in self._data:
            raise AttributeError(f"scenario has no key `{self._name}.{key}`")
        v = self._data[k]
        return _Section(f"{self._name}.{k}", v) if isinstance(v, dict) else v

    def __dir__(self):
        return list(self._data)


class Scenario:
    """A Medi-Sim scenario: every constant by its dotted name (``s["care.lambda"]``) or as an
    attribute (``s.care.omega``; ``s.care.lambda_`` for a Python keyword), validated on every
    change (:meth:`with_`)."""

    def __init__(self, toml_text: str):
        self._toml = _native.scenario_toml(toml_text, "<scenario>")

    @staticmethod
    def default() -> "Scenario":
        """The built-in scenario."""
        return Scenario(_native.default_scenario())

    @staticmethod
    def from_toml(path: Union[str, os.PathLike]) -> "Scenario":
        """Read a scenario file; every key is checked against its legal range."""
        with open(os.fspath(path), encoding="utf-8") as f:
            text = f.read()
        s = Scenario.__new__(Scenario)
        s._toml = _native.scenario_toml(text, os.fspath(path))
        return s

    def to_toml(self) -> str:
        return self._toml

    def _data(self) -> dict:
        return _parse_toml(self._toml)

    def __getitem__(self, key: str) -> Any:
        return _lookup(self._data(), key, "scenario")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        data = self._data()
        if key not in data:
            raise AttributeError(f"scenario has no key `{key}`")
        v = data[key]
        return _Section(key, v) if isinstance(v, dict) else v

    def __dir__(self):
        return list(super().__dir__()) + list(self._data())

    def keys(self) -> List[str]:
        """Every dotted key."""
        return _dotted_keys(self._data())

    def with_(self, **values: float) -> "Scenario":
        """A copy with constants set: ``s.with_(**{"care.lambda": 0.6})`` or, with ``__`` for
        the dot, ``s.with_(care__lambda=0.6)``. A bad key or value raises ValueError naming it."""
        text = self._toml
        for key, value in values.items():
            text = _native.scenario_with(text, key.replace("__", "."), float(value))
        s = Scenario.__new__(Scenario)
        s._toml = text
        return s

    def __repr__(self) -> str:
        return "Scenario(…)"


class Params:
    """The parameters of one of the other models (``panel``, ``ct-scanner``, ``imaging``,
    ``chronic-care``, ``contract``), as :class:`Scenario` is Medi-Sim's: every key by its name
    (``p["margin"]``, ``p["retinopathy.macular_edema_cost"]``, ``p["k"]``), validated on every
    change by the model's own setter (:meth:`with_`), and accepted as ``params=`` by
    :func:`run` and :func:`sweep`."""

    def __init__(self, model: str, toml_text: Optional[str] = None):
        self.model = model
        self._toml = _native.model_params(model, toml_text, [])

    @staticmethod
    def default(model: str) -> "Params":
        """The model's built-in parameters."""
        return Params(model)

    @staticmethod
    def from_toml(model: str, path: Union[str, os.PathLike]) -> "Params":
        """Read a parameter file (the command line's ``--params``); every value is checked."""
        with open(os.fspath(path), encoding="utf-8") as f:
            return Params(model, f.read())

    def to_toml(self) -> str:
        return self._toml

    def __getitem__(self, key: str) -> Any:
        return _lookup(_parse_toml(self._toml), key, f"{self.model} parameter")

    def keys(self) -> List[str]:
        """Every dotted key."""
        return _dotted_keys(_parse_toml(self._toml))

    def with_(self, **values: Any) -> "Params":
        """A copy with values set by key, as ``--set`` sets them: ``p.with_(margin=0.3)``;
        ``__`` stands for the dot (``retinopathy__macular_edema_cost``) or, before a number, an
        index (``k__0`` for ``k[0]``). A bad key or value
        raises ValueError naming it and its legal range."""
        sets = [f"{_key(k)}={json.dumps(v)}" for k, v in values.items()]
        p = Params.__new__(Params)
        p.model = self.model
        p._toml = _native.model_params(self.model, self._toml, sets)
        return p

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Params) and (self.model, self._toml) == (other.model, other._toml)

    def __repr__(self) -> str:
        return f"Params({self.model!r}, …)"


def _seeds(seeds: Iterable[int]) -> List[int]:
    return [int(s) for s in seeds]


def _run(policy, scenario, seeds, horizon, objective) -> dict:
    return json.loads(
        _call(
            _native.run,
            _policy_text(policy),
            scenario.to_toml() if scenario is not None else None,
            _seeds(seeds),
            int(horizon),
            objective,
            desc="run",
        )
    )


def run(
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
    seeds: Optional[Iterable[int]] = None,
    horizon: int = 200,
    objective: str = "mixed",
    *,
    model: str = "medisim",
    params: Union[None, str, "Params", Dict[str, float]] = None,
    disease: Optional[str] = None,
) -> Any:
    """Run a model on each seed (``medisim run --model MODEL``).

    Medi-Sim (the default): the policy (default: the baseline) on each seed, one row per seed,
    one column per metric (the names of ``medisim run``), plus ``seed``; seeds default to 1..30.

    Any other model (``panel``, ``ct-scanner``, ``imaging``, ``chronic-care``, ``contract``):
    ``params`` is the model's parameters as a :class:`Params`, TOML text or a ``{"key": number}`` dict set by key
    (``margin``, ``retinopathy.macular_edema_cost``, ``benchmark``, ``gamma``), ``disease`` a
    panel's Markov model as TOML text; one row per metric (mean, std, 95% interval, n). The
    panel's seeds default to its configuration's runs (0..39); games and contracts are
    deterministic and run once. The panel's ``policy`` is a payment program
    (``policies/panel/*.policy``) as text or a path."""
    if model != "medisim":
        # The panel's policy is a payment program (policies/panel/*.policy), text or a path.
        if (policy is not None and model != "panel") or scenario is not None:
            raise ValueError(f"policy and scenario belong to Medi-Sim; model {model!r} takes params")
        toml_text, fixed = _params(params)
        out = json.loads(
            _call(
                _native.run_model,
                model,
                None if seeds is None else _seeds(seeds),
                toml_text,
                disease,
                fixed,
                int(horizon),
                _policy_text(policy),
                desc="run",
            )
        )
        return _rows(out["table"])
    if params is not None or disease is not None:
        raise ValueError("params and disease belong to the other models; Medi-Sim takes scenario")
    out = _run(policy, scenario, range(1, 31) if seeds is None else seeds, horizon, objective)
    columns = {"seed": out["seeds"]}
    columns.update(out["per_seed"])
    return _table(columns)


def _params(params: Union[None, str, "Params", Dict[str, float]]) -> tuple:
    """A model's ``params``: a :class:`Params`, TOML text, or a dict of numbers set key by
    key."""
    if params is None:
        return None, []
    if isinstance(params, Params):
        return params.to_toml(), []
    if isinstance(params, str):
        return params, []
    return None, [f"{k}={json.dumps(v)}" for k, v in params.items()]


def summary(
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    objective: str = "mixed",
) -> Dict[str, dict]:
    """Each metric's mean, std, 95% interval and n over the seeds: ``medisim run --json``'s
    ``metrics``."""
    return _run(policy, scenario, seeds, horizon, objective)["summary"]


def trace(
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
    seeds: Iterable[int] = (1,),
    horizon: int = 200,
    objective: str = "mixed",
) -> Any:
    """Every team in every period of every seed (``medisim run --trace``): one row each,
    the trace's columns (replicate, period, team, beds, …)."""
    columns = json.loads(
        _call(
            _native.trace,
            _policy_text(policy),
            scenario.to_toml() if scenario is not None else None,
            _seeds(seeds),
            int(horizon),
            objective,
            desc="trace",
        )
    )
    return _table(columns)


def _setting(policy, scenario) -> tuple:
    """An experiment's policy and scenario as the native calls take them (None: the defaults)."""
    return _policy_text(policy), scenario.to_toml() if scenario is not None else None


def validate(
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
) -> Any:
    """The nine stylized facts (``medisim validate``): name, expected, observed, margins,
    smallest margin, pass; in ``scenario`` under ``policy`` when given."""
    return _rows(json.loads(_call(
        _native.validate, _seeds(seeds), int(horizon), *_setting(policy, scenario), desc="validate"
    )))


def l1(
    grid: int = 11,
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
) -> Any:
    """The L1 (α, β) grid (``medisim l1``), tidy: one row per cell × metric."""
    return _rows(json.loads(_call(
        _native.l1, int(grid), _seeds(seeds), int(horizon), *_setting(policy, scenario), desc="L1"
    )))


def sweep(
    *sets: str,
    design: str = "grid",
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
    seeds: Optional[Iterable[int]] = None,
    horizon: int = 200,
    metrics: Iterable[str] = (),
    replicates: bool = False,
    design_seed: int = 1,
    model: str = "medisim",
    params: Union[None, str, "Params", Dict[str, float]] = None,
    disease: Optional[str] = None,
    out: Union[None, str, os.PathLike] = None,
) -> Any:
    """``medisim sweep --model MODEL``: each ``"KEY=a:b:n"``, ``"KEY=a:b"`` or ``"KEY=v1,v2"``
    over a design (``grid``, ``oneway``, ``lhs:N``, ``sobol:N``), tidy: one row per design point × metric
    (with ``replicates``, per design point × seed × metric), every swept key a column. Any
    model: ``params`` (TOML text or a dict of numbers) and ``disease`` as in :func:`run`;
    seeds default to 1..30 (the panel: its runs; games and contracts run once). ``out``: the
    cells are cached there (a rerun resumes; ``medisim.ray.map_sweep`` fills it in shards)."""
    text = _call(_native.sweep, *_sweep_args(sets, design, policy, scenario, seeds, horizon,
                                              metrics, replicates, design_seed, model, params,
                                              disease, out), desc="sweep")
    return _csv_table(text)


def _sweep_args(sets, design, policy, scenario, seeds, horizon, metrics, replicates,
                design_seed, model, params, disease, out) -> tuple:
    toml_text, fixed = _params(params)
    return (
        list(sets),
        design,
        _policy_text(policy),
        scenario.to_toml() if scenario is not None else None,
        None if seeds is None else _seeds(seeds),
        int(horizon),
        list(metrics),
        bool(replicates),
        int(design_seed),
        model,
        toml_text,
        disease,
        fixed,
        None if out is None else os.fspath(out),
    )


def _sweep_shard(sets, index: int, count: int, out, design: str = "grid", policy=None,
                 scenario=None, seeds=None, horizon: int = 200, metrics=(),
                 replicates: bool = False, design_seed: int = 1, model: str = "medisim",
                 params=None, disease=None) -> str:
    """Fill shard ``index`` of ``count`` of a sweep's cells into ``out/cells`` (what
    ``medisim sweep --shard K/N`` does): JSON ``{total, computed, reused}``."""
    args = _sweep_args(sets, design, policy, scenario, seeds, horizon, metrics, replicates,
                       design_seed, model, params, disease, out)
    return _native.sweep(*args, (int(index), int(count)))


def _csv_table(text: str) -> Any:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    for r in rows:
        for k, v in r.items():
            if k != "metric":
                r[k] = float(v) if k not in ("point", "seed", "n") else int(v)
    return _rows(rows)


def l2(
    lever: str = "all",
    seeds: Iterable[int] = range(1, 31),
    horizon: int = 200,
    policy: Union[None, str, os.PathLike, Policy] = None,
    scenario: Optional[Scenario] = None,
) -> Any:
    """The L2 one-at-a-time lever sweeps (``medisim l2``), tidy: one row per cell × metric."""
    return _rows(json.loads(_call(
        _native.l2, lever, _seeds(seeds), int(horizon), *_setting(policy, scenario), desc="L2"
    )))


@dataclass
class SearchResult:
    """A policy search: the held-out table, the best policy found."""

    table: Any
    best: Policy
    updates: list


def search(
    out: Union[str, os.PathLike],
    objective: Optional[str] = None,
    seed: int = 0,
    iterations: Optional[int] = None,
    *,
    model: str = "medisim",
    params: Union[None, str, "Params", Dict[str, float]] = None,
    disease: Optional[str] = None,
    wtp: Optional[float] = None,
    panel_runs: Optional[int] = None,
) -> SearchResult:
    """Search policies (the offline edit operator) into ``out``: the held-out comparison of
    the searched policy with the baselines, and the best policy.

    Medi-Sim (the default) searches hospital policies for ``objective`` (welfare, profit or
    mixed, the default). ``model="panel"`` searches the panel's payment programs for the
    payer's net monetary benefit per patient at ``wtp`` dollars per QALY (default 50,000),
    the provider answering each program; ``params`` and ``disease`` as for :func:`run`,
    ``panel_runs`` panels per search seed (default 100)."""
    toml_text, fixed = _params(params)
    r = json.loads(
        _call(
            _native.search,
            os.fspath(out),
            objective,
            int(seed),
            iterations,
            None,
            model,
            toml_text,
            disease,
            fixed,
            wtp,
            panel_runs,
            desc="search",
        )
    )
    rows = [dict(method=t["method"], policy=t["policy"], **t["metrics"]) for t in r["table"]]
    best = check(r["best_policy"])
    if not isinstance(best, Policy):  # pragma: no cover - the search writes checked programs
        raise RuntimeError("the best policy does not check")
    return SearchResult(table=_rows(rows), best=best, updates=r["updates"])


def contract(
    model: Optional[str] = None,
    pi00: Optional[float] = None,
    pi01: Optional[float] = None,
    pi10: Optional[float] = None,
    pi11: Optional[float] = None,
    gamma: Optional[float] = None,
    p11: Optional[float] = None,
    t: Optional[float] = None,
    w0: Optional[float] = None,
    w1: Optional[float] = None,
    utility: Optional[str] = None,
    action: Optional[str] = None,
    patients: Optional[int] = None,
    seed: Optional[int] = None,
    data: Optional[Union[str, os.PathLike]] = None,
) -> dict:
    """An optimal end-of-life payment contract (seed 003), as ``medisim contract [ACTION]
    --json`` gives it.

    Without ``action``: the closed form and numeric check of ``model`` (``nonnegative`` when
    left out; probabilities left out are the ICP case study's; ``p11`` (free), ``t``
    (nonnegative), ``w0``/``w1`` (misclassified) and ``utility`` (risk-averse: ``sqrt``,
    ``log1p`` or ``cara:R``) pick the model's member). ``action="icp"``: the case study.
    ``"simulate"``: the contract on simulated cohorts of ``patients`` (100,000) from ``seed``
    (1), beside all-high and all-low care (``{"solution", "cohorts"}``). ``"estimate"``:
    Algorithm 1 on the cohort CSV at ``data``, priced under limited liability
    (``{"estimate", "contract"}``; estimates that break an assumption raise ``ValueError``).
    ``"generate"``: a synthetic cohort (``{"csv", "truth"}``). A setting the action does not
    read raises ``ValueError`` naming it."""
    path = None if data is None else os.fspath(data)
    return json.loads(
        _native.contract(
            model, pi00, pi01, pi10, pi11, gamma, p11, t, w0, w1, utility,
            action, patients, seed, path,
        )
    )


def _sets(params: Optional[Dict[str, Any]]) -> List[str]:
    """``{"key": value}`` as the command line's ``--set KEY=VALUE`` (values as TOML literals)."""
    return [f"{k}={json.dumps(v)}" for k, v in (params or {}).items()]


def panel(config_toml: str = "", params: Optional[Dict[str, Any]] = None) -> dict:
    """A primary-care panel run (seed 002) from a configuration TOML (every key defaulted),
    then ``params`` set by key as ``medisim panel run --set`` does (a flag's name such as
    ``margin`` or a dotted path such as ``retinopathy.macular_edema_cost``):
    ``medisim panel run --json``."""
    return json.loads(_native.panel_run(config_toml, _sets(params)))


def panel_experiments(
    only: Optional[Iterable[str]] = None,
    config_toml: str = "",
    params: Optional[Dict[str, Any]] = None,
) -> List[dict]:
    """The panel's experiments E1–E6 (seed 002; ``only=["E1", "E5"]`` for some), from a
    configuration TOML and ``params`` set by key: ``medisim panel experiments --json``, one
    dict per experiment (``id``, ``title``, ``key`` and its ``series`` of points). The
    experiments set the payment and the provider themselves: giving one is refused."""
    ids = None if only is None else list(only)
    return json.loads(_native.panel_experiments(ids, config_toml, _sets(params)))


def panel_sweep(
    vary: str,
    config_toml: str = "",
    params: Optional[Dict[str, Any]] = None,
) -> dict:
    """One panel term swept (seed 002): ``vary="margin=0.2:0.6:5"`` (``lo:hi:n``) or
    ``"margin=0.2,0.4"``, from a configuration TOML and ``params`` set by key: ``medisim panel
    sweep --vary VARY --json`` (``id``, ``title``, ``key`` and one ``series`` of points).
    Several keys, sampled designs and shards: ``sweep(..., model="panel")``."""
    return json.loads(_native.panel_sweep(vary, config_toml, _sets(params)))


def game(name: str, params: Optional[Dict[str, Any]] = None, **settings: Any) -> dict:
    """Solve a multi-level game (``ct-scanner``, ``imaging``, ``chronic-care``) with parameters
    set by key as ``medisim game --set`` does: ``params={"k[0]": 2.0}``, or by keyword for plain
    names (``benchmark=29.0``; ``k__0`` still means ``k[0]``)."""
    sets = _sets(params) + [f"{_key(k)}={json.dumps(v)}" for k, v in settings.items()]
    return json.loads(_native.game(name, sets))


def game_tables(
    name: str, table: str = "all", params: Optional[Dict[str, Any]] = None
) -> List[dict]:
    """The dissertation's tables of game ``name`` recomputed (seed 004): ``table`` one number
    (``"3.3"`` … ``"5.4"``) or ``"all"`` of the game's, at ``params`` set by key: ``medisim game
    NAME --table TABLE --json``, one dict per table (``id``, ``title``, ``columns``, ``rows``
    of formatted cells, the printed numbers beside ours). A key a table sweeps itself is
    refused."""
    return json.loads(_native.game_tables(name, table, _sets(params)))


@dataclass
class CostEffectiveness:
    """A PSA's cost-effectiveness analysis: the incremental table (``strategy``, ``cost``,
    ``effect``, ``inc_cost``, ``inc_effect``, ``icer``, ``status`` ND / D / ED, in cost order)
    and the curves (per ``wtp`` and ``strategy``: ``expected_nmb``, ``acceptability`` (CEAC),
    ``expected_loss``, ``optimal`` (the CEAF's choice) and ``evpi``)."""

    icer: Any
    curves: Any


def cea(psa: Any, wtp: Union[str, Iterable[float]] = "0:100000:21") -> CostEffectiveness:
    """The cost-effectiveness analysis of a PSA, as ``medisim cea`` gives it: ``psa`` a CSV
    path or a DataFrame with columns ``draw``, ``strategy``, ``cost``, ``effect``; ``wtp`` a
    ``lo:hi:n`` spec or a list of values (money per unit of effect)."""
    if hasattr(psa, "to_csv"):
        text, origin = psa.to_csv(index=False), "<DataFrame>"
    else:
        origin = os.fspath(psa)
        with open(origin, encoding="utf-8") as f:
            text = f.read()
    r = json.loads(_native.cea(text, origin, _wtp_spec(wtp)))
    return CostEffectiveness(icer=_rows(r["icer"]), curves=_rows(r["curves"]))


@dataclass
class PanelPsa:
    """A panel PSA: its rows (``draw``, ``strategy``, ``cost``, ``effect``: discounted payer
    cost and QALYs per patient), each draw's parameter values and provider responses
    (``parameters``), and their cost-effectiveness analysis."""

    psa: Any
    parameters: Any
    analysis: CostEffectiveness


def _wtp_spec(wtp: Union[str, Iterable[float]]) -> str:
    return wtp if isinstance(wtp, str) else ",".join(repr(float(w)) for w in wtp)


def panel_psa(
    disease: Union[str, os.PathLike],
    draws: int = 200,
    arms: Union[str, Iterable[str]] = ("ffs", "gc"),
    wtp: Union[str, Iterable[float]] = "0:100000:21",
    config_toml: str = "",
    params: Optional[Dict[str, Any]] = None,
    programs: Iterable[Union[str, os.PathLike, Policy]] = (),
) -> PanelPsa:
    """Probabilistic sensitivity analysis of a disease file (its ``[psa]`` table) under each
    payment arm (``ffs``, ``gc``, ``ffs-sr``, ``gc-sr``), the provider re-optimising in every
    draw: ``medisim panel psa --disease FILE --json``. ``params`` set the panel by key (``runs``,
    ``patients``, ``provider.kind``, the shared-risk rates …). ``programs`` adds payment
    programs (text, a path or a :class:`Policy`) as arms named by their headers."""
    origin = os.fspath(disease)
    with open(origin, encoding="utf-8") as f:
        text = f.read()
    r = json.loads(
        _native.panel_psa(text, origin, int(draws),
                          arms if isinstance(arms, str) else ",".join(arms), _wtp_spec(wtp),
                          config_toml, _sets(params), [_policy_text(p) for p in programs])
    )
    return PanelPsa(
        psa=_rows(r["psa"]),
        parameters=_rows(r["parameters"]),
        analysis=CostEffectiveness(icer=_rows(r["icer"]), curves=_rows(r["curves"])),
    )
