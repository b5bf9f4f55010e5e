#!/usr/bin/env bash
# Neutral check for `safety_valve.caseload_share` (a key the reference binary does not know, so
# scripts/identical.sh cannot pass it): runs REF_BIN on REF_SCENARIOS and NEW_BIN on this tree's
# scenarios with the key set to SHARE (default 0), every bundled scenario (`run`) and the
# back-test from every origin with both policies, and compares every output file byte for byte
# (manifest.json aside; summary.md and report.html with their UTC stamp masked). Both runs see the
# same relative command line. Exit 0 when all match.
# Usage: scripts/sv_caseload/neutral.sh REF_BIN REF_SCENARIOS NEW_BIN [SHARE] [PATHS]
set -euo pipefail
ref_bin=$(realpath "$1"); ref_sc=$(realpath "$2"); new_bin=$(realpath "$3")
share=${4:-0}; paths=${5:-300}; seed=11
root=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
work=$root/target/sv-neutral
rm -rf "$work"; mkdir -p "$work/ref" "$work/new"
cp -r "$ref_sc" "$work/ref/scenarios"
cp -r "$root/scenarios" "$work/new/scenarios"
sed -i -E "s/^caseload_share = .*/caseload_share = $share/" "$work/new/scenarios/baseline.toml"
run_both() {
    local label=$1; shift
    (cd "$work/ref" && exec -a highneeds "$ref_bin" "$@" --seeds "$root/seeds" --quiet --out "out/$label") >/dev/null
    (cd "$work/new" && exec -a highneeds "$new_bin" "$@" --seeds "$root/seeds" --quiet --out "out/$label") >/dev/null
}
for s in "$work"/new/scenarios/*.toml; do
    name=$(basename "$s" .toml)
    run_both "$name" run "scenarios/$name.toml" --paths "$paths" --seed "$seed"
done
for origin in 2020-21 2021-22 2022-23 2023-24 2024-25; do
    for policy in as-of as-happened; do
        run_both "bt-$origin-$policy" backtest scenarios/baseline.toml --origin "$origin" --policy "$policy" --paths "$paths" --seed "$seed"
    done
done
stamp='s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g'
status=0; compared=0
while IFS= read -r f; do
    rel=${f#"$work/ref/out/"}
    [[ $(basename "$rel") == manifest.json ]] && continue
    g=$work/new/out/$rel
    compared=$((compared + 1))
    case $rel in
    *.md | *.html) cmp -s <(sed -E "$stamp" "$f") <(sed -E "$stamp" "$g") || { echo "differs: $rel"; status=1; } ;;
    *) cmp -s "$f" "$g" || { echo "differs: $rel"; status=1; } ;;
    esac
done < <(find "$work/ref/out" -type f | sort)
n_new=$(find "$work/new/out" -type f ! -name manifest.json | wc -l)
[[ $n_new == "$compared" ]] || { echo "file counts differ: ref $compared, new $n_new"; status=1; }
echo "compared $compared files (caseload_share = $share): $([[ $status == 0 ]] && echo all identical || echo DIFFERENCES)"
exit $status
