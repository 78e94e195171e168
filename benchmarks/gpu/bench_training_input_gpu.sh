#!/usr/bin/env bash
# The GPU measurement of issue 15 (not run on the 2-core development machine: it has no GPU).
#
# On one CUDA GPU, from the repository root: runs benchmarks/bench_training_input.py with device augmentation
# on the GPU, (a)..(d) side by side, plus a DenseNet121 training step (AMP, 1 x 1024 x 832, batch 8) fed by
# (d) vs fed by one batch already on the GPU (goal: ratio >= 0.9). Results: $OUT/bench_training_input_gpu.json
# (or ./bench_training_input_gpu.json) and the log beside it.
#
# Budget: under 9 minutes on an H100 host with 16 cores -- 8 phantoms are written (~1 min), (a) and (b) run one
# epoch over 12 images (~1 min with 8 workers), the cache build takes ~10 s with 8 processes, (c) and (d) two
# epochs, 40 training steps per feed. Every step has its own timeout; the whole script stops at 520 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-.}"
mkdir -p "$out"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv || true
timeout 520 python benchmarks/bench_training_input.py \
    --phantoms 8 --epochs 2 --batch 8 --build-workers 8 --device cuda --train-step 40 \
    --json "$out/bench_training_input_gpu.json" 2>&1 | tee "$out/bench_training_input_gpu.log"
