"""The editor's live render: milliseconds from a slider value to the picture the canvas shows.

    python benchmarks/bench_render.py [--model BUNDLE] [--sizes 0 512 2048 4096] [--runs 20]

One render is what the app's render worker does for each slider move: apply the edit to the
face's W+ latent, render it (the model's fixed noise), paste only the edit into the face
box's pixels (feathered) and make the QImage the canvas draws over the box. While a slider
is dragged ("drag") the box's pixels are shrunk to at most 768 px; when it is let go
("release") the box is rendered at full size. Size 0 is a generated face (no
picture); N is an N x (3N/4) picture with the face box its largest centred square. The
median of --runs after a warm-up; torch's default thread count. Budget: the canvas follows
a drag (well under 100 ms per frame for the pictures artists use).

Then the model's part when a class target is involved (generated faces): setting it (the
edit is landed where the model's classifier sees the class: the nearest distances rendered
three at a time, up to two past the first it reads the class at), dragging a slider that
comes after it (landing kept), and one that comes before it (landed again at every step).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PIL import Image

from nfe_core.facebox import default_box
from nfe_core.imageio import Picture
from nfe_core.service import EditorModel
from nfe_core.session import EditState, Face
from nfe_desktop.tasks import FaceRegion, render


def picture_face(model: EditorModel, size: int) -> tuple[FaceRegion | None, Face]:
    """A picture of ``size`` px wide (0: none) and a face in its centred square."""
    face = model.generate(0, 0.7)
    if size == 0:
        return None, face
    height = size * 3 // 4
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (height, size, 3), dtype=np.uint8)
    box = default_box(size, height)
    inverted = Face(face.latent, face.reconstruction, "picture", face.model, box=box)
    picture = Picture(rgb=Image.fromarray(pixels))
    return FaceRegion.of(picture, box, model.info.resolution), inverted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="bundle folder (default: the bundled)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 512, 2048, 4096])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--target", default=None, metavar="ATTR", help="class target to time (default: the first)"
    )
    args = parser.parse_args()
    model = EditorModel.load(args.model, "cpu")
    attribute = model.info.attributes[0]
    print(f"model: {model.info.name} ({model.info.resolution} px), edit: {attribute.name}")
    print(f"{'picture':>12}  {'drag ms':>8}  {'release ms':>10}  {'of which model ms':>17}")
    for size in args.sizes:
        region, face = picture_face(model, size)
        timings: dict[bool, list[float]] = {True: [], False: []}
        model_ms = []
        for run in range(args.runs + 3):
            state = EditState().with_strength(
                attribute.name,
                0.1 * (run + 1),
                attribute.classes[0] if attribute.direction is None else None,
            )
            for preview in (True, False):
                started = time.perf_counter()
                task = render(model, face, region, state, run, preview=preview)
                view = task(lambda *_: None, lambda: False)
                if run >= 3:
                    timings[preview].append((time.perf_counter() - started) * 1000)
                assert not view.patch.isNull()
            started = time.perf_counter()
            model.render(face, state)
            if run >= 3:
                model_ms.append((time.perf_counter() - started) * 1000)
        name = "face only" if size == 0 else f"{size}x{size * 3 // 4}"
        drag, release = (statistics.median(timings[p]) for p in (True, False))
        print(f"{name:>12}  {drag:8.1f}  {release:10.1f}  {statistics.median(model_ms):17.1f}")
    class_targets(model, args.runs, args.target)


def class_targets(model: EditorModel, runs: int, name: str | None = None) -> None:
    """Median model ms with a class target (``name``, default the first categorical
    attribute): set, then a slider dragged after and before it."""
    target = next(
        (a for a in model.info.attributes if len(a.classes) > 2 and name in (None, a.name)), None
    )
    slider = next((a for a in model.info.attributes if a.direction is not None), None)
    if target is None or slider is None:
        print("no categorical attribute and slider to time a class target with")
        return
    timings: dict[str, list[float]] = {"set": [], "after": [], "before": []}
    for run in range(runs + 3):
        face = model.generate(100 + run, 0.7)
        cls = target.classes[run % len(target.classes)]
        steps = {
            "set": EditState().with_target(target.name, cls),
            "after": EditState().with_target(target.name, cls).with_strength(slider.name, 0.5),
            "before": EditState()
            .with_strength(slider.name, 0.5)
            .with_target(target.name, cls)
            .with_strength(slider.name, 0.6),
        }
        for what, state in steps.items():
            started = time.perf_counter()
            model.render(face, state)
            if run >= 3:
                timings[what].append((time.perf_counter() - started) * 1000)
    print(
        f"class target {target.name}: set {statistics.median(timings['set']):.1f} ms; slider "
        f"{slider.name} dragged after it {statistics.median(timings['after']):.1f} ms, "
        f"before it {statistics.median(timings['before']):.1f} ms"
    )


if __name__ == "__main__":
    main()
