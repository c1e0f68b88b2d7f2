#!/usr/bin/env bash
# Pack .gpu-bundle/ for the GPU machine of the device tool, small enough to travel with the
# working tree (64 MiB together). ../shared/tools/gpu-bundle.sh packs the whole node_modules
# (~78 MiB for bertune); this runs it on a staged copy that holds only the node_modules files
# Node actually opens during a traced smoke run of the benchmark's code paths (CLI encode on both
# engines, full training on wasm and WebGPU, frozen training, a short bench), with node stripped
# of its debug info. Needs strace (apt-get install strace), a build (npm run build) and, for the
# WebGPU part of the trace, a Vulkan driver (Mesa's lavapipe will do).
# Usage, from the project root:  bash scripts/gpu-bundle.sh     then carry .gpu-bundle
set -euo pipefail
root=$(pwd)
[ -f dist/cli/main.js ] || { echo "run npm run build first" >&2; exit 2; }
command -v strace >/dev/null || { echo "strace is needed: apt-get install strace" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Trace what the product and the bench open under node_modules.
data="$work/sst2"; mkdir -p "$data"
head -97 datasets/sst2/train.tsv >"$data/train.tsv"; head -33 datasets/sst2/dev.tsv >"$data/dev.tsv"
trace() { strace -f -qq -e trace=open,openat,stat,newfstatat,statx,access,readlink -o "$work/trace.$RANDOM" "$@" >/dev/null 2>&1 || true; }
export BERTUNE_CACHE="$work/cache" HF_HOME="$work/hf"
cli="node dist/cli/main.js"
trace $cli encode --model models/bert-random-tiny --engine onnx "a sentence"
trace $cli encode --model models/bert-random-tiny --engine tfjs --device wasm "a sentence"
trace $cli encode --model models/bert-random-tiny --engine tfjs --device webgpu "a sentence"
trace $cli train --model models/bert-random-tiny --dataset "$data" --device webgpu --epochs 1 --max-length 16 --output "$work/run-gpu"
trace $cli train --model models/bert-random-tiny --dataset "$data" --device wasm --epochs 1 --max-length 16 --output "$work/run"
trace $cli train --model models/bert-random-tiny --dataset "$data" --freeze-backbone --device webgpu --epochs 1 --output "$work/run-frozen"
trace $cli evaluate "$work/run" --device webgpu
# The bench imports everything at start-up; a minute of it covers its files.
BERTUNE_PYTHON=/bin/false trace timeout 60 node dist/bench/run.js --backends webgpu,wasm --software-gpu --threads 1
cat "$work"/trace.* | grep -o "\"$root/node_modules/[^\"]*\"" | tr -d '"' | xargs realpath -m --relative-to="$root" | sort -u >"$work/opened"

# 2. Stage: the opened files (those that exist as files), every package.json, dist and package.json.
stage="$work/stage"; mkdir -p "$stage"
{ cat "$work/opened"; find node_modules -name package.json; } | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done >"$work/keep"
tar -cf - -T "$work/keep" | tar -xf - -C "$stage"
cp -r dist package.json "$stage/"
# transformers.js imports sharp (image decoding, 6 MiB of libvips) when it loads; bertune never
# decodes an image, so the bundle carries a stand-in that fails if it is ever called.
rm -rf "$stage/node_modules/@img" "$stage/node_modules/sharp" && mkdir -p "$stage/node_modules/sharp"
echo '{"name": "sharp", "version": "0.0.0-gpu-bundle-stub", "main": "index.js"}' >"$stage/node_modules/sharp/package.json"
echo 'module.exports = () => { throw new Error("sharp is not in the GPU bundle (bertune needs no image decoding)"); };' >"$stage/node_modules/sharp/index.js"
echo "kept $(wc -l <"$work/keep") of $(find node_modules -type f | wc -l) files of node_modules" >&2

# 3. Bundle the stage with the shared tool, node stripped of debug info.
mkdir -p "$work/bin"; strip -o "$work/bin/node" "$(readlink -f "$(command -v node)")"
(cd "$stage" && git init -q . && PATH="$work/bin:$PATH" bash "$root/../shared/tools/gpu-bundle.sh" >&2)
rm -rf .gpu-bundle && mv "$stage/.gpu-bundle" .gpu-bundle
grep -qs '^/.gpu-bundle/' .git/info/exclude || echo '/.gpu-bundle/' >>.git/info/exclude
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
bundle=$(du -cb .gpu-bundle | tail -1 | cut -f1)
echo "bundle $((bundle / 1048576)) MiB + tracked tree $((tracked / 1048576)) MiB = $(((bundle + tracked) / 1048576)) MiB (limit 64)"
