"""How much of a safety-valve agreement's measured saving is its slower caseload (issue 10).

`safety_valve.savings_mean` (0.55) is the share of a council's pre-agreement overspend that its
agreement removed, measured on money: the mean in-year overspend of 2022-24 against that of
2020-22 (2020-21 for the 2021-22 cohort), as a share of HNB, for the 25 agreements of 2021-22 and
2022-23 with a pre-agreement overspend above 2% of HNB. Part of that fall is the council's plans:
agreements include demand management, and the councils' plans grew more slowly after signing.
This script measures that part, so the model can leave it out of the cut where the census it
starts from already shows the slower caseload (`safety_valve.caseload_share`).

1. Plans (all plans, January; ../shared/data/derived/ehcp_statements_total_by_la_2010_2022.csv
   then seeds/ehcps.csv): each council's yearly shortfall k_j = its growth prior at January j - 1
   (mean log growth over four Januaries, shrunk toward England's with 10,000 plans, as
   `demand.shrinkage_plans`) less its actual log growth into January j, less the same for the
   median council without an agreement (positive = fewer plans). Printed: the median by cohort,
   and for the Delivering Better Value councils without an agreement (a deficit programme with no
   agreement), January 2019-2026.
   What a census at the signing FY's January (January 2023 for 2022-23) knows: k_j for the
   Januaries 2022 up to it, cumulated from January 2021, averaged over each money window's
   Januaries (pre: 2021 and 2022, or 2021 alone; post: 2023 and 2024); post less pre is the
   known plan shortfall of the money comparison.
2. Money (seeds/deficits.csv, hnb.csv after deductions, sv_instalments.csv): overspend = change
   in the cumulative deficit + instalments received, over HNB; pre = 2020-22 (2020-21 for the
   2021-22 cohort), post = 2022-24; saving = pre - post (share of HNB); the measured share
   (pre - post) / pre (the basis of savings_mean).
3. The caseload part of each saving: with spend in proportion to plans (the model's non-plan spend
   is per plan too), `k` fewer plans lower spend by `k x (1 + post)` of HNB. caseload_share =
   the sum of the caseload parts over the sum of the savings (a ratio of totals: the per-council
   ratio is unstable where a saving is small).

Run from the repository root: python3 scripts/sv_caseload/fit.py
"""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
# ../shared next to the checkout (from a worktree under ../wt/NAME, two levels up).
SHARED = next(p / "shared" / "data" / "derived" for p in ROOT.parents
              if (p / "shared" / "data" / "derived").is_dir())
HISTORY = 4
SHRINK = 10000.0


