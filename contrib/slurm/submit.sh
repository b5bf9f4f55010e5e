#!/usr/bin/env bash
# Submits a highneeds sweep as a Slurm job array of N shards (sweep.sbatch) and a merge
# (merge.sbatch) that starts when every shard has succeeded. Run it from the folder the jobs
# should run in (the repository root, for the default scenario and seeds). Variables of
# sweep.sbatch set in the environment (PATHS, SWEEP_SETS, SWEEP_DIR, ...) reach both jobs.
# Usage: contrib/slurm/submit.sh N
set -euo pipefail
N=${1:?usage: contrib/slurm/submit.sh N (the number of shards)}
here=$(dirname "$0")
jid=$(sbatch --parsable --export=ALL --array="0-$((N - 1))" "$here/sweep.sbatch")
jid=${jid%%;*}
sbatch --parsable --export=ALL --dependency="afterok:$jid" "$here/merge.sbatch"
echo "submitted the shards as job $jid and the merge after them"
