#!/usr/bin/env bash
# Rebuild the interim default model (resources/models/default) from nothing but this repo:
# a 32 px StyleGAN2 trained on procedural faces, the annotator and judge classifiers, the
# attribute boundaries, the encoder and the quality report (docs/interim_report/). CPU only;
# each stage resumes or is skipped when its output exists. Usage: bash scripts/build_interim_model.sh [RUNS_DIR] [GAN_STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-runs}"
steps="${2:-6000}"
bin=.venv/bin
mkdir -p "$runs"

if [ ! -d "$runs/gan32/bundle" ]; then
    resume=()
    [ -f "$runs/gan32/checkpoints/latest.pt" ] && resume=(--resume)
    "$bin/nfe-train" gan --data synthetic --size 32 --steps "$steps" --out "$runs/gan32" \
        --config training/configs/interim32.json --seed 0 "${resume[@]}"
fi
[ -d "$runs/annot32" ] || "$bin/nfe-train" classifier --size 32 --epochs 30 --out "$runs/annot32"
[ -d "$runs/judge32" ] ||
    "$bin/nfe-train" classifier --size 32 --epochs 20 --out "$runs/judge32" --role judge --seed 1

model=resources/models/default
rm -rf "$model.new"
cp -r "$runs/gan32/bundle" "$model.new"
"$bin/nfe-train" attributes --model "$model.new" --classifier "$runs/annot32" \
    --judge "$runs/judge32" --work "$runs/attributes32"
"$bin/nfe-train" encoder --model "$model.new" --steps 2000 --work "$runs/encoder32"
# the discriminator served the encoder's adversarial loss; the app does not need it
"$bin/python" - "$model.new" <<'PY'
import sys
from nfe_core.bundle import load_bundle, resave_bundle
resave_bundle(
    load_bundle(sys.argv[1]),
    discriminator=None,
    name="NFE interim 32 px",
    description="Interim default model: a 32 px StyleGAN2 trained on the CPU on procedural "
    "anime faces, with its classifiers, attribute boundaries and encoder "
    "(scripts/build_interim_model.sh). Replaced by the real default model later.",
)
PY
"$bin/nfe-train" report --model "$model.new" --out docs/interim_report
rm -rf "$model" && mv "$model.new" "$model"
"$bin/nfe" info "$model"
