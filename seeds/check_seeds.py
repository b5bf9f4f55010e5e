#!/usr/bin/env python3
"""Consistency checks for the seed tables (standard library only).

Usage (from the repository root):  python3 seeds/check_seeds.py [--data ../shared/data]
Exits non-zero on the first failed group of checks and prints every failure.
"""
import argparse
import csv
import io
import math
import os
import sys
import zipfile

SEEDS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(SEEDS)
BANDS = ["under_5", "age_5_10", "age_11_15", "age_16_19", "age_20_25"]
SETTINGS = ["mainstream", "special_state", "special_independent", "post16", "ap_other"]
FYS = ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25", "2025-26", "2026-27"]

failures = []


def fail(msg):
    failures.append(msg)


def read(name):
    with open(os.path.join(SEEDS, name), encoding="utf-8", newline="") as fh:
        raw = fh.read()
    if "\r" in raw:
        fail(name + ": CR characters found")
    return list(csv.DictReader(io.StringIO(raw)))


def f(v, name, key):
    try:
        x = float(v)
    except (TypeError, ValueError):
        fail("%s %s: not a number: %r" % (name, key, v))
        return float("nan")
    if math.isnan(x) or math.isinf(x):
        fail("%s %s: NaN/inf" % (name, key))
    return x


def check_status(name, rows, scol="status", rcol="rule"):
    for r in rows:
        if r[scol] not in ("real", "estimated"):
            fail("%s: bad status %r" % (name, r[scol]))
        if r[scol] == "real" and r[rcol]:
            fail("%s: real value with rule %r" % (name, r[rcol]))
        if r[scol] == "estimated" and not r[rcol]:
            fail("%s: estimated value without rule" % name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    args = ap.parse_args()
    data = args.data if os.path.isabs(args.data) else os.path.normpath(os.path.join(REPO, args.data))

    councils = read("councils.csv")
    codes = [int(r["la_code"]) for r in councils]
    if len(codes) != 153 or len(set(codes)) != 153 or codes != sorted(codes):
        fail("councils.csv: expected 153 sorted unique councils")
    codeset = set(codes)
    check_status("councils.csv", councils, "pop_status", "pop_rule")
    for r in councils:
        if f(r["pop_2_18"], "councils", r["la_code"]) <= 0:
            fail("councils: non-positive population " + r["la_code"])

    def grid(name, rows, pcol, periods, per=1):
        seen = {}
        for r in rows:
            k = (int(r["la_code"]), r[pcol])
            seen[k] = seen.get(k, 0) + 1
        if {k[0] for k in seen} != codeset:
            fail("%s: councils differ from councils.csv" % name)
        for c in codes:
            for p in periods:
                if seen.get((c, str(p)), 0) != per:
                    fail("%s: %s %s has %d rows (expected %d)" % (name, c, p, seen.get((c, str(p)), 0), per))
        if len(rows) != 153 * len(periods) * per:
            fail("%s: %d rows" % (name, len(rows)))

    ehcps = read("ehcps.csv")
    grid("ehcps.csv", ehcps, "january", range(2019, 2027))
    check_status("ehcps.csv", ehcps)
    ev = {(int(r["la_code"]), int(r["january"])): f(r["ehcps"], "ehcps", r["la_code"]) for r in ehcps}

    cas = read("caseload.csv")
    grid("caseload.csv", cas, "january", range(2019, 2027), 25)
    check_status("caseload.csv", cas)
    tot = {}
    bys = {}
    for r in cas:
        c, j = int(r["la_code"]), int(r["january"])
        v = f(r["plans"], "caseload", (c, j))
        if v < 0:
            fail("caseload: negative %s" % r)
        if r["age_band"] not in BANDS or r["setting"] not in SETTINGS:
            fail("caseload: bad band/setting %s" % r)
        tot[(c, j)] = tot.get((c, j), 0.0) + v
        bys[(c, j, r["setting"])] = bys.get((c, j, r["setting"]), 0.0) + v
    for k, v in ev.items():
        if abs(tot.get(k, -1) - v) > 1e-6:
            fail("caseload: %s cells sum %.6f != ehcps %.6f" % (k, tot.get(k, -1), v))
    # setting totals vs the All EHC plans rows, for real council-years
    zp = os.path.join(data, "raw/education-health-and-care-plans_2025.zip")
    with zipfile.ZipFile(zp) as zf:
        raw = list(csv.DictReader(io.StringIO(zf.read("data/caseload.csv").decode("utf-8-sig"))))
    status_cy = {(int(r["la_code"]), int(r["january"])): r["status"] for r in ehcps}
    cas_status = {}
    for r in cas:
        cas_status[(int(r["la_code"]), int(r["january"]))] = r["status"]

    def n0(v):
        try:
            return float(v)
        except ValueError:
            return 0.0
    nchecked = 0
    for r in raw:
        if r["breakdown_topic"] != "All EHC plans" or r["geographic_level"] != "Local authority":
            continue
        c, j = int(r["old_la_code"]), int(r["time_period"][:4]) + 1
        if c not in codeset or status_cy.get((c, j)) != "real":
            continue
        if any(r[k] in ("x", "c", "z", "") for k in ("mainstream_total", "special_la_maintained", "fe_total")):
            continue
        want = {"mainstream": n0(r["mainstream_total"]),
                "special_state": n0(r["special_la_maintained"]) + n0(r["special_academy_free"]),
                "special_independent": n0(r["special_independent"]) + n0(r["special_non_maintained"]),
                "post16": n0(r["fe_total"])}
        want["ap_other"] = n0(r["ehcplans"]) - sum(want.values())
        for s, w in want.items():
            if abs(bys[(c, j, s)] - w) > 1e-6:
                fail("caseload: %s %s %s setting sum %.3f != %.3f" % (c, j, s, bys[(c, j, s)], w))
        nchecked += 1
    if nchecked < 1000:
        fail("caseload: only %d council-years checked against setting totals" % nchecked)
    # January 2026 (SOURCES section 6): setting totals of every real council equal the file's row;
    # the Isle of Wight (suppressed) is estimated (R23) and every 2026 age split is R24.
    with open(os.path.join(data, "derived/ehcp_caseload_by_la_jan2026.csv"), encoding="utf-8-sig") as fh:
        raw26 = list(csv.DictReader(fh))
    n26 = 0
    for r in raw26:
        if r["geographic_level"] != "Local authority":
            continue
        c = int(r["old_la_code"])
        if r["ehcplans"] == "x":
            if status_cy.get((c, 2026)) != "estimated" or c != 921:
                fail("ehcps: suppressed council %s in January 2026 is not flagged estimated" % c)
            continue
        want = {"mainstream": n0(r["mainstream_total"]),
                "special_state": n0(r["special_la_maintained"]) + n0(r["special_academy"]) + n0(r["special_free_school"]),
                "special_independent": n0(r["special_independent"]) + n0(r["special_non_maintained"]),
                "post16": n0(r["fe_total"])}
        want["ap_other"] = n0(r["ehcplans"]) - sum(want.values())
        if status_cy.get((c, 2026)) != "real" or abs(ev[(c, 2026)] - n0(r["ehcplans"])) > 1e-9:
            fail("ehcps: %s January 2026 %s != %s or not real" % (c, ev.get((c, 2026)), r["ehcplans"]))
        for s_, w in want.items():
            if abs(bys[(c, 2026, s_)] - w) > 1e-6:
                fail("caseload: %s 2026 %s setting sum %.3f != %.3f" % (c, s_, bys[(c, 2026, s_)], w))
        n26 += 1
    if n26 != 152:
        fail("caseload: %d councils checked for January 2026 (expected 152)" % n26)
    if any(r["rule"].split("+")[-1] != "R24" for r in cas if r["january"] == "2026"):
        fail("caseload: January 2026 cells without rule R24")

    flows = read("flows.csv")
    grid("flows.csv", flows, "calendar_year", range(2019, 2025))
    check_status("flows.csv", flows)
    for r in flows:
        a = f(r["new_plans"], "flows", r["la_code"])
        b = f(r["ceased_plans"], "flows", r["la_code"])
        m = f(r["ceased_max_age"], "flows", r["la_code"])
        if min(a, b, m) < 0 or m > b + 1e-9:
            fail("flows: bad values %s" % r)

    mix = read("new_plans_mix.csv")
    check_status("new_plans_mix.csv", mix)
    per = {}
    for r in mix:
        if f(r["new_plans"], "mix", r["la_code"]) < 0:
            fail("mix negative %s" % r)
        k = (int(r["la_code"]), r["calendar_year"])
        per[k] = per.get(k, 0) + 1
        if int(r["la_code"]) not in codeset:
            fail("mix: unknown council " + r["la_code"])
    if any(v != 25 for v in per.values()):
        fail("new_plans_mix: council-year without 25 rows")
    for name in ("national_new_plans_mix.csv", "national_ceased_by_age.csv", "national_caseload_by_age.csv"):
        for r in read(name):
            for k, v in r.items():
                if k in ("age_band", "setting"):
                    if v not in BANDS + SETTINGS:
                        fail("%s bad label %s" % (name, v))
                    continue
                if f(v, name, k) < 0:
                    fail("%s negative %s" % (name, r))
    nca = read("national_caseload_by_age.csv")
    if len(nca) != 2 * 24 * 5:
        fail("national_caseload_by_age rows")

    hnb = read("hnb.csv")
    grid("hnb.csv", hnb, "fy", FYS)
    check_status("hnb.csv", hnb)
    for r in hnb:
        if f(r["hnb_before_deductions"], "hnb", r["la_code"]) <= 0 or f(r["hnb_after_deductions"], "hnb", r["la_code"]) <= 0:
            fail("hnb: non-positive %s" % r)
        if "." in r["hnb_before_deductions"] or "." in r["hnb_after_deductions"]:
            fail("hnb: not whole pounds %s" % r)

    de = read("deficits.csv")
    grid("deficits.csv", de, "balance_date", ["2020-03-31", "2021-03-31", "2022-03-31", "2024-03-31"])
    check_status("deficits.csv", de)
    for r in de:
        f(r["cumulative_deficit"], "deficits", r["la_code"])

    res = read("reserves.csv")
    grid("reserves.csv", res, "balance_date", ["2018-03-31", "2025-03-31"])
    check_status("reserves.csv", res)
    for r in res:
        if f(r["usable_reserves"], "reserves", r["la_code"]) < 0:
            fail("reserves negative %s" % r)
    if {int(r["la_code"]) for r in res if r["note"] == "s114"} != {330, 892, 306, 871, 883}:
        fail("reserves: s114 notes")

    sv = read("safety_valve.csv")
    check_status("safety_valve.csv", sv, "total_status", "total_rule")
    inst = read("sv_instalments.csv")
    check_status("sv_instalments.csv", inst)
    by = {}
    fys = {}
    for r in inst:
        by[int(r["la_code"])] = by.get(int(r["la_code"]), 0) + int(r["amount"])
        fys.setdefault(int(r["la_code"]), []).append(r["fy"])
        if int(r["amount"]) <= 0:
            fail("sv instalment not positive %s" % r)
    for r in sv:
        c = int(r["la_code"])
        if c not in codeset:
            fail("sv: unknown council %s" % c)
        if by.get(c) != int(r["dfe_total"]):
            fail("sv: instalments of %s sum %s != %s" % (c, by.get(c), r["dfe_total"]))
        if min(fys[c]) != r["first_fy"] or max(fys[c]) != r["final_fy"]:
            fail("sv: instalment years of %s" % c)
    if len(sv) != 35:
        fail("sv: %d members" % len(sv))

    nt = read("national_totals.csv")
    for r in nt:
        f(r["value"], "national_totals", r["metric"])
        if r["status"] not in ("real", "estimated"):
            fail("national_totals status %r" % r["status"])

    # check figures
    e25 = sum(v for (c, j), v in ev.items() if j == 2025)
    if abs(e25 / 638745 - 1) > 0.005:
        fail("England EHCPs Jan 2025 %.0f not within 0.5%% of 638745" % e25)
    e26 = sum(v for (c, j), v in ev.items() if j == 2026)
    if abs(e26 - 718838) > 1e-6:
        fail("England EHCPs Jan 2026 %.3f != 718838 (SOURCES section 6)" % e26)
    h24 = sum(float(r["hnb_before_deductions"]) for r in hnb if r["fy"] == "2023-24")
    if abs(h24 / 9953984391 - 1) > 0.01:
        fail("England HNB 2023-24 %.0f not within 1%%" % h24)

    # every file ends with LF, no blank values in required columns
    for name in sorted(os.listdir(SEEDS)):
        if name.endswith(".csv"):
            rows = read(name)
            for r in rows:
                for k, v in r.items():
                    if v is None:
                        fail("%s: ragged row %s" % (name, r))
                    elif v == "" and k not in ("rule", "pop_rule", "total_rule", "note"):
                        fail("%s: empty %s" % (name, k))

    print("England EHCPs Jan 2025 (seeds): %.3f (published 638745, %+.3f%%)" % (e25, 100 * (e25 / 638745 - 1)))
    print("England EHCPs Jan 2026 (seeds): %.3f (published 718838; Isle of Wight 2000 estimated, R23)" % e26)
    print("England HNB before deductions 2023-24 (seeds): %.0f (England row 9953984391, %+.4f%%)" % (h24, 100 * (h24 / 9953984391 - 1)))
    if failures:
        print("FAILED (%d):" % len(failures))
        for m in failures[:200]:
            print("  " + m)
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
