#!/usr/bin/env bash
# Test-time crops ablation (issue 9): scores one trained run on its test part with the recipe's test-time crops
# set to each of CROPS (default 1 3 5), everything else unchanged. The run is copied to a temp folder and only
# config.json's recipe.input.crops is edited; the model and split stay those of the run.
#   bash bench/test-time-crops.sh RUN_DIR DATA_DIR [DATASET] [CROPS...]
set -euo pipefail
run=$1; data=$2; dataset=${3:-ravdess}; shift $(( $# < 3 ? $# : 3 )); crops=${*:-1 3 5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for n in $crops; do
  cp -r "$run" "$tmp/run-$n"
  node -e "const f=process.argv[1],fs=require('fs'),c=JSON.parse(fs.readFileSync(f));c.recipe.input.crops=+process.argv[2];fs.writeFileSync(f,JSON.stringify(c,null,2))" "$tmp/run-$n/config.json" "$n"
  node "$here/dist/cli/main.js" eval --model "$tmp/run-$n" --data "$data" --dataset "$dataset" --part test --json --threads 1 \
    | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log(JSON.stringify({crops:+process.argv[1],n:r.n??r.count,accuracy:r.accuracy,uar:r.uar,macro_f1:r.macro_f1}))})" "$n"
done
