"""Hybrid inversion: quality against time, by refinement and pivotal tuning steps.

    python benchmarks/bench_inversion.py [--model BUNDLE] [--faces 20]
                                         [--configs 100,0 0,100 20,85] [--threads 2]
                                         [--device cpu]

Inverts held-out procedural faces (seeds no network trained on) as the quality report does
(training.report.inversion_figures): the bundle's encoder, N refinement steps on the latent
(one w for every row when tuning follows, else W+), then T steps of pivotal tuning on a copy
of the generator. Prints per N,T: PSNR (dB, 8-bit
scale) of the encoder's guess, of the refined latent and of the finished reconstruction, the
judge's attribute agreement with the original, class-edit success on the inverted faces (each
face to a class it does not show, the others kept, drawn by its own generator) and seconds
per inversion. The defaults (nfe_core.defaults.DEFAULT_STEPS / DEFAULT_TUNE_STEPS) are chosen
from this table: the best quality that fits a few seconds on 2 CPU cores without losing
editability. For reference, the NFE bot's inversion: 1,000 Adam steps on a blurred MSE,
about 90 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch

from nfe_core.bundle import default_bundle_path, load_bundle
from nfe_core.defaults import DEFAULT_STEPS, DEFAULT_TUNE_STEPS
from training.report import Renderer, ReportOptions, inversion_figures


def _config(text: str) -> tuple[int, int]:
    steps, _, tune = text.partition(",")
    try:
        return int(steps), int(tune or 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STEPS,TUNE_STEPS, got {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: the default)")
    parser.add_argument("--faces", type=int, default=20)
    parser.add_argument(
        "--configs",
        type=_config,
        nargs="+",
        default=[(0, 0), (100, 0), (0, 100), (DEFAULT_STEPS, DEFAULT_TUNE_STEPS)],
        metavar="STEPS,TUNE_STEPS",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.model or default_bundle_path(), args.device)
    if bundle.encoder is None or bundle.classifier is None:
        raise SystemExit(f"{bundle.root}: the bundle needs an encoder and a classifier")
    judge = bundle.judge or bundle.classifier
    print(
        f"# {bundle.name} ({bundle.resolution} px), {args.faces} held-out faces, "
        f"{args.threads} threads, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}"
    )
    print(
        "| steps | tuning | PSNR encoder / refined / final dB | attribute agreement "
        "| edit success on inverted faces | s per inversion |"
    )
    print("|---|---|---|---|---|---|")
    renderer = Renderer(bundle, 64)
    for steps, tune_steps in args.configs:
        options = ReportOptions(
            inversion_faces=args.faces, inversion_steps=steps, tune_steps=tune_steps
        )
        f = inversion_figures(bundle, judge, renderer, options, {})
        seconds = f.get("seconds_cpu", f.get("seconds_gpu"))
        edits = ", ".join(f"{k} {v:.2f}" for k, v in f["edit_success_inverted"].items())
        print(
            f"| {steps} | {tune_steps} | {f['psnr_db_encoder']:.2f} / {f['psnr_db_refined']:.2f}"
            f" / {f['psnr_db_hybrid']:.2f} | {f['attribute_agreement']:.4f} | {edits} "
            f"| {seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
