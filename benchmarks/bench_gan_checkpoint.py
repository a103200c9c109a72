"""How good a GAN checkpoint is before every later stage runs on it: faces and latent space.

    python benchmarks/bench_gan_checkpoint.py CHECKPOINT... [--model resources/models/default]
        [--faces 2000] [--labelled 8000] [--threads 2]

For each checkpoint (an ``nfe-train gan`` run's ``checkpoints/*.pt`` or a compact resume
state), its EMA generator (no truncation) is put into the model bundle ``--model`` (same
generator config), whose classifiers read the faces:

- faces: the Fréchet distance in the judge's feature space between ``--faces`` generated faces
  and as many procedural renders, precision and recall (k = 3), how often annotator and judge
  agree on eye colour, blush and accessory, and how often the judge reads a face's two mirror
  composites alike (``mirror_agreement``, as in the quality report);
- latent space: the attributes stage itself (the annotator's labels at confidence 0.8, one
  multinomial model per categorical attribute and a LinearSVC per binary one, in W) on
  ``--labelled`` sampled faces: the mean balanced test accuracy over the boundaries, how many
  are under the quality bar's 0.95, and the worst six. The report fits them on 20,000 faces:
  on the shipped GAN (step 90,051) this gives a mean of 0.879 and 23 under 0.95 where the
  report has 0.885 and 19 (single boundaries up to 0.03 lower).

Fewer faces than the report's, so a few minutes per checkpoint on 2 cores; compare
checkpoints in one run (the same real faces, the same latents). Run it on an idle machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from nfe_core.bundle import load_bundle
from training.attributes import AttributeOptions, fit_boundaries, label_latents
from training.gan.checkpoint import load_checkpoint
from training.labels import ClassifierSource
from training.report import (
    JudgeFeatures,
    Renderer,
    frechet_distance,
    mirror_agreement,
    pooled_features,
    precision_recall,
    procedural_renders,
    read_labels,
)

BATCH = 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--model", type=Path, default=Path("resources/models/default"))
    parser.add_argument("--faces", type=int, default=2000)
    parser.add_argument("--labelled", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.model, "cpu")
    real, _ = procedural_renders(args.faces, bundle.generator.config.resolution, 4242)
    real01 = real.float() / 255
    features = JudgeFeatures(bundle.judge)
    real_features = pooled_features(features, real01, BATCH)
    options = AttributeOptions(count=args.labelled, batch_size=250)
    for path in args.checkpoints:
        state = load_checkpoint(path)
        bundle.generator.load_state_dict(state["generator_ema"])
        renderer = Renderer(bundle, 100)
        images = renderer.images(renderer.latents(0, args.faces, 1.0))
        fake01 = (images + 1) / 2
        fd = frechet_distance(features, real01, fake01, BATCH)
        precision, recall = precision_recall(
            real_features, pooled_features(features, fake01, BATCH)
        )
        judge = read_labels(bundle.judge, images, BATCH)
        annotator = read_labels(bundle.classifier, images, BATCH)
        agree = {
            name: round(float((judge[name] == annotator[name]).float().mean()), 3)
            for name in ("eye_color", "blush", "accessory")
        }
        mirror = mirror_agreement(bundle.judge, images, BATCH)
        print(
            f"{path} (step {state['step']}): Fréchet distance {fd:.2f}, precision "
            f"{precision:.3f}, recall {recall:.3f}; annotator and judge agree {agree}; "
            f"mirror composites read alike {mirror}",
            flush=True,
        )
        labelled = label_latents(bundle, ClassifierSource(bundle.classifier), options)
        fitted, _ = fit_boundaries(labelled, options)
        accuracy = {f.boundary.name: f.figures["svm_test_accuracy"] for f in fitted}
        worst = sorted(accuracy.items(), key=lambda item: item[1])[:6]
        print(
            f"  boundaries in W on {args.labelled} faces: mean balanced accuracy "
            f"{np.mean(list(accuracy.values())):.3f}, "
            f"{sum(v < 0.95 for v in accuracy.values())} of {len(accuracy)} under 0.95; worst "
            + ", ".join(f"{name} {value:.3f}" for name, value in worst),
            flush=True,
        )


if __name__ == "__main__":
    main()
