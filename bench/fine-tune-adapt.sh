#!/usr/bin/env bash
# Fine-tuning the shipped model on a few new speakers (issue 9, `ser train --init`): RAVDESS actors 13-18, whom the
# shipped model never heard (its test speakers), in two folds. Fold A fine-tunes on actors 13-15 (two train, one
# validation, chosen by the seed) and is tested on 16-18; fold B the reverse. Each fold's test speakers are also
# scored by the shipped model as it is, so the two numbers are on the same recordings.
#   bash bench/fine-tune-adapt.sh OUT_DIR [extra ser train flags...]      (needs ../shared beside the clone)
set -euo pipefail
out=$1; shift; extra=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
manifest="$here/bench/manifests/ravdess-actors-13-18-six.csv"
ser() { node "$here/dist/cli/main.js" "$@"; }
summary() { node -e "const m=JSON.parse(require('fs').readFileSync(process.argv[1]));console.log(process.argv[2].padEnd(34), 'n', m.samples ?? m.support_total ?? '', 'accuracy', (100*m.accuracy).toFixed(2), 'UAR', (100*m.uar).toFixed(2))" "$1" "$2"; }
mkdir -p "$out"
for fold in "A 13,14,15 16,17,18" "B 16,17,18 13,14,15"; do
  set -- $fold; name=$1; adapt=$2; test=$3
  grep -E "^path|,(${test//,/|})\$" "$manifest" > "$out/test-$name.csv"
  sed -i "s#^\.\./\.\./\.\./#$(cd "$here/../" && pwd)/#" "$out/test-$name.csv"
  ser eval --data "$out/test-$name.csv" --dataset csv --json --threads 1 > "$out/shipped-$name.json"
  ser train --data "$manifest" --dataset csv --split speaker --test-speakers "$test" --init default \
    --epochs 30 --patience 10 --lr 1e-4 --threads 1 --progress none --out "$out/fine-tuned-$name" ${extra[@]+"${extra[@]}"} > /dev/null
  summary "$out/shipped-$name.json" "fold $name: shipped model on $test"
  summary "$out/fine-tuned-$name/metrics.json" "fold $name: fine-tuned on $adapt"
done
