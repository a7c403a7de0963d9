#!/usr/bin/env bash
# Post-processing of an ART campaign into a results folder: catalog statistics, asymmetry
# tables and figures (verified events; max-displacement filters 0, 1, 1.5, 2.5 Å) with the FIE
# spectrum fit, the basin network (JSON + GraphML), and KMC what-if f(T) from the catalog's
# barrier pairs. Regenerate results/campaign-cu56zr44 with:
#   pelx art configs/Cu56Zr44_2000.extxyz -p potentials/CuZr_mm.eam.fs --sample 2 per atom \
#       --seed 2026 --shard 1/2 --threads 1 -o art.1.jsonl      # and --shard 2/2 -o art.2.jsonl
#   pelx catalog merge art.1.jsonl art.2.jsonl -o art.jsonl [--force for unfinished shards]
#   scripts/campaign_results.sh art.jsonl results/campaign-cu56zr44
set -euo pipefail
catalog=${1:?catalog}
out=${2:?output folder}
pelx=${PELX:-target/release/pelx}
mkdir -p "$out/figures"
"$pelx" catalog stats "$catalog" > "$out/stats.json"
"$pelx" asym "$catalog" --verified-only --min-disp 0,1,1.5,2.5 --fit fie --fie-out "$out/fie-fit.json" \
    -o "$out/asym.json" --plot "$out/figures" > /dev/null
"$pelx" network "$catalog" -o "$out/network.json" --graphml "$out/network.graphml" > "$out/network-summary.txt"
# FIE model of this sample (the base set's E_IS dependence moved onto the fit at the sample's
# E_IS) and its cooling curves after FIE Fig. 3.
"$pelx" fie anchor --fit "$out/fie-fit.json" --base configs/fie-cu56zr44.toml -o "$out/fie-model.toml"
"$pelx" fie run --config "$out/fie-model.toml" --protocol configs/fie-protocol-fig3-cooling.toml \
    --clip-start -o "$out/fie-cooling.json" --plot "$out/figures" 2> "$out/fie-cooling.log"
"$pelx" kmc whatif --catalog "$catalog" --min-displacement 0 --temperatures 500,550,600,650,700,750,800 \
    --walkers 512 --hops 65536 -o "$out/kmc-whatif.json" --svg "$out/figures/kmc" > /dev/null
echo "wrote $out"
