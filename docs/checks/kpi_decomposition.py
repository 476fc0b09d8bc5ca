#!/usr/bin/env python3
"""Decompose corr(KPI, H) over a run's team-periods by the KPI's terms (Eq. 5).

    medisim run [--scenario F] --policy P --seeds S --trace T.csv
    python3 docs/checks/kpi_decomposition.py --cost-ref C --wait-ref W T.csv [T2.csv ...]

For each trace, per replicate (then averaged over replicates, as medisim's metric is): the
correlation of the KPI with the team's health gain H over the team-periods in which the team
treated someone, each term's contribution to it (its weighted covariance with H over the two
standard deviations; the contributions sum to the correlation) and each term's share of the
KPI's variance (weight² · variance / the KPI's variance; the shares leave out the covariances
between terms). C and W are the scenario's `response.kpi_cost_ref` and `response.kpi_wait_ref`;
the weights are the policy's (the baseline's 1, 0.5, 0.5, 0.3 unless --weights says otherwise).
"""
import argparse
import csv
import math
import statistics as st


def cov(a, b):
    ma, mb = st.fmean(a), st.fmean(b)
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (len(a) - 1)


def team_periods(path, cost_ref, wait_ref):
    reps = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            n = int(r["treated"])
            if n == 0:
                continue
            d = int(r["decided"])
            reps.setdefault(r["replicate"], []).append({
                "health": float(r["outcome_sum"]) / n,
                "waiting": float(r["wait_sum"]) / n / wait_ref,
                "rejection": int(r["rejected"]) / d if d else 0.0,
                "cost": float(r["cost"]) / n / cost_ref,
                "H": float(r["health_gain"]),
                "KPI": float(r["kpi"]),
            })
    return reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cost-ref", type=float, required=True)
    ap.add_argument("--wait-ref", type=float, default=1.0)
    ap.add_argument("--weights", default="1,0.5,0.5,0.3", help="w_H,w_W,w_rej,w_C")
    ap.add_argument("traces", nargs="+")
    a = ap.parse_args()
    w_h, w_w, w_rej, w_c = (float(x) for x in a.weights.split(","))
    signed = {"health": w_h, "waiting": -w_w, "rejection": -w_rej, "cost": -w_c}
    print("trace | corr(KPI, H) | contributions: health, waiting, rejection, cost | variance shares")
    for path in a.traces:
        corr, contrib, share = [], {k: [] for k in signed}, {k: [] for k in signed}
        for rows in team_periods(path, a.cost_ref, a.wait_ref).values():
            h = [r["H"] for r in rows]
            k = [r["KPI"] for r in rows]
            sd = math.sqrt(cov(k, k) * cov(h, h))
            corr.append(cov(k, h) / sd)
            for term, w in signed.items():
                x = [r[term] for r in rows]
                contrib[term].append(w * cov(x, h) / sd)
                share[term].append(w * w * cov(x, x) / cov(k, k))
        c = ", ".join(f"{st.fmean(v):+.3f}" for v in contrib.values())
        s = ", ".join(f"{st.fmean(v):.2f}" for v in share.values())
        print(f"{path} | {st.fmean(corr):+.3f} | {c} | {s}")


if __name__ == "__main__":
    main()
