#!/usr/bin/env bash
# Cross-check of ART barriers by climbing-image NEB (issue #4 acceptance): picks N verified
# events of a catalog at random (seeded), extracts each event's initial and final minima, runs
# `pelx neb --climb` between them and prints the ART forward barrier next to the NEB one. An
# NEB barrier below the ART one means the band found a lower path (an intermediate minimum or
# another saddle); above it, by more than the NEB tolerance, would be an ART error.
#
# Usage: scripts/neb_check_events.sh CATALOG N [SEED] [IMAGES]
#   scripts/neb_check_events.sh art.jsonl 6 1 9
set -euo pipefail
catalog=${1:?catalog}
n=${2:?number of events}
seed=${3:-1}
images=${4:-9}
source "$(dirname "$0")/catalog_lib.sh"
tasks=$(verified_tasks "$catalog" "$n" "$seed")
printf "%6s %9s %9s %8s %9s %9s %6s %s\n" task "ART E_fw" "NEB E_fw" "NEB-ART" "ART E_rev" "NEB E_rev" "climb" "NEB"
for t in $tasks; do
    "$pelx" catalog extract "$catalog" --event "$t" -o "$out/$t" -q > /dev/null
    "$pelx" neb "$out/$t/initial.extxyz" "$out/$t/final.extxyz" -p "$pot" --climb --images "$images" \
        --fmax 0.01 -q -o "$out/$t/neb.json" 2> /dev/null || true
    python3 - "$catalog" "$t" "$out/$t/neb.json" <<'PY'
import json, sys
ev = next(r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "event" and r["task"] == int(sys.argv[2]))
try:
    neb = json.load(open(sys.argv[3]))
except (OSError, ValueError):
    print(f"{ev['task']:6d} {ev['e_fw']:10.4f} {'failed':>10s}")
    sys.exit(0)
b, br = neb["barrier_forward"], neb["barrier_reverse"]
state = f"converged, {neb['force_calls']['total']} calls" if neb["converged"] else "not converged"
climb = f"{neb['saddle_index']}/{len(neb['images']) - 1}" if isinstance(neb.get("images"), list) else str(neb["saddle_index"])
print(f"{ev['task']:6d} {ev['e_fw']:9.4f} {b:9.4f} {b - ev['e_fw']:8.4f} {ev['e_rev']:9.4f} {br:9.4f} {climb:>6s} {state}")
PY
done
