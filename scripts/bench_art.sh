#!/usr/bin/env bash
# ART efficiency benchmark (issue #4): runs `pelx art` with the default thresholds on a
# structure and prints the figures of merit from the run summary and `pelx catalog stats`:
# verified fraction, force calls to the saddle (median, p90), force calls per verified event,
# distinct events per search, time per search and per force call, events per second.
#
# Usage: scripts/bench_art.sh STRUCTURE N_SEARCHES [THREADS] [SEED]
#   scripts/bench_art.sh configs/CuZr50_500.extxyz 100
#   scripts/bench_art.sh configs/Cu56Zr44_2000.extxyz 40 2
# Force-call counts are deterministic (same seed, same counts on any machine); times are not.
set -euo pipefail
structure=${1:?structure}
n=${2:?number of searches}
threads=${3:-0}
seed=${4:-1}
pelx=${PELX:-target/release/pelx}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$pelx" art "$structure" -p potentials/CuZr_mm.eam.fs --sample "$n" total --seed "$seed" \
    --threads "$threads" --no-progress -o "$out/art.jsonl" --json "$out/summary.json" 2>/dev/null
"$pelx" catalog stats "$out/art.jsonl" > "$out/stats.json"
python3 - "$out/summary.json" "$out/stats.json" "$structure" <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))
stats = json.load(open(sys.argv[2]))
fc = stats["force_calls"]
to_saddle = fc["to_saddle"]
searches = stats["searches"]
wall = summary["wall_seconds"]
threads = summary["threads"]
print(f"structure                 {sys.argv[3]} ({stats['natoms']} atoms), seed {stats['seed']}")
print(f"searches                  {searches}")
print(f"converged saddles         {stats['converged_saddles']} ({stats['success_rate']:.0%})")
print(f"verified events           {stats['verified']} ({stats['verified_fraction']:.0%})")
print(f"distinct verified events  {stats['distinct_verified']} ({stats['distinct_verified'] / searches:.2f} per search)")
print(f"failures                  {stats['failures']}")
print(f"force calls to saddle     median {to_saddle.get('median', float('nan')):.0f}, p90 {to_saddle.get('p90', float('nan')):.0f}")
print(f"force calls per verified  {fc['per_verified_event']:.0f}")
print(f"force calls by phase      {fc['by_phase']}")
print(f"wall time                 {wall:.1f} s on {threads} thread(s)")
print(f"time per search           {wall * threads / searches:.3f} s (thread-seconds)")
print(f"time per force call       {wall * threads / fc['total'] * 1e3:.3f} ms (thread-milliseconds, all phases)")
print(f"events per second         {summary['events_per_second']:.2f}")
EOF
