#!/usr/bin/env bash
# The benchmark on the GPU machine lent by the device tool (no Node, no network there).
# Here first:   npm run build && bash scripts/gpu-bundle.sh     (then carry .gpu-bundle: ~39 MiB,
#               58 MiB with the working tree, under the tool's 64 MiB)
# There:        bash scripts/gpu-bench.sh     (writes bench-gpu.{md,json} under $OUT)
# The bench needs nothing from ../shared: the tiny model and SST-2 ship in models/ and datasets/.
set -euo pipefail
cd "$(dirname "$0")/.."
source .gpu-bundle/activate.sh
# activate.sh links dist/ into the unpacked bundle; the CLI and the bench find package.json,
# models/ and datasets/ beside their real path, so they must run from a copy here.
if [ -L dist ]; then rm dist && cp -r /tmp/gpu-bundle/dist dist; fi
out="${OUT:-.}"
nvidia-smi -L || true
# The device's Python has PyTorch + transformers: the same-run baseline on the same GPU.
export BERTUNE_PYTHON="${BERTUNE_PYTHON:-python3}"
node dist/bench/run.js --backends webgpu,wasm --threads "$(nproc)" --json "$out/bench-gpu.json" | tee "$out/bench-gpu.md"
