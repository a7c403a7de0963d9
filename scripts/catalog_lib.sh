# Shared by the scripts that check a catalog's events (sourced, not run): the pelx binary and the
# potential (environment PELX, POTENTIAL), a scratch folder $out removed on exit, and
# verified_tasks.
pelx=${PELX:-target/release/pelx}
pot=${POTENTIAL:-potentials/CuZr_mm.eam.fs}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# verified_tasks CATALOG N [SEED]: the task numbers of N verified events (`pelx catalog filter
# --verified`), in catalog order or, with SEED, a seeded random choice.
verified_tasks() {
    "$pelx" catalog filter "$1" --verified -o "$out/verified.jsonl" -q > /dev/null
    python3 - "$out/verified.jsonl" "$2" "${3:-}" <<'PY'
import json, random, sys
tasks = [r["task"] for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "event"]
if sys.argv[3]:
    random.Random(int(sys.argv[3])).shuffle(tasks)
print(" ".join(str(t) for t in tasks[: int(sys.argv[2])]))
PY
}
