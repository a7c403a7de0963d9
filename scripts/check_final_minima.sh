#!/usr/bin/env bash
# Accuracy of the final minima of a catalog: relaxes the final structure of every verified event
# (or of the first N) with all atoms free to a tight fmax and prints how far the energy falls.
# A final minimum relaxed to the catalog's own fmax should fall by little; falls of 0.05-2 eV
# mean relaxations that stopped on a shoulder (see RelaxationConfig::fmax in src/saddle/art.rs).
#
# Usage: scripts/check_final_minima.sh CATALOG [N] [FMAX]
#   scripts/check_final_minima.sh art.jsonl 60 0.0001
set -euo pipefail
catalog=${1:?catalog}
n=${2:-1000000}
fmax=${3:-0.0001}
source "$(dirname "$0")/catalog_lib.sh"
for t in $(verified_tasks "$catalog" "$n"); do
    "$pelx" catalog extract "$catalog" --event "$t" -o "$out/$t" -q > /dev/null
    "$pelx" relax "$out/$t/final.extxyz" -p "$pot" --fmax "$fmax" -o "$out/$t/relaxed.extxyz" -q > "$out/$t/relax.json"
done
python3 - "$out" <<'PY'
import json, os, statistics, sys
falls = []
for t in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], t, "relax.json")
    if os.path.exists(p):
        r = json.load(open(p))
        falls.append((r["energy_initial"] - r["energy"], int(t)))
falls.sort(reverse=True)
print(f"events {len(falls)}, median fall {statistics.median(f for f, _ in falls):.2e} eV, "
      f"> 0.01 eV: {sum(f > 0.01 for f, _ in falls)}, > 0.05 eV: {sum(f > 0.05 for f, _ in falls)}")
print("largest falls (eV, task):", ", ".join(f"{f:.4f} ({t})" for f, t in falls[:8]))
PY
