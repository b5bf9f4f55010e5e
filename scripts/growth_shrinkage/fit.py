"""How far a council's own growth should be shrunk toward England's (issue 10).

A council's growth prior is its mean log growth over the last four Januaries, shrunk toward
England's with weight plans / (plans + K) (`demand.shrinkage_plans`; the placement trends use the
same form with `placement.trend_shrinkage_plans`). This script forecasts every council's January
one to three years ahead from every origin the data allow with the prior for a grid of K, takes
each origin and horizon's median error out (the part councils share, which the national draws
carry), and prints the mean absolute log error. The chosen K is the grid value with the smallest
mean of the three horizons' errors.

Data: all plans (statements + EHCPs) by council, January 2010-2022 (DfE SEN2,
../shared/data/derived/ehcp_statements_total_by_la_2010_2022.csv), then seeds/ehcps.csv
(January 2019-2026, which replaces the overlap); placements by setting, seeds/caseload.csv
(January 2019-2026). Run from the repository root: python3 scripts/growth_shrinkage/fit.py
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
# ../shared next to the checkout (from a worktree under ../wt/NAME, two levels up).
SHARED = next(p / "shared" / "data" / "derived" for p in ROOT.parents
              if (p / "shared" / "data" / "derived").is_dir())
GRID = [0, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 50000, 1e12]
HISTORY = 4
HORIZONS = (1, 2, 3)


def errors(count, weight, k, origins, bounds=None):
    """De-medianed log errors of the shrunk-trend forecast, by horizon."""
    out = {h: [] for h in HORIZONS}
    for y0 in origins:
        own = np.log(count[y0] / count[y0 - HISTORY]) / HISTORY
        eng = np.log(count[y0].sum() / count[y0 - HISTORY].sum()) / HISTORY
        w = weight[y0] / (weight[y0] + k)
        prior = w * own + (1 - w) * eng
        if bounds:
            prior = prior.clip(*bounds)
        for h in HORIZONS:
            if y0 + h not in count:
                continue
            e = np.log(count[y0 + h] / count[y0]) - h * prior
            e = e.replace([np.inf, -np.inf], np.nan).dropna()
            out[h].append(e - e.median())
    return {h: pd.concat(v) for h, v in out.items() if v}


def table(label, count, weight, origins, bounds=None):
    print(f"\n{label}: origins January {min(origins)}-{max(origins)}, {HISTORY}-year history")
    print("       K  " + "  ".join(f"MAE h={h} (n)" for h in HORIZONS) + "   mean")
    best = None
    for k in GRID:
        e = errors(count, weight, k, origins, bounds)
        maes = [np.abs(e[h]).mean() for h in HORIZONS if h in e]
        mean = float(np.mean(maes))
        name = "England" if k >= 1e12 else f"{k:.0f}"
        print(f"{name:>8}  " + "  ".join(f"{np.abs(e[h]).mean():.4f} ({len(e[h])})" for h in HORIZONS if h in e) + f"   {mean:.4f}")
        if best is None or mean < best[1]:
            best = (k, mean)
    print(f"  smallest mean error at K = {best[0]:.0f}")
    return best[0]


def all_plans():
    """All plans by council (rows) and January (columns): SEN2 2010-2022, then seeds/ehcps.csv."""
    hist = pd.read_csv(SHARED / "ehcp_statements_total_by_la_2010_2022.csv")
    hist = hist[(hist.geographic_level == "Local authority") & (hist.characteristic_age == "Total")]
    hist = hist.assign(la_code=hist.old_la_code.astype(int))
    plans = hist.pivot_table(index="la_code", columns="time_period", values="Total_all", aggfunc="sum")
    seeds = pd.read_csv(ROOT / "seeds" / "ehcps.csv").pivot(index="la_code", columns="january", values="ehcps")
    plans = plans.reindex(seeds.index)
    for y in seeds.columns:
        plans[y] = seeds[y]
    return plans.sort_index(axis=1)


def main():
    plans = all_plans()
    table("All plans (demand.shrinkage_plans)", plans, plans, range(2015, 2026), bounds=(-0.05, 0.20))
    # The same on origins whose targets are all before the back-test windows (January 2016-2021).
    table("All plans, targets before the back-test windows", plans, plans, range(2015, 2019), bounds=(-0.05, 0.20))

    cl = pd.read_csv(ROOT / "seeds" / "caseload.csv")
    by = cl.groupby(["la_code", "january", "setting"]).plans.sum().unstack()
    allp = by.sum(axis=1).unstack()
    spec = (by.special_state + by.special_independent).unstack()
    state = by.special_state.unstack()
    table("Specialist placements (placement.trend_shrinkage_plans; weight: all plans)", spec, allp, range(2023, 2026))
    table("State special placements, the places' trend (weight: state special plans)", state, state, range(2023, 2026))


if __name__ == "__main__":
    sys.exit(main())
