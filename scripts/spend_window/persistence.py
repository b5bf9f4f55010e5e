#!/usr/bin/env python3
"""Does a council's spend-per-plan growth inside the cost calibration window carry into the
back-test's spend error? (README "Spend per plan", item 4; needs pandas and numpy.)

Implied spend of a FY = HNB after deductions + safety-valve instalments received + change in the
net DSG balance (seeds/), over the January census plans. `g1` is the log growth of implied spend
per plan from 2020-21 to 2021-22 (known at the end of 2021-22), `g2` the yearly log growth from
2021-22 to the 2022-24 mean. The back-test file is `backtest.csv` of
    highneeds backtest scenarios/baseline.toml --origin 2021-22 --policy as-happened --out DIR
Run from the repository root:
    python3 scripts/spend_window/persistence.py DIR/backtest.csv
"""
import sys

import numpy as np
import pandas as pd

d = pd.read_csv("seeds/deficits.csv")
h = pd.read_csv("seeds/hnb.csv")
i = pd.read_csv("seeds/sv_instalments.csv")
e = pd.read_csv("seeds/ehcps.csv")
D = d.pivot(index="la_code", columns="balance_date", values="cumulative_deficit")
H = h.pivot(index="la_code", columns="fy", values="hnb_after_deductions")
I = i.pivot_table(index="la_code", columns="fy", values="amount", aggfunc="sum").reindex(H.index).fillna(0)
E = e.pivot(index="la_code", columns="january", values="ehcps")


def received(fy):
    return I[fy] if fy in I.columns else 0


s2021 = H["2020-21"] + received("2020-21") + D["2021-03-31"] - D["2020-03-31"]
s2122 = H["2021-22"] + received("2021-22") + D["2022-03-31"] - D["2021-03-31"]
s2224 = (H["2022-23"] + H["2023-24"] + received("2022-23") + received("2023-24")
         + D["2024-03-31"] - D["2022-03-31"])
per_plan = (s2021 / E[2021], s2122 / E[2022], s2224 / (E[2023] + E[2024]))
df = pd.DataFrame({"g1": np.log(per_plan[1] / per_plan[0]), "g2": np.log(per_plan[2] / per_plan[1]) / 1.5})
bt = pd.read_csv(sys.argv[1])
sp = bt[bt.target == "spend"].copy()
sp["la_code"] = sp.la_code.astype(int)
sp = sp.set_index("la_code")
df["err"] = sp.pct_hnb_error_p50
df["sv"] = sp.safety_valve
df = df.dropna()
df = df[df.g1.abs() < 0.5]  # leaves out a council whose balances jump by half its spend
spearman = lambda a, b: a.rank().corr(b.rank())
for sv, x in df.groupby("sv"):
    print(f"{'safety valve' if sv else 'others'}: {len(x)} councils; corr(g1, spend error % HNB) "
          f"{x.g1.corr(x.err):+.2f} (Spearman {spearman(x.g1, x.err):+.2f}); corr(g1, g2) "
          f"{x.g1.corr(x.g2):+.2f} (Spearman {spearman(x.g1, x.g2):+.2f}); median error {x.err.median():+.2f}")
x = df[df.sv == 0]
for q in range(4):
    lo, hi = x.g1.quantile(q / 4), x.g1.quantile((q + 1) / 4)
    y = x[(x.g1 >= lo) & (x.g1 <= hi)]
    print(f"others, g1 quartile {q + 1} ({lo:+.3f} to {hi:+.3f}): median spend error {y.err.median():+.2f}% of HNB")
