#!/usr/bin/env python3
"""Build the baseline seed tables in seeds/ from the public data in ../shared/data.

Standard library only. Deterministic: the same inputs give byte-identical outputs.
Usage (from the repository root):  python3 seeds/build_seeds.py --data ../shared/data
Every rule id (R1..R22) used below is defined in seeds/README.md.
"""
import argparse
import csv
import hashlib
import io
import json
import math
import os
import sys
import zipfile

SEEDS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(SEEDS)

JANUARIES = list(range(2019, 2026))  # Januaries of the SEN2-2025 release (by age and setting)
CENSUS_2026 = 2026                   # January 2026 census: totals and placements only (SOURCES §6)
ALL_JANUARIES = JANUARIES + [CENSUS_2026]
JAN2026_FILE = "derived/ehcp_caseload_by_la_jan2026.csv"
ISLE_OF_WIGHT = 921
CAL_YEARS = list(range(2019, 2025))
BANDS = ["under_5", "age_5_10", "age_11_15", "age_16_19", "age_20_25"]
SETTINGS = ["mainstream", "special_state", "special_independent", "post16", "ap_other"]
FYS = ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2025-26", "2026-27"]
REAL_FYS = FYS[:5]
BALANCE_DATES = ["2020-03-31", "2021-03-31", "2022-03-31", "2024-03-31"]
SUPPRESSED = {"x", "z", "c", "", "u", "low", ":"}

# Reorganisations: successor codes, predecessor pool (per affected period) and first real period.
REORG_EHCP = {
    # successors: (predecessor codes, januaries estimated, first real january)
    (838, 839): ((835, 836, 837), [2019], 2020),
    (940, 941): ((928,), [2019, 2020, 2021], 2022),
    (942, 943): ((909,), [2019, 2020, 2021, 2022, 2023], 2024),
}
S114 = {330: "Birmingham", 892: "Nottingham", 306: "Croydon", 871: "Slough", 883: "Thurrock"}
S114_HAIRCUT = 0.5

# Growth of the national HNB total used for the estimated years (rules R11, R12). We apply published
# growth RATES, not headline levels: the headline totals (GBP 10.5bn / 11.9bn) are on a broader basis
# than the council HNB lines and would overstate them. 2024-25: "+GBP 440m, +4.3%" (inside the +3%..+5%
# per-head floor/cap). 2025-26: every council gets at least the +7% per-head floor and at most the +10%
# cap; where each council lies between them is not published per council, so the seeds carry the FLOOR
# (+7%, certain) and the simulator adds a scenario uplift between 0 and cap/floor - 1, drawn once per path
# (`funding.formula_uplift_*`; see README). The published +11% national rise is above the cap, so it cannot
# be on the council lines' basis (it likely includes grants rolled in) and is not used.
HNB_2425 = dict(floor=0.03, cap=0.05, growth=0.043)
HNB_2526 = dict(floor=0.07, cap=0.10, growth=0.07)


# ----------------------------------------------------------------------------- helpers
class Inputs:
    """Opens input files and remembers their sha256."""

    def __init__(self, root):
        self.root = root
        self.hashes = {}

    def _path(self, rel):
        p = os.path.join(self.root, rel)
        with open(p, "rb") as fh:
            data = fh.read()
        self.hashes[rel] = hashlib.sha256(data).hexdigest()
        return data

    def csv(self, rel):
        text = self._path(rel).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    def zip_csv(self, rel, member):
        data = self._path(rel)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            text = zf.read(member).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))


def num(v):
    """Figure or None when suppressed/missing."""
    if v is None:
        return None
    v = v.strip()
    if v in SUPPRESSED:
        return None
    try:
        x = float(v)
    except ValueError:
        return None
    if math.isnan(x):
        return None
    return x


def num0(v):
    x = num(v)
    return 0.0 if x is None else x


def fmt_count(x):
    if abs(x) < 5e-4:
        return "0"
    s = "%.3f" % x
    s = s.rstrip("0").rstrip(".")
    return s


def round_money(x):
    return int(math.floor(x + 0.5))


def fmt_money(x):
    return str(round_money(x))


def fy_after(fy, n):
    a = int(fy[:4]) + n
    return "%d-%02d" % (a, (a + 1) % 100)


def jan_in_fy(fy):
    return int(fy[:4]) + 1


def write_csv(name, header, rows):
    path = os.path.join(SEEDS, name)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    return len(rows)


def largest_remainder(values, target_milli):
    """Round values to integer milli-units whose sum is exactly target_milli."""
    raw = [v * 1000.0 for v in values]
    base = [int(math.floor(r)) for r in raw]
    diff = target_milli - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    if diff >= 0:
        for k in range(diff):
            base[order[k % len(order)]] += 1
    else:
        order = sorted(range(len(raw)), key=lambda i: ((raw[i] - base[i]), i))
        k = 0
        while diff < 0:
            i = order[k % len(order)]
            if base[i] > 0:
                base[i] -= 1
                diff += 1
            k += 1
    return base


def round_matrix(m, total):
    """Round a band x setting matrix to 0.001 so that the total is exact and each
    setting total is the rounded setting sum (integers stay integers)."""
    total_milli = int(round(total * 1000))
    cols = [sum(m[b][s] for b in range(len(BANDS))) for s in range(len(SETTINGS))]
    col_milli = largest_remainder(cols, total_milli)
    out = [[0] * len(SETTINGS) for _ in BANDS]
    for s in range(len(SETTINGS)):
        cells = largest_remainder([m[b][s] for b in range(len(BANDS))], col_milli[s])
        for b in range(len(BANDS)):
            out[b][s] = cells[b] / 1000.0
    return out


def rake(seed, col_targets, row_targets=None, col_fallback=None, row_fallback=None):
    """Iterative proportional fitting of a band x setting matrix.
    col_fallback[s][b] / row_fallback[b][s] are shares used when a needed margin has no seed."""
    nb, ns = len(BANDS), len(SETTINGS)
    m = [[max(seed[b][s], 0.0) for s in range(ns)] for b in range(nb)]
    for s in range(ns):
        if col_targets[s] > 0 and sum(m[b][s] for b in range(nb)) <= 0:
            for b in range(nb):
                m[b][s] = col_fallback[s][b] * col_targets[s]
    rows = None
    if row_targets is not None:
        tot_r = sum(row_targets)
        tot_c = sum(col_targets)
        rows = [r * tot_c / tot_r for r in row_targets] if tot_r > 0 else [0.0] * nb
        for b in range(nb):
            if rows[b] > 0 and sum(m[b]) <= 0:
                for s in range(ns):
                    m[b][s] = row_fallback[b][s] * rows[b]
    for _ in range(5000):
        if rows is not None:
            for b in range(nb):
                rs = sum(m[b])
                f = rows[b] / rs if rs > 0 else 0.0
                m[b] = [v * f for v in m[b]]
        for s in range(ns):
            cs = sum(m[b][s] for b in range(nb))
            f = col_targets[s] / cs if cs > 0 else 0.0
            for b in range(nb):
                m[b][s] *= f
        if rows is None:
            break
        dev = max(abs(sum(m[b]) - rows[b]) for b in range(nb))
        if dev < 1e-9:
            break
    return m


