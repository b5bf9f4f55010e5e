#!/usr/bin/env python3
"""Fits the placement uncertainty of README "Placement uncertainty" (needs pandas and numpy).

From every origin January 2021-2025, each council's trends over its last 4 Januaries (shrunk
toward England's with weight plans / (plans + K), K = `placement.trend_shrinkage_plans`, 10000) forecast
its January 1 to 3 years ahead; the trend of all plans (for the plans' own error, which the groups'
elasticities are fitted on) is shrunk with `demand.shrinkage_plans` (10000), as the model's prior.
The post-16 and AP/other share slopes leave out the step into the January 2023 recording break (as
the model fits them: `placement.share_break_january`), and a share forecast across it is not scored.
Draws are a scale mixture of normals (20% of council-paths three times as spread); for each term,
level and slope sds are set so that the mixture's 90% interval matches the 90% quantile of the
absolute log errors at 1 and 3 years. Last, the correlation of the councils' own level errors of
the three groups (`placement.group_correlation`): Spearman's rho converted to a normal's
correlation, checked against Kendall's and Pearson's, and against the slopes' errors. Run from the
repository root:
    python3 scripts/placement_fit/fit.py [TREND_SHRINKAGE_PLANS [DEMAND_SHRINKAGE_PLANS]]   (defaults: the baseline's 10000 10000)
"""
import math
import sys

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
HY = 4
K = float(sys.argv[1]) if len(sys.argv) > 1 else 10000.0  # placement.trend_shrinkage_plans
K_PLANS = float(sys.argv[2]) if len(sys.argv) > 2 else 10000.0  # demand.shrinkage_plans
# January 2023: the first census of the person-level SEN2 return. Post-16 and AP/other are
# recorded on a new basis from then (England's AP/other share jumped from 8.2% to 10.7% while
# post-16's fell from 16.5% to 14.8%), so their trends are fitted and scored on one side of it.
BREAK = 2023
SHARES = ("post16", "ap_other")


def lvl(x, g):
    """Log specialist placements, or log share of post16 / ap_other."""
    if g == "specialist":
        return np.log(max(x[g], 0.5))
    return np.log(max(x[g], 0.5) / x["ehcps"])


def slope_of(series, lo, hi, g):
    """Mean yearly log change of group g from January lo to hi, leaving out the change into
    BREAK for the shares when the window spans it (as the model: `share_slope`)."""
    years = hi - lo
    if g in SHARES and lo < BREAK <= hi:
        step = lvl(series.loc[BREAK], g) - lvl(series.loc[BREAK - 1], g)
        return (lvl(series.loc[hi], g) - lvl(series.loc[lo], g) - step) / (years - 1) if years > 1 else None
    return (lvl(series.loc[hi], g) - lvl(series.loc[lo], g)) / years


def forecasts(o):
    out = {}
    for c in codes:
        if (c, o) in est:
            continue
        x = h.loc[c]
        w = x.loc[o, "ehcps"] / (x.loc[o, "ehcps"] + K)
        slope = {}
        lo = max(2019, o - HY)
        span = o - lo
        if (c, lo) in est:
            continue
        for g in ("specialist", "post16", "ap_other"):
            own = slope_of(x, lo, o, g)
            eng = slope_of(nat, lo, o, g)
            if own is None:
                own = eng
            slope[g] = w * own + (1 - w) * eng
        st = x.loc[o, "special_state"]
        wk = st / (st + K)
        own = np.log(max(st, 1) / max(x.loc[lo, "special_state"], 1)) / span
        eng = np.log(nat.loc[o, "special_state"] / nat.loc[lo, "special_state"]) / span
        slope["places"] = wk * own + (1 - wk) * eng
        # All plans (the total's count error, for the correlation section below).
        own = np.log(x.loc[o, "ehcps"] / x.loc[lo, "ehcps"]) / span
        eng = np.log(nat.loc[o, "ehcps"] / nat.loc[lo, "ehcps"]) / span
        wp = x.loc[o, "ehcps"] / (x.loc[o, "ehcps"] + K_PLANS)
        slope["ehcps"] = wp * own + (1 - wp) * eng
        out[c] = slope
    return out


rows = []
for H in (1, 2, 3):
    for o in range(2021, 2027 - H):
        for c, sl in forecasts(o).items():
            if (c, o + H) in est:
                continue
            a, x0 = h.loc[(c, o + H)], h.loc[(c, o)]
            r = {"H": H, "origin": o, "la_code": c}
            for g in ("specialist", "post16", "ap_other"):
                crosses = g in SHARES and o < BREAK <= o + H
                r[g] = np.nan if crosses else lvl(a, g) - lvl(x0, g) - H * sl[g]
            r["places"] = np.log(max(a.special_state, 1) / max(x0.special_state, 1)) - H * sl["places"]
            r["ehcps"] = np.log(a.ehcps / x0.ehcps) - H * sl["ehcps"]
            rows.append(r)