def plans_table():
    """All plans by council and January (the loader of scripts/growth_shrinkage/fit.py)."""
    spec = importlib.util.spec_from_file_location(
        "growth_shrinkage", ROOT / "scripts" / "growth_shrinkage" / "fit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.all_plans()


def excess(plans, j):
    """Log growth into January j less the growth prior at January j - 1."""
    y0 = j - 1
    own = np.log(plans[y0] / plans[y0 - HISTORY]) / HISTORY
    eng = np.log(plans[y0].sum() / plans[y0 - HISTORY].sum()) / HISTORY
    w = plans[y0] / (plans[y0] + SHRINK)
    prior = (w * own + (1 - w) * eng).clip(-0.05, 0.20)
    return np.log(plans[j] / plans[y0]) - prior


def dbv_codes():
    """Councils in the Delivering Better Value programme (for comparison: a deficit programme
    with no agreement)."""
    dbv = pd.read_csv(SHARED / "intervention_programmes_sv_dbv.csv")
    names = dbv[dbv.programme == "DBV"].la_name
    lk = pd.read_csv(ROOT / "seeds" / "councils.csv")
    return pd.Index(lk[lk.la_name.isin(names)].la_code)


def main():
    plans = plans_table()
    sv = pd.read_csv(ROOT / "seeds" / "safety_valve.csv").set_index("la_code")
    sv["start"] = sv.cohort.str[:4].astype(int)
    others = plans.index.difference(sv.index)

    # Yearly shortfall k_j = -(excess_j - the others' median excess_j), every council, January j.
    years = [j for j in plans.columns if j - 1 - HISTORY in plans.columns]
    k = pd.DataFrame({j: -(excess(plans, j) - excess(plans, j).reindex(others).median()) for j in years})
    print("Median plan shortfall k_j (growth prior less actual growth, less the others' median), by cohort:")
    groups = {c: g.index for c, g in sv.groupby("cohort")}
    groups["DBV, no agreement"] = others.intersection(dbv_codes())
    tab = pd.DataFrame({c: k.reindex(ix).median() for c, ix in groups.items()}).loc[2019:]
    print(tab.T.to_string(float_format=lambda v: f"{v:+.3f}"))

    d = pd.read_csv(ROOT / "seeds" / "deficits.csv")
    d = d.assign(y=d.balance_date.str[:4].astype(int)).pivot(index="la_code", columns="y", values="cumulative_deficit")
    h = pd.read_csv(ROOT / "seeds" / "hnb.csv")
    h = h.assign(y=h.fy.str[:4].astype(int)).pivot(index="la_code", columns="y", values="hnb_after_deductions")
    i = pd.read_csv(ROOT / "seeds" / "sv_instalments.csv")
    i = i.assign(y=i.fy.str[:4].astype(int)).pivot_table(index="la_code", columns="y", values="amount", aggfunc="sum")
    i = i.reindex(index=h.index, columns=h.columns).fillna(0.0)

    def overspend(first, last):
        """Mean in-year overspend share of FYs first..last (start years), balances 31 March."""
        fys = range(first, last + 1)
        spent = d[last + 1] - d[first] + sum(i[y] for y in fys)
        return spent / sum(h[y] for y in fys)

    rows = []
    for la, a in sv.iterrows():
        if a.start not in (2021, 2022):
            continue
        pre = overspend(2020, 2020) if a.start == 2021 else overspend(2020, 2021)
        post = overspend(2022, 2023)
        pre, post = pre.get(la, np.nan), post.get(la, np.nan)
        if not pre > 0.02:
            continue
        # The shortfall a census at the signing FY's January knows (k_j for j up to it), carried
        # into the money windows as the model carries a known level: cumulated from January
        # 2021, averaged over each window's Januaries (pre: 2021 and 2022, or 2021 alone;
        # post: 2023 and 2024).
        first_jan = a.start + 1
        cum = k.loc[la, [j for j in years if 2021 < j <= first_jan]].reindex(range(2022, 2025)).fillna(0).cumsum()
        cum[2021] = 0.0
        pre_j = [2021] if a.start == 2021 else [2021, 2022]
        kk = cum[[2023, 2024]].mean() - cum[pre_j].mean()
        rows.append(dict(la=la, name=a.la_name, cohort=a.cohort, pre=pre, post=post,
                         saving=pre - post, share=(pre - post) / pre, k=kk, caseload=kk * (1 + post)))
    t = pd.DataFrame(rows).dropna()
    q = t.share.quantile([0.25, 0.5, 0.75])
    print(f"\n{len(t)} agreements with a pre-agreement overspend above 2% of HNB")
    print(f"measured saving share (savings_mean's basis): median {q[0.5]:.2f}, IQR {q[0.25]:.2f}-{q[0.75]:.2f}")
    print(f"saving, share of HNB: median {t.saving.median():.4f}, mean {t.saving.mean():.4f}")
    print(f"known plan shortfall (post less pre window): median {t.k.median():+.4f}, mean {t.k.mean():+.4f}")
    print(f"caseload part, share of HNB: median {t.caseload.median():+.4f}, mean {t.caseload.mean():+.4f}")
    ratio = t.caseload.sum() / t.saving.sum()
    print(f"caseload_share = sum(caseload part) / sum(saving) = {ratio:.3f}")
    print(f"  (ratio of medians {t.caseload.median() / t.saving.median():.3f}; "
          f"2021-22 cohort {t[t.cohort == '2021-22'].caseload.sum() / t[t.cohort == '2021-22'].saving.sum():.3f}, "
          f"2022-23 cohort {t[t.cohort == '2022-23'].caseload.sum() / t[t.cohort == '2022-23'].saving.sum():.3f})")
    print("\n" + t.sort_values("cohort").to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
