#!/usr/bin/env bash
# Every text model on the sentiment and spam sets for several seeds (issue 22: "defaults that hold").
# Usage: bench/text-models.sh [workdir] [models] [sets] [seeds]
#   defaults: .data/text  "nb-tfidf tfidf bow embedding-bag transformer lstm gru"  "sentiment spam"  "0 1 2 3 4"
# Prints one line per run (set, model, seed, held-out accuracy, seconds), then a table of mean and
# spread (min-max, sample standard deviation) per set and model. Runs done before are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
W="${1:-.data/text}"
MODELS="${2:-nb-tfidf tfidf bow embedding-bag transformer lstm gru}"
SETS="${3:-sentiment spam}"
SEEDS="${4:-0 1 2 3 4}"
CLI="node bin/npcforge.js"
mkdir -p "$W/runs"
for set in $SETS; do
  [ -d "$W/$set" ] || $CLI data "$set" --out "$W/$set" >&2
  for model in $MODELS; do
    for seed in $SEEDS; do
      out="$W/runs/$set-$model-s$seed"
      if [ ! -f "$out/evaluation.json" ]; then
        rm -rf "$out"
        t0=$(date +%s)
        $CLI fit text --data "$W/$set" --model "$model" --seed "$seed" --out "$out" --quiet >/dev/null
        $CLI evaluate "$out" --json >/dev/null
        echo $(( $(date +%s) - t0 )) > "$out/seconds.txt"
      fi
      node -e 'const r=require(process.argv[1]);console.log([process.argv[2],process.argv[3],process.argv[4],(r.accuracy*100).toFixed(2)+"%",process.argv[5]+" s"].join("\t"))' "$(realpath "$out/evaluation.json")" "$set" "$model" "$seed" "$(cat "$out/seconds.txt" 2>/dev/null || echo ?)"
    done
  done
done
node scripts/text-models-table.mjs "$W/runs"
