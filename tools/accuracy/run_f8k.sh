#!/usr/bin/env bash
# The README's accuracy tables: VSE++ on f8k-1k-precomp-global, and SCAN t2i AVG, SCAN i2t LSE, their ensemble and
# VSE++ (regions averaged) on f8k-1k-precomp, 3 seeds each, trained with the defaults of the papers by CrossModal and
# by the PyTorch reference (tools/reference/train_reference.py, same data, same hyper-parameters), evaluated on the
# test split. tools/accuracy/pytorch_eval.py scores any of our checkpoints with the reference's code.
#   [SEEDS="1 2 3"] tools/accuracy/run_f8k.sh OUT_DIR [ours|reference|both]
# Results: OUT_DIR/{ours,reference}/<config>_seed<k>.json (test metrics); summarise with tools/accuracy/summarize.py.
# Rerunning skips finished runs; an interrupted reference run continues from its last epoch (<config>_seed<k>.json.state.pt).
set -euo pipefail
out=${1:?usage: run_f8k.sh OUT_DIR [ours|reference|both]}
which=${2:-both}
seeds=${SEEDS:-1 2 3}
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${CROSSMODAL_DATA:-$repo/../shared/data}
vocab=$data/vocab/f8k_precomp_vocab.json
mkdir -p "$out/ours" "$out/reference"

if [ "$which" != reference ]; then
  bin="$out/bin"
  dotnet build "$repo/src/CrossModal.Cli" -c Release -o "$bin" > /dev/null
  cm="$bin/crossmodal"
  o="$out/ours"
  # ours NAME DATA TRAIN_OPTIONS...: train into $o/NAME and evaluate its best model on the test split, unless done.
  ours() {
    local name=$1 d=$2; shift 2
    [ -f "$o/$name.json" ] && return
    "$cm" train "$@" --data "$d" --vocab "$vocab" --out "$o/$name" > "$o/$name.log"
    "$cm" eval --checkpoint "$o/$name/model_best.safetensors" --data "$d" --split test --json "$o/$name.json" >> "$o/$name.log"
  }
  for seed in $seeds; do
    ours "vsepp_seed$seed" "$data/f8k-1k-precomp-global" --model vsepp --seed "$seed"
    for cfg in scan-t2i-avg scan-i2t-lse; do
      ours "${cfg}_seed$seed" "$data/f8k-1k-precomp" --preset "$cfg" --seed "$seed"
    done
    [ -f "$o/scan-ensemble_seed$seed.json" ] || "$cm" eval --checkpoint "$o/scan-t2i-avg_seed$seed/model_best.safetensors" --checkpoint "$o/scan-i2t-lse_seed$seed/model_best.safetensors" \
      --data "$data/f8k-1k-precomp" --split test --json "$o/scan-ensemble_seed$seed.json" > "$o/scan-ensemble_seed$seed.log"
  done
  for seed in $seeds; do
    ours "vsepp-regions_seed$seed" "$data/f8k-1k-precomp" --model vsepp --seed "$seed"
  done
fi

if [ "$which" != ours ]; then
  ref="/usr/bin/python3 $repo/tools/reference/train_reference.py"
  export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 OMP_WAIT_POLICY=PASSIVE
  unset OPENBLAS_CORETYPE
  o="$out/reference"
  for seed in $seeds; do
    [ -f "$o/vsepp_seed$seed.json" ] || $ref --model vsepp --data "$data/f8k-1k-precomp-global" --vocab "$vocab" --seed "$seed" --out "$o/vsepp_seed$seed.json" > "$o/vsepp_seed$seed.log"
    [ -f "$o/scan-t2i-avg_seed$seed.json" ] || $ref --model scan --xattn batched --cross-attn t2i --agg-func Mean --lambda-softmax 9 --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
      --out "$o/scan-t2i-avg_seed$seed.json" --sims-out "$o/scan-t2i-avg_seed$seed.npy" > "$o/scan-t2i-avg_seed$seed.log"
    [ -f "$o/scan-i2t-lse_seed$seed.json" ] || $ref --model scan --xattn batched --cross-attn i2t --agg-func LogSumExp --lambda-softmax 4 --lambda-lse 5 --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
      --out "$o/scan-i2t-lse_seed$seed.json" --sims-out "$o/scan-i2t-lse_seed$seed.npy" > "$o/scan-i2t-lse_seed$seed.log"
    [ -f "$o/vsepp-regions_seed$seed.json" ] || $ref --model vsepp --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" --out "$o/vsepp-regions_seed$seed.json" > "$o/vsepp-regions_seed$seed.log"
  done
fi
