#!/usr/bin/env bash
# The GPU checks of issue 14, prepared but NOT run: no GPU was lent to the task that wrote them.
# Run from the repository root on a CUDA machine (../shared/visobert beside it, `pip install -e ".[dev]"`);
# about 10 minutes on an H200. Every command writes JSON (+ summary.md with the targets) under $OUT.
#   1. pipeline vs bare batched loop, bf16, same length-sorted batches: target pipeline >= 85% of the bare loop
#   2. full training step, ours / plain Trainer + linear head, B=32, L=128 and 256, bf16,
#      without and with torch.compile (--compile): target ratio <= 1.03
set -euo pipefail
E=${E:-../shared/visobert/config.json}
OUT=${OUT:-benchmarks/results/gpu_issue14}
PY=${PY:-python}
$PY -m benchmarks.bench --encoder "$E" --device cuda --dtype bf16 --only inference \
    --inference_variants pipeline_sorted_dynamic,pipeline_unsorted_dynamic,raw_sorted_dynamic \
    --inference_sets 1 --inference_batch_size 64 --reps 7 --warmup 3 --out "$OUT/pipeline"
for L in 128 256; do
    $PY -m benchmarks.bench --encoder "$E" --device cuda --dtype bf16 --only step --batch_size 32 --seq_len "$L" \
        --reps 9 --warmup 3 --out "$OUT/step_L$L"
    $PY -m benchmarks.bench --encoder "$E" --device cuda --dtype bf16 --only step --batch_size 32 --seq_len "$L" \
        --reps 9 --warmup 5 --compile --out "$OUT/step_L${L}_compile"
done
grep -h "|" "$OUT"/*/summary.md | grep -E "pipeline overhead|training step" || true
