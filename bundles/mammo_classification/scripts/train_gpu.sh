#!/usr/bin/env bash
# Train mammo_classification at full resolution on one GPU within the device tool's 9 minutes, then evaluate
# the best model on the validation fold. Writes OUT/model.pt, OUT/checkpoint.pt, OUT/train.log, OUT/gpu.txt
# and OUT/validation/metrics.json.
#
# Usage, from the repository root of the GPU machine:
#   bash bundles/mammo_classification/scripts/train_gpu.sh gpu_payload/datalist.json runs/gpu_classification
# The payload (a datalist with its images, small enough to travel) is made beforehand on the CPU machine:
#   python -c "from pathlib import Path; from monai_mammo.data.datasets.training_sources import compact_copy; \
#     compact_copy(Path('runs/train_data/datalist.json'), Path('gpu_payload'), max_side=640)"
# BUDGET_S (default 420 s) bounds the training; the epoch running then is lost, every finished one is kept.
set -euo pipefail
DATALIST=${1:?usage: train_gpu.sh DATALIST [OUT]}
OUT=${2:-runs/gpu_classification}
BUDGET_S=${BUDGET_S:-420}
B=bundles/mammo_classification
DATA_DIR=$(dirname "$DATALIST")
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || echo "no nvidia-smi" > "$OUT/gpu.txt"
timeout "$BUDGET_S" python -W "ignore:parsing config_file" -m monai.bundle run \
    --config_file $B/configs/train.json --datalist "$DATALIST" --dataset_dir "$DATA_DIR" --output_dir "$OUT" \
    --image_size "[1024, 832]" --patch_size "[256, 256]" --num_samples 8 \
    --init_features 64 --growth_rate 32 --batch_size 16 --num_workers 12 --epochs 60 \
    > "$OUT/train.log" 2>&1 || echo "training stopped (exit $?) at the ${BUDGET_S} s budget or on an error: see $OUT/train.log"
python -W "ignore:parsing config_file" -m monai.bundle run --config_file "[\"$B/configs/train.json\", \"$B/configs/evaluate.json\"]" --datalist "$DATALIST" \
    --dataset_dir "$DATA_DIR" --eval_fold validation --checkpoint "$OUT/model.pt" --output_dir "$OUT/validation" \
    --image_size "[1024, 832]" --init_features 64 --growth_rate 32 > "$OUT/evaluate.log" 2>&1
tail -n 3 "$OUT/evaluate.log"
