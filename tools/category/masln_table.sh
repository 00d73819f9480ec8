#!/usr/bin/env bash
# MASLN and the ACMR-style ablation on ../shared/data/wikipedia with `crossmodal train` / `crossmodal eval`: standard
# protocol (3 training seeds) and extendable protocol (5 random 5/5 seen/unseen splits, split seed 0: the same splits
# as tools/category/baselines.sh), on the shipped LDA-10 text features and on TF-IDF (5,000 terms) of the raw texts,
# plus MASLN's ablation (without reconstruction, without class embeddings, without the discriminator) on LDA-10.
# Every model uses the families' defaults (crossmodal models); class embeddings are classvec (PPMI + SVD word vectors
# of the class names trained on the run's training texts: the seen classes' only under the extendable protocol).
# Writes OUT/<row>/eval.json per row and prints the markdown table (mean ± sample std over seeds or splits).
#   tools/category/masln_table.sh [OUT] [DATA]        (default: runs/category, ../shared/data/wikipedia)
# Set JOBS=2 to train two rows at once, CROSSMODAL_BIN to use a built executable. Runs `nice -n 10`, one thread per process.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/category}
DATA=${2:-../shared/data/wikipedia}
JOBS=${JOBS:-1}
# CROSSMODAL_BIN: a built crossmodal executable to use instead of building src/CrossModal.Cli here
if [ -z "${CROSSMODAL_BIN:-}" ]; then
  dotnet build src/CrossModal.Cli -c Release -v q -nologo >/dev/null
  CROSSMODAL_BIN=src/CrossModal.Cli/bin/Release/net10.0/crossmodal
fi
CM="nice -n 10 $CROSSMODAL_BIN"
mkdir -p "$OUT"

row() { # name, then train options
  local name=$1; shift
  local dir="$OUT/$name"
  [ -f "$dir/eval.json" ] && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  local TIMEFORMAT="%R s wall, %U s user, %S s system"
  { time {
    if [[ $name == *-standard ]]; then
      for seed in 1 2 3; do $CM train --data "$DATA" --out "$dir/seed-$seed" --seed $seed --threads 1 "$@" > "$dir/seed-$seed.log" 2>&1; done
    else
      $CM train --data "$DATA" --out "$dir" --splits 5 --split-seed 0 --threads 1 "$@" > "$dir/train.log" 2>&1
    fi
  } ; } 2> "$dir/time.txt"
  echo "$name: trained in $(cat "$dir/time.txt")" >&2
  $CM eval --checkpoint "$dir" --json "$dir/eval.json.tmp" --threads 1 > "$dir/eval.log" 2>&1 && mv "$dir/eval.json.tmp" "$dir/eval.json"
}

run_all() {
  for text in lda10 tfidf; do
    tf=""; [ $text = tfidf ] && tf=" --text-features tfidf"
    for model in masln acmr; do
      for protocol in standard extendable; do echo "$model-$text-$protocol --model $model$tf"; done
    done
  done
  for ablation in no-reconstruction no-class-embeddings no-discriminator; do
    for protocol in standard extendable; do echo "masln_$ablation-lda10-$protocol --model masln --$ablation"; done
  done
}

export -f row; export CM DATA OUT
# one row per line (-L 1 would join a line ending in a blank with the next one, hence no trailing blanks above)
run_all | xargs -P "$JOBS" -L 1 bash -c 'row "$@"' _

# the table
python3 - "$OUT" <<'PY'
import json, os, sys, glob
out = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(out, "*", "eval.json"))):
    name = os.path.basename(os.path.dirname(path))
    method, text, protocol = name.rsplit("-", 2)
    s = json.load(open(path))["summary"]
    parts = ["standard"] if protocol == "standard" else ["unseen", "generalised"]
    for part in parts:
        r = s[part]
        label = {"standard": "standard (3 seeds)", "unseen": "extendable unseen (5 splits)", "generalised": "generalised (5 splits)"}[part]
        rows.append((part, text, method, label, r))
order = {"standard": 0, "unseen": 1, "generalised": 2}
print("| protocol | method | text features | mAP I->T | mAP T->I | mean |")
print("|---|---|---|---|---|---|")
for part, text, method, label, r in sorted(rows, key=lambda x: (order[x[0]], x[1], x[2])):
    f = lambda m, s: f"{m:.3f} ± {s:.3f}"
    print(f"| {label} | {method.replace('_', ' ')} | {text if text == 'lda10' else 'tfidf5000'} | {f(r['map_i2t'], r['std_i2t'])} | {f(r['map_t2i'], r['std_t2i'])} | {f(r['map_mean'], r['std_mean'])} |")
PY
