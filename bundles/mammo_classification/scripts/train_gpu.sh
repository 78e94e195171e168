#!/usr/bin/env bash
# Train mammo_classification at full resolution on one GPU within the device tool's 9 minutes, in the two stages
# of the model card (patches, then whole images with place labels from the patch model), then evaluate the
# final model on the validation fold. Writes OUT/patches/ (stage 1), OUT/model.pt and OUT/checkpoint.pt
# (stage 2), OUT/train.log, OUT/train_whole_image.log, OUT/gpu.txt and OUT/validation/metrics.json.
#
# Usage, from the repository root of the GPU machine:
#   bash bundles/mammo_classification/scripts/train_gpu.sh gpu_payload/datalist.json runs/gpu_classification
# The payload (a datalist with its images, small enough to travel) is made beforehand on the CPU machine:
#   python -c "from pathlib import Path; from monai_mammo.data.datasets.training_sources import compact_copy; \
#     compact_copy(Path('runs/train_data/datalist.json'), Path('gpu_payload'), max_side=640)"
# PATCH_S (default 270 s) and WHOLE_S (default 150 s) bound the two stages; the epoch running then is lost,
# every finished one is kept. Without a stage 1 model (no epoch finished) the script stops with an error.
set -euo pipefail
DATALIST=${1:?usage: train_gpu.sh DATALIST [OUT]}
OUT=${2:-runs/gpu_classification}
PATCH_S=${PATCH_S:-270}
WHOLE_S=${WHOLE_S:-150}
B=bundles/mammo_classification
DATA_DIR=$(dirname "$DATALIST")
SIZE=(--image_size "[1024, 832]" --init_features 64 --growth_rate 32)
mkdir -p "$OUT/patches"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || echo "no nvidia-smi" > "$OUT/gpu.txt"
timeout "$PATCH_S" python -W "ignore:parsing config_file" -m monai.bundle run \
    --config_file $B/configs/train.json --datalist "$DATALIST" --dataset_dir "$DATA_DIR" --output_dir "$OUT/patches" \
    "${SIZE[@]}" --patch_size "[256, 256]" --num_samples 8 --batch_size 16 --num_workers 12 --epochs 60 \
    > "$OUT/train.log" 2>&1 || echo "stage 1 stopped (exit $?) at the ${PATCH_S} s budget or on an error: see $OUT/train.log"
MODEL="$OUT/patches/model.pt"
[ -f "$MODEL" ] || { echo "no stage 1 model ($MODEL): see $OUT/train.log" >&2; exit 1; }
timeout "$WHOLE_S" python -W "ignore:parsing config_file" -m monai.bundle run \
    --config_file "[\"$B/configs/train.json\", \"$B/configs/train_whole_image.json\"]" --datalist "$DATALIST" \
    --dataset_dir "$DATA_DIR" --output_dir "$OUT" --pretrained "$MODEL" "${SIZE[@]}" --batch_size 8 \
    --num_workers 12 --epochs 20 > "$OUT/train_whole_image.log" 2>&1 \
    || echo "stage 2 stopped (exit $?) at the ${WHOLE_S} s budget or on an error: see $OUT/train_whole_image.log"
if [ -f "$OUT/model.pt" ]; then MODEL="$OUT/model.pt"; else echo "no stage 2 model: evaluating stage 1's"; fi
python -W "ignore:parsing config_file" -m monai.bundle run --config_file "[\"$B/configs/train.json\", \"$B/configs/evaluate.json\"]" --datalist "$DATALIST" \
    --dataset_dir "$DATA_DIR" --eval_fold validation --checkpoint "$MODEL" --output_dir "$OUT/validation" \
    "${SIZE[@]}" > "$OUT/evaluate.log" 2>&1
echo "evaluated $MODEL"
tail -n 3 "$OUT/evaluate.log"
