#!/bin/bash
# pelx ART campaign as a Slurm job array: one shard of the campaign per array task, then a
# dependent job that merges the shards into one catalog and runs the statistics.
#
# Submit from the repository root (the script submits itself as the array, then the merge job):
#
#   bash examples/slurm/art-array.sh                 # 16 shards, defaults below
#   SHARDS=64 SAMPLE="10 per atom" bash examples/slurm/art-array.sh
#
# Every search derives its seed from (SEED, central atom, attempt) and `--shard I/N` takes the
# tasks with index = I-1 mod N, so the merged catalog holds exactly the records of one
# single-machine run with the same seed and sample (the ART determinism tests check this).
# A shard that was killed can be continued with the same command plus --resume.

#SBATCH --job-name=pelx-art
#SBATCH --cpus-per-task=8          # pelx art uses every core it is given (--threads 0)
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --output=logs/art-%A_%a.out

set -euo pipefail

SHARDS=${SHARDS:-16}                                   # N: number of array tasks
STRUCTURE=${STRUCTURE:-configs/Cu56Zr44_2000.extxyz}   # starting structure (relaxed if needed)
POTENTIAL=${POTENTIAL:-potentials/CuZr_mm.eam.fs}
SAMPLE=${SAMPLE:-"2 per atom"}                         # whole campaign: "N per atom" or "N total"
SEED=${SEED:-1}                                        # master seed, the same for every shard
OUT=${OUT:-results/art-campaign}                       # shards and merged catalog go here
PELX=${PELX:-target/release/pelx}                      # build once: cargo build --release

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
    # Not inside the array: submit the array and the merge job that waits for all of it.
    mkdir -p "$OUT" logs
    export SHARDS STRUCTURE POTENTIAL SAMPLE SEED OUT PELX
    array=$(sbatch --parsable --array=1-"$SHARDS" --export=ALL "$0")
    echo "submitted array job $array ($SHARDS shards)"
    merge=$(sbatch --parsable --dependency=afterok:"$array" --export=ALL examples/slurm/merge.sh)
    echo "submitted merge job $merge (runs when every shard has succeeded)"
    exit 0
fi

# Inside the array: shard I of N (I from 1; Slurm's array indices are 1..N above).
I=$SLURM_ARRAY_TASK_ID
CATALOG="$OUT/art.$I.jsonl"
RESUME=()
[[ -f "$CATALOG" ]] && RESUME=(--resume)   # a requeued task continues its own shard
"$PELX" art "$STRUCTURE" -p "$POTENTIAL" --sample $SAMPLE --seed "$SEED" \
    --shard "$I/$SHARDS" --threads "${SLURM_CPUS_PER_TASK:-0}" --no-progress \
    -o "$CATALOG" --json "$OUT/art.$I.summary.json" "${RESUME[@]}"
