#!/usr/bin/env python3
"""Fits the placement uncertainty of README "Placement uncertainty" (needs pandas and numpy).

From every origin January 2021-2025, each council's trends over its last 4 Januaries (shrunk
toward England's with weight plans / (plans + 3000)) forecast its January 1 to 3 years ahead.
For each term, level and slope sds are set so that a normal's 90% interval matches the 90%
quantile of the absolute log errors at 1 and 3 years. Run from the repository root:
    python3 scripts/placement_fit/fit.py
"""
import numpy as np
import pandas as pd

S5 = ["mainstream", "special_state", "special_independent", "post16", "ap_other"]
cas = pd.read_csv("seeds/caseload.csv")
h = cas.groupby(["la_code", "january", "setting"]).plans.sum().unstack("setting")[S5]
h["ehcps"] = h[S5].sum(axis=1)
h["specialist"] = h.special_state + h.special_independent
e = pd.read_csv("seeds/ehcps.csv")
est = set(zip(e[e.status == "estimated"].la_code, e[e.status == "estimated"].january))
est |= {(c, j) for c, j, r in zip(cas.la_code, cas.january, cas.rule) if "R3" in str(r).split("+")}
nat = h.groupby("january").sum()
codes = sorted(set(h.index.get_level_values(0)))
K, HY = 3000.0, 4


def lvl(x, g):
    """Log specialist placements, or log share of post16 / ap_other."""
    if g == "specialist":
        return np.log(max(x[g], 0.5))
    return np.log(max(x[g], 0.5) / x["ehcps"])


def forecasts(o):
    lo = max(2019, o - HY)
    span = o - lo
    out = {}
    for c in codes:
        if (c, o) in est:
            continue
        x = h.loc[c]
        w = x.loc[o, "ehcps"] / (x.loc[o, "ehcps"] + K)
        slope = {}
        for g in ("specialist", "post16", "ap_other"):
            own = (lvl(x.loc[o], g) - lvl(x.loc[lo], g)) / span
            eng = (lvl(nat.loc[o], g) - lvl(nat.loc[lo], g)) / span
            slope[g] = w * own + (1 - w) * eng
        st = x.loc[o, "special_state"]
        wk = st / (st + K)
        own = np.log(max(st, 1) / max(x.loc[lo, "special_state"], 1)) / span
        eng = np.log(nat.loc[o, "special_state"] / nat.loc[lo, "special_state"]) / span
        slope["places"] = wk * own + (1 - wk) * eng
        out[c] = slope
    return out


rows = []
for H in (1, 2, 3):
    for o in range(2021, 2027 - H):
        for c, sl in forecasts(o).items():
            if (c, o + H) in est:
                continue
            a, x0 = h.loc[(c, o + H)], h.loc[(c, o)]
            r = {"H": H}
            for g in ("specialist", "post16", "ap_other"):
                r[g] = lvl(a, g) - lvl(x0, g) - H * sl[g]
            r["places"] = np.log(max(a.special_state, 1) / max(x0.special_state, 1)) - H * sl["places"]
            rows.append(r)
err = pd.DataFrame(rows).replace([np.inf, -np.inf], np.nan).dropna()
print("forecasts per horizon:", err.groupby("H").size().to_dict())
for g in ("specialist", "post16", "ap_other", "places"):
    s90 = {H: x[g].abs().quantile(0.9) / 1.645 for H, x in err.groupby("H")}
    slope = np.sqrt(max((s90[3] ** 2 - s90[1] ** 2) / 8, 0))
    level = np.sqrt(max(s90[1] ** 2 - slope ** 2, 0))
    print(
        f"{g:10s} 90%-matched sd at 1,2,3 years {[round(v, 3) for v in s90.values()]}"
        f" -> level sd {level:.3f}, slope sd {slope:.3f};"
        f" median error {[round(x[g].median(), 3) for _, x in err.groupby('H')]}"
    )
print("corr(specialist, places):", {H: round(np.corrcoef(x.specialist, x.places)[0, 1], 3) for H, x in err.groupby("H")})
