#!/usr/bin/env bash
# Byte-identical check: every bundled scenario and the back-test (several origins) give the same CSVs
# and charts (and the briefing: summary.md, report.html) from the working tree as from a reference
# commit.
#
# Usage: scripts/identical.sh [REF] [PATHS]    (REF defaults to HEAD, PATHS to 300)
# It builds REF in a git worktree under target/identical-ref (kept between calls, so re-runs are quick),
# runs both binaries with the same seed, paths and command line, and compares every file except
# manifest.json (which holds timings and the version); summary.md and report.html are compared with
# their UTC time stamp masked. Exit 0 when all files match, 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ref=${1:-HEAD}
paths=${2:-300}
seed=11
root=$PWD
work=$root/target/identical
refdir=$root/target/identical-ref
rev=$(git rev-parse --verify "$ref^{commit}")

if [[ ! -d $refdir ]]; then
    git worktree add --detach "$refdir" "$rev" >/dev/null
else
    git -C "$refdir" checkout --quiet --detach "$rev"
fi
echo "reference: $(git -C "$refdir" log --oneline -1)"
(cd "$refdir" && CARGO_TARGET_DIR="$root/target/identical-ref-target" cargo build --release --quiet)
cargo build --release --quiet
new_bin=$root/target/release/highneeds
ref_bin=$root/target/identical-ref-target/release/highneeds

rm -rf "$work"
mkdir -p "$work/ref" "$work/new"
# Both binaries see the same command line (summary.md and report.html quote it): the program name
# `highneeds`, absolute inputs and an output folder relative to ref/ or new/.
run_both() { # $1 = label, rest = arguments
    local label=$1
    shift
    (cd "$work/ref" && exec -a highneeds "$ref_bin" "$@" --seeds "$root/seeds" --quiet --out "$label") >/dev/null
    (cd "$work/new" && exec -a highneeds "$new_bin" "$@" --seeds "$root/seeds" --quiet --out "$label") >/dev/null
}
for s in "$root"/scenarios/*.toml; do
    name=$(basename "$s" .toml)
    run_both "$name" run "$s" --paths "$paths" --seed "$seed"
done
for origin in 2020-21 2021-22; do
    run_both "backtest-$origin" backtest "$root/scenarios/baseline.toml" --origin "$origin" --paths "$paths" --seed "$seed"
done

# Files compared byte for byte, but for the briefing's "run <UTC time>" stamp (summary.md,
# report.html), which differs between the two runs by the clock alone.
stamp='s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g'
same() {
    case $1 in
    *.md | *.html) cmp -s <(sed -E "$stamp" "$1") <(sed -E "$stamp" "$2") ;;
    *) cmp -s "$1" "$2" ;;
    esac
}
status=0
compared=0
while IFS= read -r f; do
    rel=${f#"$work/ref/"}
    compared=$((compared + 1))
    if [[ ! -f $work/new/$rel ]]; then
        echo "MISSING in new: $rel"
        status=1
    elif ! same "$f" "$work/new/$rel"; then
        echo "DIFFERS: $rel"
        status=1
    fi
done < <(find "$work/ref" -type f ! -name manifest.json | sort)
while IFS= read -r f; do
    rel=${f#"$work/new/"}
    [[ -f $work/ref/$rel ]] || { echo "EXTRA in new: $rel"; status=1; }
done < <(find "$work/new" -type f ! -name manifest.json | sort)
if [[ $status -eq 0 ]]; then
    echo "identical: $compared files ($paths paths, seed $seed) match $rev"
fi
exit $status
