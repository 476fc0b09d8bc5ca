"""The response table of docs/model.md ("Optional response mechanisms"): each representative
regime's rejection, deferral, delay, tilt and KPI alignment under a scenario file.

    MEDISIM_BIN=target/release/medisim python3 docs/checks/regimes.py FILE|- [SEEDS] [--set ...]
"""
import json, subprocess, sys, os
BIN = os.environ.get("MEDISIM_BIN", "medisim")
REG = [("low", 0.1, 0.1), ("profit", 0.8, 0.2), ("quality", 0.2, 0.8), ("balanced", 0.5, 0.5), ("(0.6,0.7)", 0.6, 0.7), ("(0.4,1.0)", 0.4, 1.0), ("(0.2,0.0)", 0.2, 0.0)]
COLS = ["rejection_high_cmi", "rejection_low_cmi", "deferral_high_cmi", "deferral_low_cmi", "strategic_delay_gap", "lagging_easy_case_tilt", "corr_kpi_health", "terminal_funds", "throughput", "mean_waiting", "upcoding_rate"]
def run(scen, a, b, seeds, extra=()):
    args = [BIN, "run", "--alpha", str(a), "--beta", str(b), "--seeds", seeds, "--json"]
    if scen: args += ["--scenario", scen]
    args += list(extra)
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode: sys.exit(out.stderr)
    return json.loads(out.stdout)["metrics"]
def table(scen, seeds="1..30", extra=()):
    print(f"# {scen or 'built-in'} {' '.join(extra)}")
    print("regime      hiRej  loRej   dRej   defH   defL  delay   tilt   corr   funds  thru  wait  upc")
    for name, a, b in REG:
        m = run(scen, a, b, seeds, extra)
        v = [m[c]["mean"] for c in COLS]
        lo = m["rejection_low_cmi"]["ci95"][0]
        print(f"{name:10s} {v[0]:6.3f} {v[1]:6.3f} {v[0]-v[1]:+6.3f} {v[2]:6.3f} {v[3]:6.3f} {v[4]:6.3f} {v[5]:6.3f} {v[6]:+6.3f} {v[7]:8.0f} {v[8]:5.2f} {v[9]:5.2f} {v[10]:5.3f}")
if __name__ == "__main__":
    scen = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    table(scen, sys.argv[2] if len(sys.argv) > 2 else "1..30", sys.argv[3:])
