#!/usr/bin/env bash
# Full-size acceptance experiments of the supervised modules (issue 9). Slow on tfjs' cpu backend;
# meant for a machine with the project's fast backend. Usage: bench/supervised-acceptance.sh [workdir]
# Prints one line per experiment: name, held-out accuracy, samples.
set -euo pipefail
cd "$(dirname "$0")/.."
W="${1:-.data/supervised}"
CLI="node bin/npcforge.js"
mkdir -p "$W"
acc() { node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(process.argv[1].padEnd(28),(r.accuracy*100).toFixed(2)+"%",r.samples)' "$1"; }
run() { # name task data model
  local name=$1 task=$2 data=$3 model=$4
  $CLI fit "$task" --data "$data" --model "$model" --out "$W/runs/$name" --force --seed 0 >&2
  $CLI evaluate "$W/runs/$name" --json | acc "$name"
}
[ -d "$W/mnist" ] || $CLI data mnist --out "$W/mnist" >&2
[ -d "$W/fashion" ] || $CLI data fashion-mnist --out "$W/fashion" >&2
[ -d "$W/speech" ] || $CLI data speech --out "$W/speech" >&2
[ -d "$W/sentiment" ] || $CLI data sentiment --out "$W/sentiment" >&2
[ -d "$W/spam" ] || $CLI data spam --out "$W/spam" >&2
run mnist-cnn image "$W/mnist" cnn            # target >= 98%
run sentiment-nb-tfidf text "$W/sentiment" nb-tfidf   # the fit text default: target >= 85% (issue 22; every seed: npm run bench -- text-models)
run spam-nb-tfidf text "$W/spam" nb-tfidf             # target >= 97%
run sentiment-transformer text "$W/sentiment" transformer   # target >= 80%
run sentiment-lstm text "$W/sentiment" lstm   # baseline, reported
run spam-transformer text "$W/spam" transformer             # target >= 97%
run speech-gru speech "$W/speech" gru         # target >= 90% (unseen voices)
run fashion-cnn image "$W/fashion" cnn        # target >= 90% (benchmark)
