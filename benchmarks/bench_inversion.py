"""Hybrid inversion: quality against time, by number of optimisation steps.

    python benchmarks/bench_inversion.py [--model BUNDLE] [--faces 20] [--steps 0 20 40 60 100]
                                         [--threads 2] [--device cpu]

Inverts held-out procedural faces (seeds no network trained on) with the bundle's encoder and
N refinement steps, and prints per N: PSNR (dB, 8-bit scale) of the reconstruction, the
judge's attribute agreement with the original, and seconds per inversion. The inversion's
default step count (nfe_core.inversion.DEFAULT_STEPS) is chosen from this table: the best
quality that fits a few seconds on 2 CPU cores. For reference, the NFE bot's inversion: 1,000
Adam steps on a blurred MSE, about 90 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
import statistics
from pathlib import Path

import torch

from nfe_core.bundle import default_bundle_path, load_bundle
from nfe_core.inversion import InversionOptions, invert
from training.gan.data import derive_seed
from training.report import (
    Renderer,
    ReportOptions,
    edit_scores,
    procedural_renders,
    psnr_db,
    read_labels,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: the default)")
    parser.add_argument("--faces", type=int, default=20)
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 20, 40, 60, 100, 200])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--encoder-weight",
        type=float,
        default=InversionOptions().encoder_weight,
        help="weight of the in-domain regulariser (0: plain optimisation, as the NFE bot)",
    )
    parser.add_argument(
        "--edit-success",
        action="store_true",
        help="also the mean class-edit success on the inverted faces (what the regulariser "
        "is for: compare runs with --encoder-weight 0)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.model or default_bundle_path(), args.device)
    if bundle.encoder is None or bundle.classifier is None:
        raise SystemExit(f"{bundle.root}: the bundle needs an encoder and a classifier")
    judge = bundle.judge or bundle.classifier
    images, _ = procedural_renders(args.faces, bundle.resolution, derive_seed(0, 7, 6))
    images = images.float() / 127.5 - 1
    truth = read_labels(judge, images, 64)
    print(
        f"# {bundle.name} ({bundle.resolution} px), {args.faces} held-out faces, "
        f"{args.threads} threads, encoder weight {args.encoder_weight:g}, "
        f"{platform.processor() or platform.machine()}, torch "
        f"{torch.__version__}"
    )
    extra = " edit success |" if args.edit_success else ""
    print("| steps | PSNR dB | attribute agreement | s per inversion |" + extra)
    print("|---|---|---|---|" + ("---|" if args.edit_success else ""))
    for steps in args.steps:
        latents, seconds = [], []
        for image in images:
            result = invert(
                image, bundle.generator, bundle.encoder, bundle.classifier,
                InversionOptions(steps=steps, encoder_weight=args.encoder_weight),
            )  # fmt: skip
            latents.append(result.latent)
            seconds.append(result.seconds)
        with torch.inference_mode():
            rec = bundle.generator.synthesis(
                torch.stack(latents).to(bundle.device), noise_mode="const"
            ).cpu()
        seen = read_labels(judge, rec, 64)
        agreement = torch.stack([(truth[k] == seen[k]).float() for k in truth]).mean()
        row = (
            f"| {steps} | {float(psnr_db(rec, images).mean()):.2f} | {float(agreement):.4f} | "
            f"{statistics.median(seconds):.2f} |"
        )
        if args.edit_success:
            success = edit_scores(
                bundle,
                judge,
                Renderer(bundle, 64),
                torch.stack(latents),
                ReportOptions(faces=args.faces),
                unconditional=False,
            )["edit_success"]
            row += f" {statistics.mean(success.values()):.4f} |"
        print(row)


if __name__ == "__main__":
    main()