def band_of_age_label(label):
    """Map an SEN2 age label to a band ('under 3', 'age 7', 'age 2 and under', 'age 20 and over')."""
    lab = label.strip().lower()
    if lab in ("under 3", "age 2 and under"):
        return "under_5"
    if lab == "age 20 and over":
        return "age_20_25"
    if not lab.startswith("age "):
        return None
    try:
        a = int(lab[4:])
    except ValueError:
        return None
    if a <= 4:
        return "under_5"
    if a <= 10:
        return "age_5_10"
    if a <= 15:
        return "age_11_15"
    if a <= 19:
        return "age_16_19"
    if a <= 25:
        return "age_20_25"
    return None


def setting_split(row, total_col):
    """Five settings from one SEN2 row. Returns (dict, any_suppressed, total or None)."""
    used = [total_col, "mainstream_total", "special_la_maintained", "special_academy_free",
            "special_independent", "special_non_maintained", "fe_total"]
    sup = any(num(row[c]) is None for c in used)
    total = num(row[total_col])
    ms = num0(row["mainstream_total"])
    ss = num0(row["special_la_maintained"]) + num0(row["special_academy_free"])
    si = num0(row["special_independent"]) + num0(row["special_non_maintained"])
    p16 = num0(row["fe_total"])
    ap = (total if total is not None else 0.0) - ms - ss - si - p16
    return ({"mainstream": ms, "special_state": ss, "special_independent": si,
             "post16": p16, "ap_other": ap}, sup, total)


def jan_of_period(tp):
    return int(str(tp)[:4]) + 1


def setting_split_2026(row):
    """Five settings from one row of the January 2026 file, which splits academy and free special
    schools into two columns (SEN2-2025 has them as one, `special_academy_free`). Returns
    (total, [five settings]) or None when the row is suppressed."""
    cols = ["ehcplans", "mainstream_total", "special_la_maintained", "special_academy", "special_free_school",
            "special_independent", "special_non_maintained", "fe_total"]
    v = {k: num(row[k]) for k in cols}
    if any(x is None for x in v.values()):
        return None
    ms = v["mainstream_total"]
    ss = v["special_la_maintained"] + v["special_academy"] + v["special_free_school"]
    si = v["special_independent"] + v["special_non_maintained"]
    p16 = v["fe_total"]
    return v["ehcplans"], [ms, ss, si, p16, v["ehcplans"] - ms - ss - si - p16]


def build_jan2026(inp, codes, caseload, nat_shares_2025, use):
    """January 2026 EHCPs and setting totals per council (SOURCES §6). The Isle of Wight is
    suppressed: each of its figures is its region's row minus the region's other councils (R23)."""
    rows = inp.csv(JAN2026_FILE)
    la = {int(r["old_la_code"]): r for r in rows if r["geographic_level"] == "Local authority"}
    regions = {r["region_name"]: r for r in rows if r["geographic_level"] == "Regional"}
    assert set(la) == set(codes), sorted(set(la) ^ set(codes))
    out = {}
    for c in codes:
        got = setting_split_2026(la[c])
        if got is not None:
            out[c] = (got[0], got[1], "real", "")
    assert set(codes) - set(out) == {ISLE_OF_WIGHT}, sorted(set(codes) - set(out))
    region = la[ISLE_OF_WIGHT]["region_name"]
    reg_total, reg_cols = setting_split_2026(regions[region])
    others = [c for c in codes if c != ISLE_OF_WIGHT and la[c]["region_name"] == region]
    total = reg_total - sum(out[c][0] for c in others)
    cols = [reg_cols[k] - sum(out[c][1][k] for c in others) for k in range(len(SETTINGS))]
    assert total > 0 and min(cols) >= 0 and abs(sum(cols) - total) < 1e-9, (total, cols)
    out[ISLE_OF_WIGHT] = (total, cols, "estimated", "R23")
    use("R23 ehcps")
    # the region rows add up to England (718,838 in SOURCES §6); LA rows add up to their region
    england = sum(setting_split_2026(r)[0] for r in regions.values())
    for name, r in regions.items():
        members = [c for c in codes if la[c]["region_name"] == name]
        assert abs(sum(out[c][0] for c in members) - setting_split_2026(r)[0]) < 1e-9, name
    return {"councils": out, "england": england}


def cols_by_band(seed, cols, nat_shares):
    """R24: each January 2026 setting total split over age bands by the council's own January 2025
    within-setting age shares (England's where the council had no plans in that setting)."""
    nb, ns = len(BANDS), len(SETTINGS)
    m = [[0.0] * ns for _ in range(nb)]
    for s in range(ns):
        col = sum(seed[b][s] for b in range(nb))
        for b in range(nb):
            share = seed[b][s] / col if col > 0 else nat_shares[s][b]
            m[b][s] = cols[s] * share
    return m


