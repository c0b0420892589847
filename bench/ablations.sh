#!/usr/bin/env bash
# Recipe ablations under protocol P1 (issue 9): train on every shared corpus, RAVDESS actors 13-18 held out as the
# test part (never in training or model selection), the `generalize` recipe with one part left out per run
# (bench/recipes/ablate-*.json), the same flags as `p1-E1-generalize` in RESULTS.md. Runs that finished are skipped,
# interrupted ones resumed (`ser train --resume` is exact), so the script can be run again after a stop.
#   bash bench/ablations.sh OUT_DIR EPOCHS "SEEDS" [RECIPE...]      e.g. bash bench/ablations.sh runs 40 "0 1" full no-augment
# RECIPE: `full` (the recipe itself) or the part after `ablate-` of a file in bench/recipes (default: full and all).
# Each run is OUT_DIR/abl<EPOCHS>-<RECIPE>-seed<SEED>; `npx tsx bench/ablation-table.ts OUT_DIR/abl<EPOCHS>-*` tabulates.
# SER_EMA_DECAY=0.998 adds the weight average (`--ema-decay`, part of the full recipe's flags since 2026-12-05) and
# names the runs ...-seed<SEED>-ema.
set -euo pipefail
out=$1; epochs=$2; seeds=$3; shift 3
here=$(cd "$(dirname "$0")/.." && pwd)
data=${SER_SHARED_DATA:-$here/../shared/data}
ema=${SER_EMA_DECAY:-}
average=(); suffix=''
if [ -n "$ema" ]; then average=(--ema-decay "$ema"); suffix=-ema; fi
if [ $# -gt 0 ]; then recipes=("$@"); else
  recipes=(full); for f in "$here"/bench/recipes/ablate-*.json; do n=$(basename "$f" .json); recipes+=("${n#ablate-}"); done
fi
corpora=()
for c in ravdess nemo emovo urdu korean-emotiontts; do corpora+=(--data "$c=$data/$c"); done
p1=(--split speaker --test-speakers ravdess/13,ravdess/14,ravdess/15,ravdess/16,ravdess/17,ravdess/18)
for seed in $seeds; do
  for recipe in "${recipes[@]}"; do
    run="$out/abl$epochs-$recipe-seed$seed$suffix"
    if [ -f "$run/metrics.json" ]; then echo "$run: finished, skipped"; continue; fi
    if [ -f "$run/config.json" ]; then
      node "$here/dist/cli/main.js" train --resume --out "$run" --progress lines
      continue
    fi
    if [ "$recipe" = full ]; then file=generalize; else file="$here/bench/recipes/ablate-$recipe.json"; fi
    [ "$file" = generalize ] || [ -f "$file" ] || { echo "no recipe file $file" >&2; exit 2; }
    node "$here/dist/cli/main.js" train "${corpora[@]}" "${p1[@]}" --recipe "$file" --lr 3e-4 --warmup 2 --lr-decay cosine \
      --patience 15 --dropout 0.1 --epochs "$epochs" --seed "$seed" "${average[@]}" --threads 1 --progress lines --out "$run"
  done
done
