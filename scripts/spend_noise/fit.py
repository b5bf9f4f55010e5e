#!/usr/bin/env python3
"""How a council's spend strays from its calibration, beyond its caseload (issue 10; README
"Calibration", the Spend bullet). Needs pandas and numpy.

The model's spend of a council is its fitted cost scale x the caseload's cost (census by setting x
the national unit costs) x exp(council level + council shock), the shock an AR(1) with coefficient
`costs.noise_persistence` and innovation sd `costs.council_noise_sd`, starting at 0 in the first
projected year; the level (`costs.council_level_sd`) is drawn once per path. This script measures
the same thing on the record: for each council without a safety-valve agreement (whose cuts the
model handles on their own) and with every balance real,

    k(FY) = implied spend / caseload cost,

implied spend = HNB after deductions + safety-valve instalments received + change in the DSG
balance (seeds/deficits.csv, hnb.csv, sv_instalments.csv); caseload cost = the January census of
the FY by setting (seeds/caseload.csv; council-years with estimated placements, rules R3 and R5,
left out) x the baseline's unit costs, inflated by setting at the baseline's rates to each January.
The published balances give k for 2020-21, 2021-22 and the mean of 2022-23 and 2023-24 (no 31
March 2023 balance), so three changes: one year ahead (2020-21 to 2021-22), the mean of one and
two years ahead (2021-22 to 2022-24), and of two and three (2020-21 to 2022-24). Their spread
across councils (robust: 1.4826 x MAD; the plain sd is printed too) is what the model's level and
shock must give. For each persistence on a grid, `council_level_sd` and `council_noise_sd` are
fitted by least squares on the three variances (both at least 0); the persistence with the
smallest residual is the fit.

Run from the repository root:  python3 scripts/spend_noise/fit.py
"""
import numpy as np
import pandas as pd

UNIT = {"mainstream": 8200, "special_state": 25000, "special_independent": 58500,
        "post16": 10000, "ap_other": 18000}
INFLATION = {"mainstream": 0.030, "special_state": 0.035, "special_independent": 0.045,
             "post16": 0.030, "ap_other": 0.035}
PRICE_JANUARY = 2024  # costs.price_fy 2023-24


def record():
    """Implied spend, caseload cost and January plans by council for 2020-21, 2021-22 and the
    mean of 2022-24 (DataFrames with those columns), and the councils scored: without a
    safety-valve agreement and with every balance real. Also used by scripts/spend_response."""
    d = pd.read_csv("seeds/deficits.csv")
    h = pd.read_csv("seeds/hnb.csv")
    i = pd.read_csv("seeds/sv_instalments.csv")
    c = pd.read_csv("seeds/caseload.csv")
    sv = set(pd.read_csv("seeds/safety_valve.csv").la_code)
    balance = d.pivot(index="la_code", columns="balance_date", values="cumulative_deficit")
    real = d.assign(r=d.status == "real").pivot(index="la_code", columns="balance_date", values="r")
    hnb = h.pivot(index="la_code", columns="fy", values="hnb_after_deductions")
    paid = i.pivot_table(index="la_code", columns="fy", values="amount", aggfunc="sum")
    paid = paid.reindex(hnb.index).fillna(0.0)

    def received(fy):
        return paid[fy] if fy in paid.columns else 0.0

    def spend(fys, first, last):
        return (sum(hnb[fy] + received(fy) for fy in fys) + balance[last] - balance[first]) / len(fys)

    estimated = c[c.rule.isin(["R3", "R5"])].groupby(["la_code", "january"]).size()
    c["cost"] = [p * UNIT[s] * (1 + INFLATION[s]) ** (j - PRICE_JANUARY)
                 for p, s, j in zip(c.plans, c.setting, c.january)]
    cost = c.groupby(["la_code", "january"]).cost.sum()
    cost[cost.index.isin(estimated.index)] = np.nan
    cost = cost.unstack()
    plans = c.groupby(["la_code", "january"]).plans.sum().unstack()
    by_period = {
        "spend": pd.DataFrame({
            "2020-21": spend(["2020-21"], "2020-03-31", "2021-03-31"),
            "2021-22": spend(["2021-22"], "2021-03-31", "2022-03-31"),
            "2022-24": spend(["2022-23", "2023-24"], "2022-03-31", "2024-03-31"),
        }),
        "cost": pd.DataFrame({"2020-21": cost[2021], "2021-22": cost[2022],
                              "2022-24": (cost[2023] + cost[2024]) / 2}),
        "plans": pd.DataFrame({"2020-21": plans[2021], "2021-22": plans[2022],
                               "2022-24": (plans[2023] + plans[2024]) / 2}),
    }
    ok = real.all(axis=1) & ~real.index.isin(sv)
    return by_period, ok[ok].index


