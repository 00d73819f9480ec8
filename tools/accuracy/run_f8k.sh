#!/usr/bin/env bash
# The README's accuracy tables: VSE++ on f8k-1k-precomp-global, and SCAN t2i AVG, SCAN i2t LSE, their ensemble and
# VSE++ (regions averaged) and NAAF (basic text encoder, the Flickr30K recipe naaf-f30k: lambda 20, alpha 2, 20 epochs,
# lr 5e-4 decayed at 10, batch 128) on f8k-1k-precomp, 3 seeds each, trained with the defaults of the papers by
# CrossModal and by the PyTorch reference (tools/reference/train_reference.py, same data, same hyper-parameters),
# evaluated on the test split. tools/accuracy/pytorch_eval.py scores any of our checkpoints with the reference's code.
# IMRAM (imram-full = full_IMRAM K 3 with lambda 9 and --no-imram-norm, the Flickr30K recipe on SCAN's defaults;
# imram-text / imram-image = text_IMRAM / image_IMRAM, the same otherwise) and VSRN (vsrn-f30k's recipe, data_name
# f30k_precomp by default: no l2norm across the regions before the GCN, bn after the image GRU; VSRN_DATA_NAME=f8k_precomp
# gives the COCO-like branch, with which neither side leaves chance on these grid features: README) are configs too;
# their cost on two cores makes the schedules and IMRAM's embed size options:
#   [SEEDS="1 2 3"] [CONFIGS="vsepp scan vsepp-regions naaf imram-full imram-text imram-image vsrn"] [THREADS=N] \
#   [NAAF_EPOCHS=E NAAF_LR_UPDATE=U] [IMRAM_EPOCHS=E IMRAM_LR_UPDATE=U IMRAM_EMBED=D] [VSRN_EPOCHS=E VSRN_LR_UPDATE=U VSRN_DATA_NAME=N] \
#     tools/accuracy/run_f8k.sh OUT_DIR [ours|reference|both]
# CONFIGS picks the groups to run (scan = t2i AVG, i2t LSE and their ensemble); THREADS sets both sides' thread count
# (default: ours all cores, PyTorch its default); NAAF_EPOCHS/NAAF_LR_UPDATE shorten NAAF's schedule on both sides
# (default 20/10). Each run's wall and CPU time go to <config>_seed<k>.time (GNU time, when installed).
# Results: OUT_DIR/{ours,reference}/<config>_seed<k>.json (test metrics); summarise with tools/accuracy/summarize.py.
# Rerunning skips finished runs; an interrupted run continues from its last checkpoint: ours from
# <config>_seed<k>/checkpoint.safetensors (saved at every epoch end and every 10 minutes), the reference from its last
# epoch (<config>_seed<k>.json.state.pt).
set -euo pipefail
out=${1:?usage: run_f8k.sh OUT_DIR [ours|reference|both]}
which=${2:-both}
seeds=${SEEDS:-1 2 3}
configs=" ${CONFIGS:-vsepp scan vsepp-regions naaf} "
threads=${THREADS:-}
want() { [[ $configs == *" $1 "* ]]; }
naaf_schedule="--num-epochs ${NAAF_EPOCHS:-20} --lr-update ${NAAF_LR_UPDATE:-10}"
imram_schedule="--num-epochs ${IMRAM_EPOCHS:-30} --lr-update ${IMRAM_LR_UPDATE:-15} --embed-size ${IMRAM_EMBED:-1024}"
vsrn_schedule="--num-epochs ${VSRN_EPOCHS:-30} --lr-update ${VSRN_LR_UPDATE:-15} --embed-size 1024 --data-name ${VSRN_DATA_NAME:-f30k_precomp}"
imram_modes() { case $1 in imram-full) echo full_IMRAM ;; imram-text) echo text_IMRAM ;; imram-image) echo image_IMRAM ;; esac; }
# timed FILE COMMAND...: runs COMMAND, appending its wall and CPU seconds to FILE (resumed runs add a line).
timed() {
  local file=$1; shift
  if [ -x /usr/bin/time ]; then /usr/bin/time -a -o "$file" -f "wall %e s, user %U s, sys %S s" "$@"; else "$@"; fi
}
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${CROSSMODAL_DATA:-$repo/../shared/data}
vocab=$data/vocab/f8k_precomp_vocab.json
mkdir -p "$out/ours" "$out/reference"

