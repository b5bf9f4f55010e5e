#!/usr/bin/env bash
# Byte-identical check: every bundled scenario and the back-test (several origins) give the same CSVs
# and charts from the working tree as from a reference commit.
#
# Usage: scripts/identical.sh [REF] [PATHS]    (REF defaults to HEAD, PATHS to 300)
# It builds REF in a git worktree under target/identical-ref (kept between calls, so re-runs are quick),
# runs both binaries with the same seed and paths, and compares every file except manifest.json
# (which holds timings and the version). Exit 0 when all files match, 1 otherwise.
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
run_both() { # $1 = label, rest = arguments
    local label=$1
    shift
    (cd "$root" && "$ref_bin" "$@" --seeds "$root/seeds" --quiet --out "$work/ref/$label") >/dev/null
    (cd "$root" && "$new_bin" "$@" --seeds "$root/seeds" --quiet --out "$work/new/$label") >/dev/null
}
for s in scenarios/*.toml; do
    name=$(basename "$s" .toml)
    run_both "$name" run "$s" --paths "$paths" --seed "$seed"
done
for origin in 2020-21 2021-22; do
    run_both "backtest-$origin" backtest scenarios/baseline.toml --origin "$origin" --paths "$paths" --seed "$seed"
done

status=0
compared=0
while IFS= read -r f; do
    rel=${f#"$work/ref/"}
    compared=$((compared + 1))
    if [[ ! -f $work/new/$rel ]]; then
        echo "MISSING in new: $rel"
        status=1
    elif ! cmp -s "$f" "$work/new/$rel"; then
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
