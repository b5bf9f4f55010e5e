#!/usr/bin/env python3
"""How far a council's spend follows its own plans (issue 10; README "Calibration", Spend;
`costs.plans_response`). Needs pandas, numpy and scipy.

For each council without a safety-valve agreement and with every balance real, the spend the
balances imply (HNB after deductions + safety-valve instalments received + change in the DSG
balance; seeds/deficits.csv, hnb.csv, sv_instalments.csv) and its January plans (seeds/caseload.csv)
are taken for 2020-21, 2021-22 and the mean of 2022-23 and 2023-24 (no 31 March 2023 balance), as
in scripts/spend_noise/fit.py. Across councils, the Theil-Sen slope of the log change in spend on
the log change in plans, over each of the three spans, is how far a council's spend follows its own
plans beyond England's (1 = one for one). It then refits the council spend shock
(`costs.council_noise_sd`, `noise_persistence`) on what is left of the log change in spend over the
caseload's cost once the response at `--beta` is taken out:
`dlog(spend / cost) - (beta - 1) x (dlog plans - its median)`.

Run from the repository root:  python3 scripts/spend_response/fit.py [--beta 0.3]
"""
import argparse
import importlib.util
import pathlib

import numpy as np
from scipy.stats import theilslopes

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("spend_noise", HERE.parent / "spend_noise" / "fit.py")
noise = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(noise)

SPANS = {(1,): ("2020-21", "2021-22"), (1, 2): ("2021-22", "2022-24"), (2, 3): ("2020-21", "2022-24")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--beta", type=float, default=0.3)
    beta = parser.parse_args().beta
    r, councils = noise.record()
    print("span (years ahead)  councils  Theil-Sen slope of dlog spend on dlog plans (95%)")
    residual_var = {}
    for hs, (a, b) in SPANS.items():
        dspend = np.log(r["spend"][b] / r["spend"][a]).reindex(councils)
        dplans = np.log(r["plans"][b] / r["plans"][a]).reindex(councils)
        dk = np.log(r["spend"][b] / r["cost"][b]) - np.log(r["spend"][a] / r["cost"][a])
        dk = dk.reindex(councils)
        m = dspend.notna() & dplans.notna() & dk.notna() & np.isfinite(dspend)
        slope, _, low, high = theilslopes(dspend[m], dplans[m])
        print(f"{a} -> {b} {str(hs):9} {m.sum():8}  {slope:.2f} ({low:.2f} to {high:.2f})")
        left = dk[m] - (beta - 1) * (dplans[m] - dplans[m].median())
        residual_var[hs] = (1.4826 * np.median(np.abs(left - left.median()))) ** 2
    results = [noise.fit(residual_var, rho) + (rho,)
               for rho in np.round(np.arange(0.0, 1.0001, 0.1), 2)]
    sse, level2, noise2, rho = min(results)
    print(f"\nspend shock refitted with plans_response {beta}: robust sds "
          + ", ".join(f"{hs} {np.sqrt(v):.3f}" for hs, v in residual_var.items())
          + f"; best noise_persistence {rho:.1f}, council_level_sd {np.sqrt(level2):.3f}, "
          f"council_noise_sd {np.sqrt(noise2):.3f}")


if __name__ == "__main__":
    main()