# ----------------------------------------------------------------------------- main build
def build(data_dir):
    inp = Inputs(data_dir)
    rules_used = {}

    def use(rule, n=1):
        rules_used[rule] = rules_used.get(rule, 0) + n

    lookup = sorted(inp.csv("derived/la_lookup_153.csv"), key=lambda r: int(r["old_la_code"]))
    codes = [int(r["old_la_code"]) for r in lookup]
    codeset = set(codes)
    assert len(codes) == 153
    names = {int(r["old_la_code"]): r["la_name"] for r in lookup}

    zpath = "raw/education-health-and-care-plans_2025.zip"
    caseload_raw = inp.zip_csv(zpath, "data/caseload.csv")
    newplans_raw = inp.zip_csv(zpath, "data/newplans.csv")
    ceased_raw = inp.zip_csv(zpath, "data/ceased_plans.csv")
    derived_caseload = inp.csv("derived/ehcp_caseload_all_plans_2019_2025.csv")

    # ---------------------------------------------------------------- EHCPs (All EHC plans rows)
    allp = {}      # (code, jan) -> row
    nat_allp = {}  # jan -> row
    for r in caseload_raw:
        if r["breakdown_topic"] != "All EHC plans":
            continue
        jan = jan_of_period(r["time_period"])
        if r["geographic_level"] == "Local authority":
            allp[(int(r["old_la_code"]), jan)] = r
        elif r["geographic_level"] == "National":
            nat_allp[jan] = r
    # cross-check with the derived tidy copy (same figures)
    for r in derived_caseload:
        if r["geographic_level"] == "Local authority":
            k = (int(r["old_la_code"]), int(r["january_year"]))
            assert k in allp and num(allp[k]["ehcplans"]) == num(r["ehcplans"]), k
    nat_ehcp = {j: num(nat_allp[j]["ehcplans"]) for j in JANUARIES}

    ehcps = {}  # (code, jan) -> [value, status, rule]
    for c in codes:
        for j in JANUARIES:
            r = allp.get((c, j))
            if r is not None and num(r["ehcplans"]) is not None:
                ehcps[(c, j)] = [num(r["ehcplans"]), "real", ""]
    reorg_share = {}  # (code, jan) -> (share, first real jan)
    for succ, (preds, years, first) in REORG_EHCP.items():
        tot_first = sum(ehcps[(s, first)][0] for s in succ)
        for s in succ:
            share = ehcps[(s, first)][0] / tot_first
            for j in years:
                pool = sum(num(allp[(p, j)]["ehcplans"]) for p in preds if (p, j) in allp)
                assert pool > 0
                ehcps[(s, j)] = [pool * share, "estimated", "R1"]
                reorg_share[(s, j)] = (share, first)
                use("R1 ehcps")
    # Newham Jan 2025 recording break
    newham_recorded = ehcps[(316, 2025)][0]
    eng_growth_2425 = nat_ehcp[2025] / nat_ehcp[2024] - 1.0
    ehcps[(316, 2025)] = [ehcps[(316, 2024)][0] * (1.0 + eng_growth_2425), "estimated", "R2"]
    use("R2 ehcps")
    for c in codes:
        for j in JANUARIES:
            assert (c, j) in ehcps, (c, j)
            ehcps[(c, j)][0] = round(ehcps[(c, j)][0], 3)

    # ---------------------------------------------------------------- caseload cross-tabs
    nb, ns = len(BANDS), len(SETTINGS)
    bidx = {b: i for i, b in enumerate(BANDS)}
    sidx = {s: i for i, s in enumerate(SETTINGS)}

    def zero():
        return [[0.0] * ns for _ in range(nb)]

    age_tab = {}      # (code, jan) -> (matrix, any_suppressed, band totals (None if unknown))
    nat_age_tab = {}  # jan -> matrix
    nat_single_age = {}  # (jan, age) -> settings
    for r in caseload_raw:
        if r["breakdown_topic"] != "Child or young persons age":
            continue
        jan = jan_of_period(r["time_period"])
        band = band_of_age_label(r["breakdown"])
        assert band is not None, r["breakdown"]
        sp, sup, tot = setting_split(r, "ehcplans")
        if r["geographic_level"] == "Local authority":
            key = (int(r["old_la_code"]), jan)
            if key not in age_tab:
                age_tab[key] = [zero(), False, [0.0] * nb, True]
            ent = age_tab[key]
            for s in SETTINGS:
                ent[0][bidx[band]][sidx[s]] += sp[s]
            ent[1] = ent[1] or sup
            if tot is None:
                ent[3] = False
            else:
                ent[2][bidx[band]] += tot
        elif r["geographic_level"] == "National":
            m = nat_age_tab.setdefault(jan, zero())
            for s in SETTINGS:
                m[bidx[band]][sidx[s]] += sp[s]
            lab = r["breakdown"].strip().lower()
            age = 2 if lab == "under 3" else int(lab[4:])
            nat_single_age[(jan, age)] = sp

    def col_shares(m):
        out = []
        for s in range(ns):
            cs = sum(m[b][s] for b in range(nb))
            out.append([m[b][s] / cs if cs > 0 else 1.0 / nb for b in range(nb)])
        return out

    def row_shares(m):
        out = []
        for b in range(nb):
            rs = sum(m[b])
            out.append([m[b][s] / rs if rs > 0 else 1.0 / ns for s in range(ns)])
        return out

    nat_col_sh = {j: col_shares(nat_age_tab[j]) for j in (2024, 2025)}
    nat_row_sh = {j: row_shares(nat_age_tab[j]) for j in (2024, 2025)}

    def setting_totals(c, j):
        sp, sup, tot = setting_split(allp[(c, j)], "ehcplans")
        return [sp[s] for s in SETTINGS], sup

    caseload = {}  # (code, jan) -> (matrix, status, rule)
    deferred = []
    for j in (2024, 2025):
        for c in codes:
            if (c, j) in ehcps and ehcps[(c, j)][1] == "estimated":
                continue
            cols, col_sup = setting_totals(c, j)
            ent = age_tab.get((c, j))
            if not col_sup and ent is not None and not ent[1] and ent[3]:
                m = rake(ent[0], cols, ent[2], nat_col_sh[j], nat_row_sh[j])
                exact = all(abs(m[b][s] - ent[0][b][s]) < 1e-6 for b in range(nb) for s in range(ns))
                caseload[(c, j)] = (m, "real" if exact else "estimated", "" if exact else "R3")
                if not exact:
                    use("R3 caseload")
            else:
                deferred.append((c, j))
    for (c, j) in deferred:
        other = 2025 if j == 2024 else 2024
        total = ehcps[(c, j)][0]
        cols, col_sup = setting_totals(c, j)
        ent = age_tab.get((c, j))
        seed = caseload[(c, other)][0]
        if col_sup:
            # setting totals suppressed: shares from the council's own real neighbouring years
            sh_years = [y for y in (j - 1, j + 1) if (c, y) in allp and not setting_totals(c, y)[1]]
            shares = [0.0] * ns
            for y in sh_years:
                cy, _ = setting_totals(c, y)
                ty = sum(cy)
                for s in range(ns):
                    shares[s] += cy[s] / ty / len(sh_years)
            cols = [total * shares[s] for s in range(ns)]
        rows = ent[2] if (ent is not None and ent[3]) else None
        m = rake(seed, cols, rows, nat_col_sh[j], nat_row_sh[j])
        caseload[(c, j)] = (m, "estimated", "R3")
        use("R3 caseload")

    # Jan 2019..2023: setting totals split by the council's Jan 2024 within-setting age shares
    for c in codes:
        sh24 = col_shares(caseload[(c, 2024)][0]) if (c, 2024) in caseload else None
        for j in range(2019, 2024):
            if ehcps[(c, j)][1] == "estimated":
                continue
            cols, sup = setting_totals(c, j)
            assert not sup, (c, j)
            m = zero()
            for s in range(ns):
                csum24 = sum(caseload[(c, 2024)][0][b][s] for b in range(nb))
                shares = sh24[s] if csum24 > 0 else nat_col_sh[2024][s]
                for b in range(nb):
                    m[b][s] = cols[s] * shares[b]
            caseload[(c, j)] = (m, "estimated", "R4")
            use("R4 caseload")
    # Estimated council-years: scale a real year's cells
    for c in codes:
        for j in JANUARIES:
            if ehcps[(c, j)][1] != "estimated":
                continue
            ref = reorg_share[(c, j)][1] if (c, j) in reorg_share else 2024
            mref = caseload[(c, ref)][0]
            f = ehcps[(c, j)][0] / sum(sum(row) for row in mref)
            caseload[(c, j)] = ([[v * f for v in row] for row in mref], "estimated", "R5")
            use("R5 caseload")

    # ---------------------------------------------------------------- January 2026 census
    jan26 = build_jan2026(inp, codes, caseload, nat_col_sh[2025], use)
    for c in codes:
        total, cols, status, rule = jan26["councils"][c]
        ehcps[(c, CENSUS_2026)] = [round(total, 3), status, rule]
        caseload[(c, CENSUS_2026)] = (cols_by_band(caseload[(c, 2025)][0], cols, nat_col_sh[2025]),
                                      "estimated", rule + "+R24" if rule else "R24")
        use("R24 caseload")
    nat_ehcp[CENSUS_2026] = jan26["england"]

    cas_rows = []
    for c in codes:
        for j in ALL_JANUARIES:
            m, st, rule = caseload[(c, j)]
            total = ehcps[(c, j)][0]
            # hard constraint
            assert abs(sum(sum(r) for r in m) - total) < 1e-6 * max(1.0, total), (c, j)
            mr = round_matrix(m, total)
            for b in range(nb):
                for s in range(ns):
                    assert mr[b][s] >= 0
                    cas_rows.append([c, j, BANDS[b], SETTINGS[s], fmt_count(mr[b][s]), st, rule])

    # ---------------------------------------------------------------- population
    pop_rows_raw = inp.csv("derived/pop_2_18_and_hn_nff_by_la_2021_22.csv")
    pop = {}
    for r in pop_rows_raw:
        v = num(r["pop_2_18_mid2021_proj"])
        if v is not None and v > 0:
            pop[int(r["la_code"])] = v
    alloc_raw = inp.csv("derived/dsg_allocations_by_la_2019_20_to_2023_24.csv")
    alloc = {}
    for r in alloc_raw:
        alloc[(r["la_code"], r["financial_year"])] = r
    pop_est = {}
    sb = {c: num(alloc[(str(c), "2023-24")]["schools_block"]) for c in (942, 943)}
    for c in (942, 943):
        pop_est[c] = (pop[909] * sb[c] / (sb[942] + sb[943]), "R6")
    pop_known = [c for c in codes if c in pop]
    ratio_pop_ehcp = sum(pop[c] for c in pop_known) / sum(ehcps[(c, 2022)][0] for c in pop_known)
    for c in codes:
        if c not in pop and c not in pop_est:
            pop_est[c] = (ehcps[(c, 2022)][0] * ratio_pop_ehcp, "R7")
    council_rows = []
    for r in lookup:
        c = int(r["old_la_code"])
        if c in pop:
            pv, st, rule = pop[c], "real", ""
        else:
            pv, rule = pop_est[c]
            st = "estimated"
            use(rule + " pop_2_18")
        council_rows.append([c, r["new_la_code"], r["la_name"], r["region_name"], r["la_type"] or "",
                             fmt_count(pv), st, rule])
    # every council must carry one of the five LAIT types
    for row in council_rows:
        assert row[4] in ("ILB", "OLB", "MD", "UA", "SC"), row

    # ---------------------------------------------------------------- flows
    flows_raw = inp.csv("derived/ehcp_flows_by_la_2019_2024.csv")
    fl = {}
    nat_flow = {}
    for r in flows_raw:
        y = int(r["calendar_year"])
        if r["geographic_level"] == "Local authority":
            fl[(int(r["old_la_code"]), y)] = r
        elif r["geographic_level"] == "National":
            nat_flow[y] = r
    # age rows of newplans.csv, used for the Yorkshire 2022 correction and the mixes
    np_age = {}      # (code, year) -> (matrix, suppressed, total)
    nat_np_age = {}  # year -> matrix
    np_tot_rows = {}
    for r in newplans_raw:
        y = int(r["time_period"])
        if r["breakdown_topic"] == "New EHC plans" and r["geographic_level"] == "Local authority":
            np_tot_rows[(int(r["old_la_code"]), y)] = r
        if r["breakdown_topic"] != "Age when plan started":
            continue
        band = band_of_age_label(r["breakdown"])
        if band is None:
            continue  # no unknown-age rows exist in this release; kept for safety
        sp, sup, tot = setting_split(r, "new_ehc_plans")
        if r["geographic_level"] == "Local authority":
            key = (int(r["old_la_code"]), y)
            ent = np_age.setdefault(key, [zero(), False, 0.0])
        elif r["geographic_level"] == "National":
            ent = nat_np_age.setdefault(y, [zero(), False, 0.0])
        else:
            continue
        for s in SETTINGS:
            ent[0][bidx[band]][sidx[s]] += sp[s]
        ent[1] = ent[1] or sup
        ent[2] += tot if tot is not None else 0.0

    # Yorkshire 2022: every LA 'New EHC plans' row carries the regional total (6078)
    yorks_fix = set()
    vals22 = {}
    for (c, y), r in fl.items():
        if y == 2022 and r["region_name"] == "Yorkshire and The Humber":
            vals22[c] = num(r["new_ehc_plans"])
    reg = [r for r in newplans_raw if r["breakdown_topic"] == "New EHC plans" and r["geographic_level"] == "Regional"
           and r["time_period"] == "2022" and r["region_name"] == "Yorkshire and The Humber"]
    reg_total = num(reg[0]["new_ehc_plans"])
    for c, v in vals22.items():
        if v == reg_total:
            yorks_fix.add(c)

    flows = {}  # (c, y) -> dict metric -> [value, status, rule]
    for c in codes:
        for y in CAL_YEARS:
            r = fl.get((c, y))
            d = {}
            for m, col in (("new", "new_ehc_plans"), ("ceased", "total_ceased"), ("max", "max_age")):
                v = num(r[col]) if r is not None else None
                d[m] = [v, "real", ""] if v is not None else None
            if c in yorks_fix and y == 2022:
                d["new"] = [np_age[(c, 2022)][2], "estimated", "R9"]
                use("R9 flows new_plans")
            flows[(c, y)] = d
    # reorganisations
    reorg_flow = {(940, 941): ((928,), [2019, 2020], 2021), (942, 943): ((909,), [2019, 2020, 2021, 2022], 2023)}
    for succ, (preds, years, first) in reorg_flow.items():
        for m in ("new", "ceased", "max"):
            if any(flows[(s, first)][m] is None for s in succ):
                continue  # successors' first-year value unknown (ceased 2021): left to rule R8
            tot_first = sum(flows[(s, first)][m][0] for s in succ)
            for s in succ:
                share = flows[(s, first)][m][0] / tot_first if tot_first > 0 else 1.0 / len(succ)
                for y in years:
                    pv = [num(fl[(p, y)][{"new": "new_ehc_plans", "ceased": "total_ceased", "max": "max_age"}[m]])
                          for p in preds if (p, y) in fl]
                    if pv and all(v is not None for v in pv):
                        flows[(s, y)][m] = [sum(pv) * share, "estimated", "R1"]
                        use("R1 flows " + m)
    # rate rule R8
    nat_rate = {"new": {}, "ceased": {}}
    for y in CAL_YEARS:
        nat_rate["new"][y] = num(nat_flow[y]["new_ehc_plans"]) / nat_ehcp[y]
        v = num(nat_flow[y]["total_ceased"])
        if v is not None:
            nat_rate["ceased"][y] = v / nat_ehcp[y]
    known_c = [y for y in CAL_YEARS if y in nat_rate["ceased"]]
    mean_ceased_rate = sum(nat_rate["ceased"][y] for y in known_c) / len(known_c)
    for y in CAL_YEARS:
        nat_rate["ceased"].setdefault(y, mean_ceased_rate)
    for c in codes:
        for m in ("new", "ceased"):
            known = [y for y in CAL_YEARS if flows[(c, y)][m] is not None and flows[(c, y)][m][2] != "R1"]
            if len(known) == len(CAL_YEARS):
                continue
            if not known:
                known = [y for y in CAL_YEARS if flows[(c, y)][m] is not None]
            k = sum(flows[(c, y)][m][0] / ehcps[(c, y)][0] / nat_rate[m][y] for y in known) / len(known)
            for y in CAL_YEARS:
                if flows[(c, y)][m] is None:
                    flows[(c, y)][m] = [k * nat_rate[m][y] * ehcps[(c, y)][0], "estimated", "R8"]
                    use("R8 flows " + m)
        kn = [y for y in CAL_YEARS if flows[(c, y)]["max"] is not None and flows[(c, y)]["ceased"][1] == "real"]
        sc = sum(flows[(c, y)]["ceased"][0] for y in kn)
        share = sum(flows[(c, y)]["max"][0] for y in kn) / sc if sc > 0 else 0.0
        for y in CAL_YEARS:
            if flows[(c, y)]["max"] is None:
                flows[(c, y)]["max"] = [share * flows[(c, y)]["ceased"][0], "estimated", "R8"]
                use("R8 flows max_age")
    flow_rows = []
    for c in codes:
        for y in CAL_YEARS:
            d = flows[(c, y)]
            rules = []
            for m in ("new", "ceased", "max"):
                if d[m][2] and d[m][2] not in rules:
                    rules.append(d[m][2])
            st = "estimated" if rules else "real"
            flow_rows.append([c, y, fmt_count(d["new"][0]), fmt_count(d["ceased"][0]), fmt_count(d["max"][0]),
                              st, "+".join(sorted(rules, key=lambda x: int(x[1:])))])

    # ---------------------------------------------------------------- new plans mix
    mix_rows = []
    mix_missing = []
    for c in codes:
        for y in (2022, 2023, 2024):
            ent = np_age.get((c, y))
            if ent is None or ent[1]:
                mix_missing.append((c, y, "no age rows" if ent is None else "placement suppressed"))
                continue
            m = ent[0]
            for b in range(nb):
                for s in range(ns):
                    assert m[b][s] >= -1e-9, (c, y, b, s, m[b][s])
                    mix_rows.append([c, y, BANDS[b], SETTINGS[s], fmt_count(m[b][s]), "real", ""])
    nat_mix_rows = []
    for y in (2022, 2023, 2024):
        m = nat_np_age[y][0]
        for b in range(nb):
            for s in range(ns):
                nat_mix_rows.append([y, BANDS[b], SETTINGS[s], fmt_count(m[b][s])])

    # ---------------------------------------------------------------- national ceased by age
    nat_ceased = {}
    ceased_unknown = {}
    for r in ceased_raw:
        if r["breakdown_topic"] != "Age plan ceased" or r["geographic_level"] != "National":
            continue
        y = int(r["time_period"])
        band = band_of_age_label(r["breakdown"])
        if band is None:
            ceased_unknown[y] = (num0(r["total_ceased"]), num0(r["max_age"]))
            continue
        t = nat_ceased.setdefault((y, band), [0.0, 0.0])
        t[0] += num0(r["total_ceased"])
        t[1] += num0(r["max_age"])
    nat_ceased_rows = [[y, b, fmt_count(nat_ceased[(y, b)][0]), fmt_count(nat_ceased[(y, b)][1])]
                       for y in (2023, 2024) for b in BANDS]

    # ---------------------------------------------------------------- national caseload by single age
    nat_age_rows = []
    for j in (2024, 2025):
        for a in range(2, 26):
            sp = nat_single_age[(j, a)]
            for s in SETTINGS:
                assert sp[s] >= 0
                nat_age_rows.append([j, a, s, fmt_count(sp[s])])

    # ---------------------------------------------------------------- HNB
    hnb = {}  # (c, fy) -> [before, after, status, rule]
    for c in codes:
        for fy in REAL_FYS:
            r = alloc.get((str(c), fy))
            if r is not None and num(r["hnb_before_deductions"]) is not None:
                hnb[(c, fy)] = [num(r["hnb_before_deductions"]), num(r["hnb_after_deductions"]), "real", ""]
    reorg_hnb = {(940, 941): ("928", ["2019-20", "2020-21"], "2021-22"),
                 (942, 943): ("909", ["2019-20", "2020-21", "2021-22", "2022-23"], "2023-24")}
    for succ, (pred, fys, first) in reorg_hnb.items():
        tb = sum(hnb[(s, first)][0] for s in succ)
        ta = sum(hnb[(s, first)][1] for s in succ)
        for s in succ:
            for fy in fys:
                pr = alloc[(pred, fy)]
                hnb[(s, fy)] = [num(pr["hnb_before_deductions"]) * hnb[(s, first)][0] / tb,
                                num(pr["hnb_after_deductions"]) * hnb[(s, first)][1] / ta, "estimated", "R1"]
                use("R1 hnb")
    for c in codes:
        for fy in REAL_FYS:
            if (c, fy) in hnb:
                continue
            eng = alloc[("ENGLAND", fy)]
            j = jan_in_fy(fy)
            per_plan = num(eng["hnb_before_deductions"]) / nat_ehcp[j]
            ratio = num(eng["hnb_after_deductions"]) / num(eng["hnb_before_deductions"])
            before = per_plan * ehcps[(c, j)][0]
            hnb[(c, fy)] = [before, before * ratio, "estimated", "R10"]
            use("R10 hnb")
    # round real years to pounds before growing
    for k in list(hnb):
        hnb[k][0] = float(round_money(hnb[k][0]))
        hnb[k][1] = float(round_money(hnb[k][1]))

    def grow(prev_fy, fy, p, rule):
        base = sum(hnb[(c, prev_fy)][0] for c in codes)
        target = base * (1.0 + p["growth"])
        need = target / base - 1.0
        g = min(max(need, p["floor"]), p["cap"])
        provisional = {c: hnb[(c, prev_fy)][0] * (1 + g) for c in codes}
        scale = target / sum(provisional.values())
        info = {"required_uplift": need, "clamped_uplift": g, "scale": scale}
        vals = {c: provisional[c] * scale for c in codes}
        # integer pounds that add up exactly to the national total
        ints = {c: round_money(vals[c]) for c in codes}
        diff = round_money(target) - sum(ints.values())
        order = sorted(codes, key=lambda c: -vals[c])
        for i in range(abs(diff)):
            ints[order[i % len(order)]] += 1 if diff > 0 else -1
        for c in codes:
            pb, pa = hnb[(c, prev_fy)][0], hnb[(c, prev_fy)][1]
            hnb[(c, fy)] = [float(ints[c]), float(round_money(pa * ints[c] / pb)), "estimated", rule]
            use(rule + " hnb")
        return info

    hnb_info = {}
    hnb_info["2024-25"] = grow("2023-24", "2024-25", HNB_2425, "R11")
    hnb_info["2025-26"] = grow("2024-25", "2025-26", HNB_2526, "R12")
    for c in codes:
        pb, pa = hnb[(c, "2025-26")][0], hnb[(c, "2025-26")][1]
        hnb[(c, "2026-27")] = [pb, pa, "estimated", "R13"]
        use("R13 hnb")
    hnb_rows = []
    for c in codes:
        for fy in FYS:
            b, a, st, rule = hnb[(c, fy)]
            assert b > 0 and a > 0
            hnb_rows.append([c, fy, fmt_money(b), fmt_money(a), st, rule])

    # ---------------------------------------------------------------- deficits
    d_raw = inp.csv("derived/dsg_cumulative_deficit_by_la_2020_2022_from_dfe_pct.csv")
    d24_raw = inp.csv("derived/dsg_cumulative_deficit_by_la_2024_s251_1_9_3.csv")
    dval = {}  # (code, date) -> value from the files (predecessors included)
    for r in d_raw:
        v = num(r["dsg_cumulative_deficit_gbp_est"])
        if v is not None:
            dval[(int(r["old_la_code"]), r["balance_date"])] = v
    for r in d24_raw:
        v = num(r["dsg_cumulative_deficit_gbp_s251_1_9_3"])
        c = int(r["old_la_code"])
        if v is None:
            continue
        if c in (942, 943) and v == 0:
            continue  # read 0: treated as missing
        dval[(c, r["balance_date"])] = v
    # Buckinghamshire 2024: look for the value under any other code or name
    bucks_found = [r for r in d24_raw if ("buck" in r["la_name"].lower() or r["new_la_code"] in ("E06000060", "E10000002"))
                   and num(r["dsg_cumulative_deficit_gbp_s251_1_9_3"]) is not None]
    assert not bucks_found  # not present in the transcribed file under any code
    deficits = {}
    for c in codes:
        for dt in BALANCE_DATES:
            if (c, dt) in dval:
                deficits[(c, dt)] = [dval[(c, dt)], "real", ""]
    fy_of_date = {"2020-03-31": "2019-20", "2021-03-31": "2020-21", "2022-03-31": "2021-22", "2024-03-31": "2023-24"}
    reorg_def = {(940, 941): (928, ["2020-03-31", "2021-03-31"], "2021-22"),
                 (942, 943): (909, ["2020-03-31", "2021-03-31", "2022-03-31"], "2023-24")}
    for succ, (pred, dates, first) in reorg_def.items():
        tb = sum(hnb[(s, first)][0] for s in succ)
        for s in succ:
            for dt in dates:
                deficits[(s, dt)] = [dval[(pred, dt)] * hnb[(s, first)][0] / tb, "estimated", "R1"]
                use("R1 deficits")
    # R14: balance-to-HNB ratio carried from the nearest known date
    pred_of = {942: 909, 943: 909}
    for c in codes:
        for dt in BALANCE_DATES:
            if (c, dt) in deficits:
                continue
            if c in (201, 420):
                continue
            src = pred_of.get(c, c)
            known = [d for d in BALANCE_DATES if (src, d) in dval]
            near = min(known, key=lambda d: (abs(int(d[:4]) - int(dt[:4])), -int(d[:4])))
            hnb_src = (num(alloc[(str(src), fy_of_date[near])]["hnb_before_deductions"]) if src != c
                       else hnb[(c, fy_of_date[near])][0])
            ratio = dval[(src, near)] / hnb_src
            deficits[(c, dt)] = [ratio * hnb[(c, fy_of_date[dt])][0], "estimated", "R14"]
            use("R14 deficits")
    for c in (201, 420):
        for dt in BALANCE_DATES:
            deficits[(c, dt)] = [0.0, "estimated", "R15"]
            use("R15 deficits")
    def_rows = []
    for c in codes:
        for dt in BALANCE_DATES:
            v, st, rule = deficits[(c, dt)]
            def_rows.append([c, dt, fmt_money(v), st, rule])

    # ---------------------------------------------------------------- reserves
    res18 = {int(r["old_la_code"]): r for r in inp.csv("derived/reserves_by_la_2018_mhclg_rs.csv")}
    prox = {int(r["old_la_code"]): r for r in inp.csv("derived/reserves_proxy_by_la_2025_estimated.csv")}
    G = 30.3e9 / 21249239722.0  # national growth of non-ringfenced reserves, 31 Mar 2018 -> 31 Mar 2025
    res_rows = []
    reserves = {}
    for c in codes:
        r = res18[c]
        v = num(r["non_ringfenced_reserves_gbp"])
        st_src = r["status"]
        note = "s114" if c in S114 else ""
        if v is not None and st_src == "real":
            val, st, rule = v, "real", ""
        elif v is not None and st_src == "real_aggregated":
            val, st, rule = v, "estimated", "R16"
        elif v is not None:
            val, st, rule = v, "estimated", "R17"
        else:
            val, st, rule = num(prox[c]["est_non_ringfenced_reserves_31mar2025_spend_scaled_gbp"]) / G, "estimated", "R18"
        if rule:
            use(rule + " reserves 2018")
        reserves[(c, "2018-03-31")] = val
        res_rows.append([c, "2018-03-31", fmt_money(val), st, rule, note])
        a = num(prox[c]["est_non_ringfenced_reserves_31mar2025_growth_only_gbp"])
        b = num(prox[c]["est_non_ringfenced_reserves_31mar2025_spend_scaled_gbp"])
        v25 = min(x for x in (a, b) if x is not None)
        rule = "R19"
        use("R19 reserves 2025")
        if c in S114:
            v25 *= S114_HAIRCUT
            rule = "R19+R20"
            use("R20 reserves 2025")
        reserves[(c, "2025-03-31")] = v25
        res_rows.append([c, "2025-03-31", fmt_money(v25), "estimated", rule, note])
    res_rows.sort(key=lambda r: (r[0], r[1]))

    # ---------------------------------------------------------------- safety valve
    sv_raw = inp.csv("derived/intervention_programmes_sv_dbv.csv")
    name_to_code = {}
    for r in lookup:
        name_to_code[r["la_name"].lower()] = int(r["old_la_code"])
    alias = {"bristol": 801, "kingston upon thames": 314, "richmond upon thames": 318}
    members = []
    unidentified = 0
    for r in sv_raw:
        if r["programme"] != "Safety Valve":
            continue
        nm = r["la_name"].strip()
        if nm.startswith("("):
            unidentified += int(nm.split()[0].strip("(")) if nm.split()[0].strip("(").isdigit() else 0
            continue
        c = alias.get(nm.lower(), name_to_code.get(nm.lower()))
        assert c is not None, nm
        cohort = r["cohort"].split()[0]
        amt = num(r["dfe_total_contribution_gbp_m"])
        members.append({"code": c, "cohort": cohort, "amount": amt * 1e6 if amt is not None else None,
                        "notes": r["notes"], "amount_evidence": r["amount_evidence"]})
    assert unidentified == 3 and len(members) == 35
    # Surrey: £100m total with £40.5m up front (data/README.md instalment example)
    KNOWN_EXTRA = {936: 100e6}
    FIRST_PAYMENT = {886: 56.8e6, 936: 40.5e6}
    INSTALMENT_YEARS = {351: 9, 382: 9, 886: 6, 926: 7, 372: 5, 878: 9}
    for mbr in members:
        if mbr["amount"] is None and mbr["code"] in KNOWN_EXTRA:
            mbr["amount"] = KNOWN_EXTRA[mbr["code"]]
            mbr["extra"] = True
    total_programme = 989e6 + 231.8e6
    early = [m for m in members if m["cohort"] != "2023-24"]
    late = [m for m in members if m["cohort"] == "2023-24"]
    assert len(early) == 31 and len(late) == 4
    assert abs(sum(m["amount"] for m in late) - 231.8e6) < 1
    known_early = sum(m["amount"] for m in early if m["amount"] is not None)
    unknown = [m for m in early if m["amount"] is None]
    remainder = 989e6 - known_early
    n_unknown_all = len(unknown) + unidentified
    pool_identified = remainder * len(unknown) / n_unknown_all

    def weight(c):
        d22 = dval.get((c, "2022-03-31"))
        if d22 is not None and d22 > 0:
            return d22, "2022"
        pos = [dval[(c, d)] for d in ("2020-03-31", "2021-03-31") if (c, d) in dval and dval[(c, d)] > 0]
        return (max(pos), "max 2020/2021") if pos else (0.0, "none")

    wsum = sum(weight(m["code"])[0] for m in unknown)
    for m in unknown:
        w, basis = weight(m["code"])
        m["amount"] = pool_identified * w / wsum
        m["weight_basis"] = basis
        m["estimated"] = True
        use("R21 safety_valve dfe_total")
    sv_rows = []
    inst_rows = []
    for m in sorted(members, key=lambda x: x["code"]):
        c = m["code"]
        total = round_money(m["amount"])
        m["total_int"] = total
        years = INSTALMENT_YEARS.get(c, 5)
        first = m["cohort"]
        final = fy_after(first, years - 1)
        m["final"] = final
        est = m.get("estimated", False)
        sv_rows.append([c, names[c], m["cohort"], total, "estimated" if est else "real", "R21" if est else "",
                        first, final, final])
        fp = FIRST_PAYMENT.get(c)
        first_amt = round_money(fp if fp is not None else 0.4 * total)
        rest = total - first_amt
        n_rest = years - 1
        amts = [first_amt] + [rest // n_rest + (1 if i < rest % n_rest else 0) for i in range(n_rest)]
        assert sum(amts) == total
        first_real = c in FIRST_PAYMENT or c == 801
        for i, a in enumerate(amts):
            fy = fy_after(first, i)
            if i == 0 and first_real and not est:
                inst_rows.append([c, fy, a, "real", ""])
            else:
                inst_rows.append([c, fy, a, "estimated", "R22"])
                use("R22 sv_instalments")

    # ---------------------------------------------------------------- national totals
    ntot_rows = []
    calib = inp.csv("derived/national_calibration_totals.csv")
    status_map = {"real data": "real", "published statement": "real", "official": "real",
                  "derived": "real", "press": "real", "UNVERIFIED": "estimated",
                  "press (verify)": "estimated"}
    skipped_calib = []
    for r in calib:
        v = r["value"].strip().lstrip("~")
        unit = r["unit"]
        try:
            val = float(v)
        except ValueError:
            skipped_calib.append(r["metric"] + " " + r["period"])
            continue
        if unit.startswith("GBP bn"):
            val *= 1e9
            unit = "GBP"
        elif unit.startswith("GBP m"):
            val *= 1e6
            unit = "GBP"
        elif unit.startswith("LAs"):
            unit = "LAs"
        ntot_rows.append([r["metric"], r["period"], fmt_count(val), unit,
                          "derived/national_calibration_totals.csv: " + r["source"] + " [" + r["unit"] + "]",
                          status_map.get(r["status"], "estimated")])
    # the 2025-26 rule and increase as numbers
    ntot_rows.append(["high_needs_nff_floor_per_head", "2025-26", "0.07", "ratio", "Written statement HCWS264 28 Nov 2024", "real"])
    ntot_rows.append(["high_needs_nff_cap_per_head", "2025-26", "0.1", "ratio", "Written statement HCWS264 28 Nov 2024", "real"])
    ntot_rows.append(["high_needs_increase", "2025-26", "1000000000", "GBP", "Written statement 17 Dec 2025 (+£1bn, +11%)", "real"])
    ntot_rows.append(["high_needs_nff_floor_per_head", "2024-25", "0.03", "ratio", "data/README.md (from memory of the DfE statement)", "estimated"])
    ntot_rows.append(["high_needs_nff_cap_per_head", "2024-25", "0.05", "ratio", "data/README.md (from memory of the DfE statement)", "estimated"])

    def anyest(vals):
        return "estimated" if any(v == "estimated" for v in vals) else "real"

    checks = {}
    for j in ALL_JANUARIES:
        s = sum(ehcps[(c, j)][0] for c in codes)
        checks["ehcp_%d" % j] = s
        ntot_rows.append(["seeds_ehcp_total", "Jan %d" % j, fmt_count(s), "count", "sum of seeds/ehcps.csv (153 LAs)",
                          anyest(ehcps[(c, j)][1] for c in codes)])
        src = ("DfE SEN2 2026 release caseload.csv, sum of the 9 region 'All EHC plans' rows in " + JAN2026_FILE
               if j == CENSUS_2026 else "DfE SEN2 2025 release caseload.csv, National 'All EHC plans' row")
        ntot_rows.append(["ehcp_total_published", "Jan %d" % j, fmt_count(nat_ehcp[j]), "count", src, "real"])
    ntot_rows.append(["newham_ehcp_recorded", "Jan 2025", fmt_count(newham_recorded), "count",
                      "DfE SEN2 2025 release caseload.csv (recording break; replaced in seeds by rule R2)", "real"])
    for y in CAL_YEARS:
        for m, lab in (("new", "seeds_new_plans_total"), ("ceased", "seeds_ceased_plans_total")):
            s = sum(flows[(c, y)][m][0] for c in codes)
            ntot_rows.append([lab, "calendar %d" % y, fmt_count(s), "count", "sum of seeds/flows.csv",
                              anyest(flows[(c, y)][m][1] for c in codes)])
    for fy in FYS:
        sb_ = sum(hnb[(c, fy)][0] for c in codes)
        sa_ = sum(hnb[(c, fy)][1] for c in codes)
        checks["hnb_" + fy] = sb_
        checks["hnb_after_" + fy] = sa_
        st = anyest(hnb[(c, fy)][2] for c in codes)
        ntot_rows.append(["seeds_hnb_before_deductions", fy, fmt_money(sb_), "GBP", "sum of seeds/hnb.csv (153 LAs)", st])
        ntot_rows.append(["seeds_hnb_after_deductions", fy, fmt_money(sa_), "GBP", "sum of seeds/hnb.csv (153 LAs)", st])
        if fy in REAL_FYS:
            ntot_rows.append(["hnb_after_deductions", fy, fmt_money(num(alloc[("ENGLAND", fy)]["hnb_after_deductions"])), "GBP",
                              "derived/dsg_allocations_by_la_2019_20_to_2023_24.csv ENGLAND row", "real"])
    for fy in ("2024-25", "2025-26"):
        i = hnb_info[fy]
        ntot_rows.append(["seeds_hnb_growth_required", fy, "%.6f" % i["required_uplift"], "ratio",
                          "national uplift implied by the target total (rules R11/R12)", "estimated"])
    for dt in BALANCE_DATES:
        vals = [deficits[(c, dt)][0] for c in codes]
        pos = [v for v in vals if v > 0]
        st = anyest(deficits[(c, dt)][1] for c in codes)
        checks["def_n_" + dt] = len(pos)
        checks["def_pos_" + dt] = sum(pos)
        checks["def_net_" + dt] = sum(vals)
        ntot_rows.append(["seeds_dsg_deficit_positive_sum", dt, fmt_money(sum(pos)), "GBP", "sum of positive balances in seeds/deficits.csv", st])
        ntot_rows.append(["seeds_dsg_deficit_net_sum", dt, fmt_money(sum(vals)), "GBP", "sum of all balances in seeds/deficits.csv", st])
        ntot_rows.append(["seeds_councils_in_deficit", dt, str(len(pos)), "LAs", "count of positive balances in seeds/deficits.csv", st])
    for dt in ("2018-03-31", "2025-03-31"):
        s = sum(reserves[(c, dt)] for c in codes)
        checks["res_" + dt] = s
        ntot_rows.append(["seeds_usable_reserves", dt, fmt_money(s), "GBP", "sum of seeds/reserves.csv (153 LAs)",
                          "estimated"])
    svt = sum(m["total_int"] for m in members)
    checks["sv_total"] = svt
    ntot_rows.append(["seeds_safety_valve_total_identified", "2020-21..2023-24", str(svt), "GBP",
                      "sum of seeds/safety_valve.csv (35 identified members; 3 unidentified members excluded)", "estimated"])
    checks["hnb_info"] = hnb_info

    # ---------------------------------------------------------------- write
    counts = {}
    counts["councils.csv"] = write_csv("councils.csv", ["la_code", "ons_code", "la_name", "region", "la_type", "pop_2_18",
                                                        "pop_status", "pop_rule"], council_rows)
    counts["ehcps.csv"] = write_csv("ehcps.csv", ["la_code", "january", "ehcps", "status", "rule"],
                                    [[c, j, fmt_count(ehcps[(c, j)][0]), ehcps[(c, j)][1], ehcps[(c, j)][2]]
                                     for c in codes for j in ALL_JANUARIES])
    counts["caseload.csv"] = write_csv("caseload.csv", ["la_code", "january", "age_band", "setting", "plans", "status", "rule"], cas_rows)
    counts["flows.csv"] = write_csv("flows.csv", ["la_code", "calendar_year", "new_plans", "ceased_plans", "ceased_max_age",
                                                  "status", "rule"], flow_rows)
    counts["new_plans_mix.csv"] = write_csv("new_plans_mix.csv", ["la_code", "calendar_year", "age_band", "setting", "new_plans",
                                                                  "status", "rule"], mix_rows)
    counts["national_new_plans_mix.csv"] = write_csv("national_new_plans_mix.csv",
                                                     ["calendar_year", "age_band", "setting", "new_plans"], nat_mix_rows)
    counts["national_ceased_by_age.csv"] = write_csv("national_ceased_by_age.csv",
                                                     ["calendar_year", "age_band", "ceased_total", "ceased_max_age"], nat_ceased_rows)
    counts["national_caseload_by_age.csv"] = write_csv("national_caseload_by_age.csv", ["january", "age", "setting", "plans"],
                                                       nat_age_rows)
    counts["hnb.csv"] = write_csv("hnb.csv", ["la_code", "fy", "hnb_before_deductions", "hnb_after_deductions", "status", "rule"],
                                  hnb_rows)
    counts["deficits.csv"] = write_csv("deficits.csv", ["la_code", "balance_date", "cumulative_deficit", "status", "rule"], def_rows)
    counts["reserves.csv"] = write_csv("reserves.csv", ["la_code", "balance_date", "usable_reserves", "status", "rule", "note"], res_rows)
    counts["safety_valve.csv"] = write_csv("safety_valve.csv", ["la_code", "la_name", "cohort", "dfe_total", "total_status",
                                                                "total_rule", "first_fy", "final_fy", "target_fy"], sv_rows)
    counts["sv_instalments.csv"] = write_csv("sv_instalments.csv", ["la_code", "fy", "amount", "status", "rule"], inst_rows)
    counts["national_totals.csv"] = write_csv("national_totals.csv", ["metric", "period", "value", "unit", "source", "status"],
                                              ntot_rows)
    with open(os.path.join(SEEDS, "INPUTS.sha256"), "w", encoding="utf-8", newline="") as fh:
        for rel in sorted(inp.hashes):
            fh.write("%s  %s\n" % (inp.hashes[rel], rel))

    summary = {"rows": counts, "rules": dict(sorted(rules_used.items())), "checks": checks,
               "mix_missing": mix_missing, "yorkshire_fix": sorted(yorks_fix), "skipped_calibration_rows": skipped_calib,
               "ceased_unknown_age_dropped": ceased_unknown, "newham_recorded_2025": newham_recorded,
               "eng_growth_jan24_jan25": eng_growth_2425, "pop_per_ehcp_2022": ratio_pop_ehcp,
               "sv_remainder": remainder, "sv_pool_identified": pool_identified,
               "sv_weights": {m["code"]: m.get("weight_basis") for m in members if m.get("estimated")}}
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="../shared/data", help="data folder (relative paths are taken from the repo root)")
    ap.add_argument("--summary", action="store_true", help="print a JSON summary of rows, rules and check figures")
    args = ap.parse_args()
    data = args.data if os.path.isabs(args.data) else os.path.normpath(os.path.join(REPO, args.data))
    summary = build(data)
    if args.summary:
        json.dump(summary, sys.stdout, indent=1, sort_keys=True, default=str)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