def scale_changes():
    r, councils = record()
    k = (r["spend"] / r["cost"]).reindex(councils)
    logk = np.log(k).dropna()
    return {
        (1,): logk["2021-22"] - logk["2020-21"],
        (1, 2): logk["2022-24"] - logk["2021-22"],
        (2, 3): logk["2022-24"] - logk["2020-21"],
    }


def shock_coefficient(horizons, rho):
    """Variance of the mean over `horizons` of an AR(1) from 0 with unit innovations."""
    last = max(horizons)
    weights = [np.mean([rho ** (h - j) if j <= h else 0.0 for h in horizons])
               for j in range(1, last + 1)]
    return float(np.sum(np.square(weights)))


def fit(variances, rho):
    """Least squares of variance = level^2 + shock_coefficient x noise^2, both at least 0: with
    two parameters the optimum is the unconstrained solution when it is feasible, else the
    better of the two one-parameter fits. Returns (sum of squares, level^2, noise^2)."""
    a = np.array([[1.0, shock_coefficient(hs, rho)] for hs in variances])
    v = np.array(list(variances.values()))
    candidates = [np.linalg.lstsq(a, v, rcond=None)[0],
                  np.array([0.0, a[:, 1] @ v / (a[:, 1] @ a[:, 1])]),
                  np.array([v.mean(), 0.0])]
    return min((float(np.sum((a @ x - v) ** 2)), x[0], x[1])
               for x in candidates if (x >= 0).all())


def main():
    changes = scale_changes()
    robust = {hs: (1.4826 * np.median(np.abs(x - x.median()))) ** 2 for hs, x in changes.items()}
    for hs, x in changes.items():
        print(f"years ahead {hs}: {len(x)} councils, median {x.median():+.3f}, robust sd "
              f"{np.sqrt(robust[hs]):.3f}, sd {x.std():.3f}")
    print(f"correlation of the one-year change with the next: "
          f"{changes[(1,)].corr(changes[(1, 2)]):+.2f}")
    print("\npersistence  council_level_sd  council_noise_sd  rms residual (variance)")
    results = []
    for rho in np.round(np.arange(0.0, 1.0001, 0.1), 2):
        sse, level2, noise2 = fit(robust, rho)
        results.append((sse, rho, level2, noise2))
        print(f"{rho:11.1f}  {np.sqrt(level2):16.3f}  {np.sqrt(noise2):16.3f}  {np.sqrt(sse / 3):.5f}")
    sse, rho, level2, noise2 = min(results)
    print(f"\nbest: noise_persistence {rho:.1f}, council_level_sd {np.sqrt(level2):.3f}, "
          f"council_noise_sd {np.sqrt(noise2):.3f}")
    for name, (l2, n2, r) in {"fit": (level2, noise2, rho), "before (0.06, 0.07, 0.5)": (0.0036, 0.0049, 0.5)}.items():
        sds = [np.sqrt(l2 + shock_coefficient(hs, r) * n2) for hs in robust]
        print(f"model sd, {name}: " + ", ".join(f"{hs} {s:.3f}" for hs, s in zip(robust, sds))
              + " | record " + ", ".join(f"{np.sqrt(v):.3f}" for v in robust.values()))


if __name__ == "__main__":
    main()
