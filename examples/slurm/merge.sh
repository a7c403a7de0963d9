#!/bin/bash
# The dependent job of examples/slurm/art-array.sh: merge the shards of the campaign into one
# catalog (sorted by task, checked to be shards of one campaign with no task twice), then the
# statistics and the asymmetry analysis with figures. Submitted by art-array.sh with
# --dependency=afterok:<array job>, so it starts only when every shard has succeeded.
# Can also be run by hand: OUT=results/art-campaign bash examples/slurm/merge.sh

#SBATCH --job-name=pelx-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=logs/merge-%j.out

set -euo pipefail

OUT=${OUT:-results/art-campaign}
PELX=${PELX:-target/release/pelx}
SHARDS=${SHARDS:-$(ls "$OUT"/art.*.jsonl | grep -c '/art\.[0-9]*\.jsonl$')}

shards=()
for ((i = 1; i <= SHARDS; i++)); do
    shards+=("$OUT/art.$i.jsonl")   # every shard must be there: merge refuses gaps it can see
done
"$PELX" catalog merge "${shards[@]}" -o "$OUT/art.jsonl"
"$PELX" catalog stats "$OUT/art.jsonl" -o "$OUT/catalog-stats.json"
"$PELX" asym "$OUT/art.jsonl" --fit fie -o "$OUT/asym.json" --plot "$OUT/figures"
"$PELX" kmc whatif --catalog "$OUT/art.jsonl" --min-displacement 1.0 \
    --temperatures 600,700,800 -o "$OUT/kmc-f.json" --svg "$OUT/figures/kmc"