err = pd.DataFrame(rows).replace([np.inf, -np.inf], np.nan)
print("forecasts per horizon:", err.groupby("H").size().to_dict())


def abs_quantile(p, share, factor):
    """The p quantile of |Z| for the scale mixture: N(0, 1) with probability 1 - share, else
    N(0, factor^2) (placement.wide_share, wide_factor)."""
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    cdf = lambda x: (1 - share) * (2 * phi(x) - 1) + share * (2 * phi(x / factor) - 1)
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if cdf(mid) > p else (mid, hi)
    return lo


# The tails: the 90% quantile of the absolute errors is about 3.0 times the median (2.4 for a
# normal) in every group and horizon; a scale mixture with 20% of council-paths three times as
# spread has the same ratio (2.99).
ratios = [
    x[g].abs().quantile(0.9) / x[g].abs().quantile(0.5)
    for g in ("specialist", "post16", "ap_other", "places")
    for _, x in err.dropna(subset=[g]).groupby("H")
]
print(f"q90/q50 of |error|: mean {np.mean(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
WIDE_SHARE, WIDE_FACTOR = 0.2, 3.0
m50, m90 = abs_quantile(0.5, WIDE_SHARE, WIDE_FACTOR), abs_quantile(0.9, WIDE_SHARE, WIDE_FACTOR)
print(f"mixture ({WIDE_SHARE}, {WIDE_FACTOR}): |Z| quantiles 50% {m50:.3f}, 90% {m90:.3f}, ratio {m90 / m50:.2f}")
def england_errors():
    """England's log error of the sum of the councils' trend forecasts, by horizon and origin:
    the part of the error that councils share, which independent council draws cannot give."""
    out = []
    for H in (1, 2, 3):
        for o in range(2021, 2027 - H):
            pred = dict.fromkeys(("specialist", "post16", "ap_other", "places"), 0.0)
            act = dict(pred)
            for c, sl in forecasts(o).items():
                if (c, o + H) in est:
                    continue
                a, x0 = h.loc[(c, o + H)], h.loc[(c, o)]
                pred["specialist"] += x0.specialist * np.exp(H * sl["specialist"])
                act["specialist"] += a.specialist
                for g in SHARES:
                    pred[g] += x0[g] / x0.ehcps * np.exp(H * sl[g]) * a.ehcps
                    act[g] += a[g]
                pred["places"] += x0.special_state * np.exp(H * sl["places"])
                act["places"] += a.special_state
            r = {"H": H, "origin": o}
            for g in pred:
                crosses = g in SHARES and o < BREAK <= o + H
                r[g] = np.nan if crosses else np.log(act[g] / pred[g])
            out.append(r)
    return pd.DataFrame(out)


def national_sds(e):
    """Level and slope sds of a national draw from England's errors: least squares of
    error^2 = level^2 + H^2 slope^2 over every origin and horizon (both at least 0)."""
    H2, e2 = (e.H**2).to_numpy(float), (e.iloc[:, 1] ** 2).to_numpy(float)
    A = np.column_stack([np.ones_like(H2), H2])
    lv, sv = np.linalg.lstsq(A, e2, rcond=None)[0]
    if sv < 0:
        lv, sv = e2.mean(), 0.0
    if lv < 0:
        lv, sv = 0.0, (e2 * H2).sum() / (H2 * H2).sum()
    return math.sqrt(lv), math.sqrt(sv)


def council_var(q90, v_nat, share, factor):
    """The council (idiosyncratic) variance that, added to the national variance `v_nat` (a
    normal, not widened), gives the mixture a 90% quantile of `q90` for the absolute error."""
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    inside = lambda v: (1 - share) * (2 * phi(q90 / math.sqrt(v_nat + v)) - 1) + share * (
        2 * phi(q90 / math.sqrt(v_nat + factor**2 * v)) - 1
    )
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if inside(mid) > 0.9 else (lo, mid)
    return lo


def theil_sen(x, y):
    """Median of the pairwise slopes: a slope that heavy tails cannot swing."""
    x, y = np.asarray(x), np.asarray(y)
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    upper = np.triu(np.ones_like(dx, dtype=bool), 1) & (dx != 0)
    return float(np.median(dy[upper] / dx[upper]))


def spearman_rho(a, b):
    return float(np.corrcoef(pd.Series(a).rank(), pd.Series(b).rank())[0, 1])


# Placements that follow the council's plans (`placement.plans_elasticity`, and the places'
# `placement.capacity_plans_elasticity`): the councils' own errors (each origin and horizon's
# median taken out) of a group against their own error of all plans. A group follows the plans where their Spearman correlation is at least 0.1 at every
# horizon; its elasticity is the median over the horizons of the Theil-Sen slope. The sds below
# are then fitted to what the plans do not explain: error - elasticity x own plans error.
ELASTICITY = {}
for g in ("specialist", "post16", "ap_other", "places"):
    x = err.dropna(subset=[g, "ehcps"]).copy()
    x[[g, "ehcps"]] = x[[g, "ehcps"]] - x.groupby(["H", "origin"])[[g, "ehcps"]].transform("median")
    rho = {H: spearman_rho(y.ehcps, y[g]) for H, y in x.groupby("H")}
    slope = {H: theil_sen(y.ehcps, y[g]) for H, y in x.groupby("H")}
    ELASTICITY[g] = float(np.median(list(slope.values()))) if min(rho.values()) >= 0.1 else 0.0
    print(f"{g:10s} vs own plans error: Spearman {[round(v, 2) for v in rho.values()]},"
          f" Theil-Sen slope {[round(v, 2) for v in slope.values()]} -> elasticity {ELASTICITY[g]:.2f}"
          f" ({'capacity_plans_elasticity' if g == 'places' else 'plans_elasticity.' + g})")
own_plans = err.ehcps - err.groupby(["H", "origin"]).ehcps.transform("median")
for g, b in ELASTICITY.items():
    err[g] = err[g] - b * own_plans

eng = england_errors()
print("England's log errors of the summed council trends:")
print(eng.round(4).to_string(index=False))
for g in ("specialist", "post16", "ap_other", "places"):
    e = err.dropna(subset=[g])
    s90 = {H: x[g].abs().quantile(0.9) / m90 for H, x in e.groupby("H")}
    slope = np.sqrt(max((s90[3] ** 2 - s90[1] ** 2) / 8, 0))
    level = np.sqrt(max(s90[1] ** 2 - slope ** 2, 0))
    n_level, n_slope = national_sds(eng[["H", g]].dropna())
    q90 = {H: x[g].abs().quantile(0.9) for H, x in e.groupby("H")}
    v_nat = {H: n_level**2 + (H * n_slope) ** 2 for H in q90}
    v = {H: council_var(q90[H], v_nat[H], WIDE_SHARE, WIDE_FACTOR) for H in (1, 3)}
    c_slope = math.sqrt(max((v[3] - v[1]) / 8, 0))
    c_level = math.sqrt(max(v[1] - c_slope**2, 0))
    inside50 = {}
    for H, x in e.groupby("H"):
        # Share of errors inside the central 50% interval of national + council mixture draws
        # (simulated: a sum of a normal and a scale mixture has no closed-form quantile).
        rng = np.random.default_rng(1)
        n = 200_000
        wide = np.where(rng.random(n) < WIDE_SHARE, WIDE_FACTOR, 1.0)
        draw = rng.normal(0, math.sqrt(v_nat[H]), n) + wide * rng.normal(
            0, math.sqrt(c_level**2 + (H * c_slope) ** 2), n
        )
        q50 = np.quantile(np.abs(draw), 0.5)
        inside50[H] = round(float((x[g].abs() <= q50).mean()), 2)
    print(
        f"{g:10s} 90%-matched sd at 1,2,3 years {[round(float(v), 3) for v in s90.values()]}"
        f" -> level sd {level:.3f}, slope sd {slope:.3f} (all council);"
        f" national level sd {n_level:.3f}, slope sd {n_slope:.3f} -> council level sd"
        f" {c_level:.3f}, slope sd {c_slope:.3f};"
        f" median error {[round(float(x[g].median()), 3) for _, x in err.groupby('H')]};"
        f" share inside the 50% interval {inside50}"
    )
print("corr(specialist, places), Pearson:", {H: round(float(np.corrcoef(x.specialist, x.places)[0, 1]), 3) for H, x in err.groupby("H")})


# Correlation of the groups' errors (README "Placement uncertainty", `placement.group_correlation`).
# The councils' own errors: each origin and horizon's median council error (the part councils
# share, drawn nationally) taken out. Heavy tails make Pearson's r unstable (one council can
# swing it), so the matrix is Spearman's rho converted to a normal's correlation by
# 2 sin(pi rho / 6), checked against Kendall's tau converted by sin(pi tau / 2).
GROUPS = ["specialist", "post16", "ap_other"]


def ranks(v):
    return pd.Series(v).rank().to_numpy()


def spearman(a, b):
    return np.corrcoef(ranks(a), ranks(b))[0, 1]


def kendall(a, b):
    a, b = np.asarray(a), np.asarray(b)
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    n = len(a)
    return (da * db).sum() / (n * (n - 1))


def robust_matrix(x, cols, how="spearman"):
    m = np.eye(len(cols))
    for i in range(len(cols)):
        for j in range(i):
            if how == "spearman":
                r = 2 * np.sin(np.pi * spearman(x[cols[i]], x[cols[j]]) / 6)
            elif how == "kendall":
                r = np.sin(np.pi * kendall(x[cols[i]], x[cols[j]]) / 2)
            else:
                r = np.corrcoef(x[cols[i]], x[cols[j]])[0, 1]
            m[i, j] = m[j, i] = r
    return m


own = err.dropna(subset=GROUPS + ["ehcps"]).copy()
cols = GROUPS + ["ehcps"]
own[cols] = own[cols] - own.groupby(["H", "origin"])[cols].transform("median")
print("\nCouncils' own errors (each origin and horizon's median taken out), correlations in the order"
      f" {GROUPS} (+ all plans' count error):")
for H, x in own.groupby("H"):
    for how in ("spearman", "kendall", "pearson"):
        m = robust_matrix(x, cols, how)
        if how == "spearman":
            raw = np.arcsin(m / 2) * 6 / np.pi
            print(f"  {H} year(s), n={len(x)}, Spearman rho as measured: spec-p16 {raw[1, 0]:+.2f},"
                  f" spec-ap {raw[2, 0]:+.2f}, p16-ap {raw[2, 1]:+.2f}; plans-spec {raw[3, 0]:+.2f}")
        print(f"  {H} year(s), n={len(x)}, {how:8s} (as a normal's r): spec-p16 {m[1, 0]:+.2f}, spec-ap {m[2, 0]:+.2f},"
              f" p16-ap {m[2, 1]:+.2f}; plans-spec {m[3, 0]:+.2f}, plans-p16 {m[3, 1]:+.2f}, plans-ap {m[3, 2]:+.2f}")
# Slopes: a council's error at three years less its error at one year from the same origin,
# over two years, is its slope error (the level error cancels).
wide3 = own.pivot_table(index=["origin", "la_code"], columns="H", values=GROUPS)
slope_err = pd.DataFrame({g: (wide3[(g, 3)] - wide3[(g, 1)]) / 2 for g in GROUPS}).dropna()
ms = robust_matrix(slope_err, GROUPS)
print(f"  slope errors ((3-year - 1-year) / 2), n={len(slope_err)}, spearman (as a normal's r): spec-p16 {ms[1, 0]:+.2f},"
      f" spec-ap {ms[2, 0]:+.2f}, p16-ap {ms[2, 1]:+.2f}")
level = robust_matrix(own[own.H == 1], GROUPS)
print("group_correlation (levels; one-year errors, Spearman -> 2 sin(pi rho/6)):")
print("  [" + ",\n   ".join("[" + ", ".join(f"{v:.2f}" for v in row) + "]" for row in level) + "]")
print("  eigenvalues:", np.round(np.linalg.eigvalsh(level), 3))


# What the correlation does to mainstream (the remainder): its one-year error, as a share of the
# council's plans, is minus the sum of the groups' errors weighted by their shares at the origin
# (plans held at the actual). Its sd as measured, and as it would be with the groups independent.
one = own[own.H == 1].copy()
sh = h.loc[list(zip(one.la_code, one.origin))]
weights = {
    "specialist": sh.specialist.to_numpy() / sh.ehcps.to_numpy(),
    "post16": sh.post16.to_numpy() / sh.ehcps.to_numpy(),
    "ap_other": sh.ap_other.to_numpy() / sh.ehcps.to_numpy(),
}
parts = {g: weights[g] * one[g].to_numpy() for g in GROUPS}
robust_sd = lambda v: 1.4826 * np.median(np.abs(v - np.median(v)))
together = robust_sd(sum(parts.values()))
apart = math.sqrt(sum(robust_sd(v) ** 2 for v in parts.values()))
print(f"mainstream's one-year error from the groups (robust sd, share of plans): {together:.4f} as"
      f" measured, {apart:.4f} if the groups were independent")

# Heavy tails pull Pearson's r down (a few councils' large errors in one and not the other), so
# `placement.capacity_specialist_correlation` is Spearman's rho converted to a normal's
# correlation, 2 sin(pi rho / 6), as for `group_correlation` above (Kendall's tau, sin(pi tau / 2),
# printed as a check).
cap_corr = {}
for H, x in err.groupby("H"):
    x = x.dropna(subset=["specialist", "places"])
    rho = spearman(x.specialist, x.places)
    cap_corr[H] = 2 * math.sin(math.pi * rho / 6)
    tau = np.sin(np.pi * kendall(x.specialist, x.places) / 2)
    print(f"  corr(specialist, places) {H} year(s), n={len(x)}: Spearman {rho:.3f} -> as a normal's r {cap_corr[H]:.3f}; Kendall as a normal's r {tau:.3f}")
print(f"capacity_specialist_correlation (the mean over the horizons): {np.mean(list(cap_corr.values())):.2f}")
