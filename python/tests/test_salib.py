"""`medisim sweep --design sobol:N` against SALib, the field's reference for Sobol' indices.

The sweep's design must be the points SALib draws (`SALib.sample.sobol.sample` with
`calc_second_order=False, scramble=False`: the unscrambled Joe-Kuo Sobol' sequence), and its
indices must be SALib's (`SALib.analyze.sobol.analyze`) on the same model outputs: the point
estimates to rounding, the bootstrap intervals to the spread two bootstraps of the same
estimator share. `.ci/run` installs SALib into the test environment.
"""

import csv
import importlib.util
import os
import subprocess

import numpy as np
import pytest

from test_medisim import cli

KEYS = {
    "coding.gamma_code": (1.0, 3.0),
    "audit.base_prob": (0.0, 0.3),
    "response.accept_threshold": (0.9, 1.3),
}
N = 64
METRICS = ("upcoding_rate", "mean_waiting", "fitness")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    if importlib.util.find_spec("SALib") is None:
        if os.environ.get("CI"):
            pytest.fail("SALib is not installed; .ci/run installs it")
        pytest.skip("SALib is not installed")
    out = tmp_path_factory.mktemp("sobol")
    args = [cli(), "sweep", "--design", f"sobol:{N}", "--seeds", "1..3", "--horizon", "60",
            "--out", str(out)]
    for k, (lo, hi) in KEYS.items():
        args += ["--set", f"{k}={lo}:{hi}"]
    for m in METRICS:
        args += ["--metric", m]
    subprocess.run(args, capture_output=True, text=True, check=True, timeout=600)
    with open(out / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    with open(out / "sweep-sobol.csv") as f:
        indices = list(csv.DictReader(f))
    return rows, indices


def _problem():
    return {"num_vars": len(KEYS), "names": list(KEYS), "bounds": [list(b) for b in KEYS.values()]}


def _points(rows):
    """The design in medisim's order (A, B, AB_1, ..., AB_d), one row of key values a point."""
    by_point = {}
    for r in rows:
        by_point[int(r["point"])] = [float(r[k]) for k in KEYS]
    return np.array([by_point[i] for i in range(len(by_point))])


def _salib_order(d):
    """Where each of SALib's rows (per base row j: A_j, AB_1j, ..., AB_dj, B_j) sits in
    medisim's block order."""
    order = []
    for j in range(N):
        order.append(j)  # A
        order.extend((2 + i) * N + j for i in range(d))  # AB_i
        order.append(N + j)  # B
    return np.array(order)


def test_the_design_is_salibs_unscrambled_sobol_sample(sweep):
    from SALib.sample import sobol as sobol_sample

    rows, _ = sweep
    ours = _points(rows)
    d = len(KEYS)
    assert ours.shape == (N * (d + 2), d)
    theirs = sobol_sample.sample(_problem(), N, calc_second_order=False, scramble=False)
    np.testing.assert_allclose(ours[_salib_order(d)], theirs, rtol=0, atol=1e-12)


def test_the_indices_and_their_intervals_are_salibs(sweep):
    from SALib.analyze import sobol as sobol_analyze

    rows, indices = sweep
    d = len(KEYS)
    order = _salib_order(d)
    compared = 0
    for metric in METRICS:
        y = {int(r["point"]): float(r["mean"]) for r in rows if r["metric"] == metric}
        y = np.array([y[i] for i in range(len(y))])
        if np.ptp(y[: 2 * N]) <= 1e-12:
            continue  # SALib, like medisim, returns zeros for a constant output
        si = sobol_analyze.analyze(_problem(), y[order], calc_second_order=False,
                                   num_resamples=1000, seed=7)
        ours = {r["key"]: r for r in indices if r["metric"] == metric}
        for i, key in enumerate(KEYS):
            r = ours[key]
            for name, ref, conf in (("first", si["S1"][i], si["S1_conf"][i]),
                                    ("total", si["ST"][i], si["ST_conf"][i])):
                value = float(r[name])
                assert value == pytest.approx(ref, abs=1e-9), (metric, key, name, value, ref)
                # SALib's conf is a normal-approximation half-width from its own resamples;
                # ours is a percentile interval from ours: the same spread within sampling
                # error of 1000 resamples and the normal approximation.
                half = (float(r[f"{name}_hi"]) - float(r[f"{name}_lo"])) / 2
                assert half == pytest.approx(conf, rel=0.25, abs=0.01), (metric, key, name, half, conf)
                assert float(r[f"{name}_lo"]) <= value <= float(r[f"{name}_hi"]) or half < 1e-9
                compared += 1
    assert compared >= 4 * d, "most metrics vary over the design"