if [ "$which" != reference ]; then
  bin="$out/bin"
  dotnet build "$repo/src/CrossModal.Cli" -c Release -o "$bin" > /dev/null
  cm="$bin/crossmodal"
  o="$out/ours"
  t=${threads:+--threads $threads}
  # ours NAME DATA TRAIN_OPTIONS...: train into $o/NAME (or resume its checkpoint) and evaluate its best model on the
  # test split, unless done. $o/NAME/trained marks a finished training.
  ours() {
    local name=$1 d=$2; shift 2
    [ -f "$o/$name.json" ] && return
    if [ ! -f "$o/$name/trained" ]; then
      if [ -f "$o/$name/checkpoint.safetensors" ]; then
        timed "$o/$name.time" "$cm" train --resume "$o/$name/checkpoint.safetensors" $t >> "$o/$name.log"
      else
        timed "$o/$name.time" "$cm" train "$@" $t --data "$d" --vocab "$vocab" --out "$o/$name" > "$o/$name.log"
      fi
      touch "$o/$name/trained"
    fi
    "$cm" eval --checkpoint "$o/$name/model_best.safetensors" --data "$d" --split test --json "$o/$name.json" >> "$o/$name.log"
  }
  for seed in $seeds; do
    if want vsepp; then ours "vsepp_seed$seed" "$data/f8k-1k-precomp-global" --model vsepp --seed "$seed"; fi
    if want scan; then
      for cfg in scan-t2i-avg scan-i2t-lse; do
        ours "${cfg}_seed$seed" "$data/f8k-1k-precomp" --preset "$cfg" --seed "$seed"
      done
      [ -f "$o/scan-ensemble_seed$seed.json" ] || "$cm" eval --checkpoint "$o/scan-t2i-avg_seed$seed/model_best.safetensors" --checkpoint "$o/scan-i2t-lse_seed$seed/model_best.safetensors" \
        --data "$data/f8k-1k-precomp" --split test --json "$o/scan-ensemble_seed$seed.json" > "$o/scan-ensemble_seed$seed.log"
    fi
  done
  for seed in $seeds; do
    if want vsepp-regions; then ours "vsepp-regions_seed$seed" "$data/f8k-1k-precomp" --model vsepp --seed "$seed"; fi
  done
  for seed in $seeds; do
    if want naaf; then ours "naaf_seed$seed" "$data/f8k-1k-precomp" --preset naaf-f30k $naaf_schedule --seed "$seed"; fi
  done
  for seed in $seeds; do
    for cfg in imram-full imram-text imram-image; do
      if want $cfg; then ours "${cfg}_seed$seed" "$data/f8k-1k-precomp" --preset "$cfg" $imram_schedule --seed "$seed"; fi
    done
    if want vsrn; then ours "vsrn_seed$seed" "$data/f8k-1k-precomp" --preset vsrn-f30k $vsrn_schedule --seed "$seed"; fi
  done
  if want vsrn && [ -f "$o/vsrn_seed1.json" ] && [ -f "$o/vsrn_seed2.json" ] && [ ! -f "$o/vsrn-ensemble.json" ]; then
    "$cm" eval --checkpoint "$o/vsrn_seed1/model_best.safetensors" --checkpoint "$o/vsrn_seed2/model_best.safetensors" \
      --data "$data/f8k-1k-precomp" --split test --json "$o/vsrn-ensemble.json" > "$o/vsrn-ensemble.log"
  fi
fi

if [ "$which" != ours ]; then
  ref="/usr/bin/python3 $repo/tools/reference/train_reference.py${threads:+ --threads $threads}"
  if [ -n "$threads" ]; then export OMP_NUM_THREADS=$threads; fi
  export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 OMP_WAIT_POLICY=PASSIVE
  unset OPENBLAS_CORETYPE
  o="$out/reference"
  for seed in $seeds; do
    if want vsepp; then
      [ -f "$o/vsepp_seed$seed.json" ] || $ref --model vsepp --data "$data/f8k-1k-precomp-global" --vocab "$vocab" --seed "$seed" --out "$o/vsepp_seed$seed.json" > "$o/vsepp_seed$seed.log"
    fi
    if want scan; then
      [ -f "$o/scan-t2i-avg_seed$seed.json" ] || $ref --model scan --xattn batched --cross-attn t2i --agg-func Mean --lambda-softmax 9 --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
        --out "$o/scan-t2i-avg_seed$seed.json" --sims-out "$o/scan-t2i-avg_seed$seed.npy" > "$o/scan-t2i-avg_seed$seed.log"
      [ -f "$o/scan-i2t-lse_seed$seed.json" ] || $ref --model scan --xattn batched --cross-attn i2t --agg-func LogSumExp --lambda-softmax 4 --lambda-lse 5 --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
        --out "$o/scan-i2t-lse_seed$seed.json" --sims-out "$o/scan-i2t-lse_seed$seed.npy" > "$o/scan-i2t-lse_seed$seed.log"
    fi
    if want vsepp-regions; then
      [ -f "$o/vsepp-regions_seed$seed.json" ] || $ref --model vsepp --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" --out "$o/vsepp-regions_seed$seed.json" > "$o/vsepp-regions_seed$seed.log"
    fi
    if want naaf; then  # train_reference.py's NAAF defaults are the naaf-f30k recipe (lambda 20, 20 epochs, lr 5e-4 decayed at 10, batch 128)
      [ -f "$o/naaf_seed$seed.json" ] || timed "$o/naaf_seed$seed.time" $ref --model naaf $naaf_schedule --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
        --out "$o/naaf_seed$seed.json" --sims-out "$o/naaf_seed$seed.npy" >> "$o/naaf_seed$seed.log"
    fi
    for cfg in imram-full imram-text imram-image; do
      if want $cfg; then
        [ -f "$o/${cfg}_seed$seed.json" ] || timed "$o/${cfg}_seed$seed.time" $ref --model imram --model-mode "$(imram_modes $cfg)" --iteration-step 3 --lambda-softmax 9 \
          --no-imram-norm $imram_schedule --data "$data/f8k-1k-precomp" --vocab "$vocab" --seed "$seed" \
          --out "$o/${cfg}_seed$seed.json" --sims-out "$o/${cfg}_seed$seed.npy" >> "$o/${cfg}_seed$seed.log"
      fi
    done
    if want vsrn; then
      [ -f "$o/vsrn_seed$seed.json" ] || timed "$o/vsrn_seed$seed.time" $ref --model vsrn $vsrn_schedule --data "$data/f8k-1k-precomp" \
        --vocab "$vocab" --seed "$seed" --out "$o/vsrn_seed$seed.json" --sims-out "$o/vsrn_seed$seed.npy" >> "$o/vsrn_seed$seed.log"
    fi
  done
fi
