"""Fits the council demand spreads (`demand.council_level_sd`, `demand.council_shock_sd`) to the
back-test's own EHCP errors.

usage: python3 scripts/demand_spread/fit.py DIR [DIR ...]
  DIR: the `--out` folder of `highneeds backtest ... --origin O` (one per origin), holding
  backtest.csv.

For every origin and horizon, each council's log error log(actual / p50) of its EHCPs has the
origin-horizon median taken out (the part England's draws carry), and its spread is measured
robustly (1.4826 x the median absolute deviation; councils with at least 200 plans). The model's
own-council part of the log plans after h years is r x sum_{k=1..h} kept(k) x (level + x_k), with
r the new-plan rate, `level` ~ N(0, L^2) once per path, x an AR(1) shock (persistence 0.5, sd s,
started at 0 two updates before the first projected year, as in the engine) and kept(k) the
decay's 0.5^((k-1)/15). L and s are fitted by least squares on the log of the spreads.
"""
import glob
import sys

import numpy as np
import pandas as pd

RATE = 0.18  # the new-plan rate the original fit converted with (README "Uncertainty parameters")
RHO = 0.5
HALF_LIFE = 15.0


def empirical(dirs):
    frames = [pd.read_csv(f) for d in dirs for f in glob.glob(f"{d}/backtest.csv")]
    b = pd.concat(frames)
    e = b[(b.target == "ehcps") & (b.actual >= 200)].copy()
    e["lerr"] = np.log(e.actual / e.p50)
    rows = []
    for (origin, h), x in e.groupby(["origin", "horizon_years"]):
        d = x.lerr - x.lerr.median()
        rows.append(dict(origin=origin, h=int(h), n=len(x), robust_sd=1.4826 * d.abs().median()))
    return pd.DataFrame(rows)


def model_sd(level_sd, shock_sd, h):
    """Exact sd of r x sum_k kept(k) (level + x_k) for the AR(1) started two updates early."""
    kept = np.array([0.5 ** ((k - 1) / HALF_LIFE) for k in range(1, h + 1)])
    # x_k = sum over innovations j <= k+1 (index from -1) of rho^(k-j) s e_j: covariance.
    idx = np.arange(1, h + 1)
    cov = np.zeros((h, h))
    for a in range(h):
        for c in range(h):
            ka, kc = idx[a], idx[c]
            m = min(ka, kc) + 2  # innovations shared: those up to min(ka, kc), from two before 1
            cov[a, c] = shock_sd**2 * sum(
                RHO ** (ka - j) * RHO ** (kc - j) for j in range(min(ka, kc) - m + 1, min(ka, kc) + 1)
            )
    var = RATE**2 * (level_sd**2 * kept.sum() ** 2 + kept @ cov @ kept)
    return np.sqrt(var)


def main():
    emp = empirical(sys.argv[1:])
    by_h = emp.groupby("h").robust_sd.median()
    print("robust sd of councils' log EHCP errors (origin-horizon median taken out):")
    print(emp.round(3).to_string(index=False))
    best = None
    for level_sd in np.arange(0.05, 0.40, 0.005):
        for shock_sd in np.arange(0.05, 0.40, 0.005):
            loss = sum(
                (np.log(model_sd(level_sd, shock_sd, h)) - np.log(sd)) ** 2 * n
                for h, sd, n in zip(emp.h, emp.robust_sd, emp.n)
            )
            if best is None or loss < best[0]:
                best = (loss, level_sd, shock_sd)
    _, level_sd, shock_sd = best
    print(f"\nfit: council_level_sd = {level_sd:.3f}, council_shock_sd = {shock_sd:.3f}")
    print("h  empirical (median over origins)  fitted  with 0.25/0.15")
    for h, sd in by_h.items():
        print(f"{h}  {sd:.3f}  {model_sd(level_sd, shock_sd, h):.3f}  {model_sd(0.25, 0.15, h):.3f}")


if __name__ == "__main__":
    main()
