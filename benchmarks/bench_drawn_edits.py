"""Class edits on pictures the size of an illustration, as the app and ``nfe edit`` make them.

    python benchmarks/bench_drawn_edits.py [--model BUNDLE] [--pictures 8 | --seeds S ...]
                                           [--targets hair_color=pink ...] [--threads 2]
                                           [--show sheet.png]

Each picture is a brown-haired procedural face drawn at 512 px on a 1280x960 page (the app
screenshots' picture, ``scripts/app_screenshots.make_picture``, seeds 1..N). It is opened,
its face box inverted with the app's default steps, and edited to each target class with
the other two of hair colour, hair length and eye colour preserved; the edit is pasted back
into the page. The bundle's judge (the classifier no label came from) then reads the face:
on the edited render, and on the face box of the pasted page scaled to the model's size
(what the artist gets). ``--find``: the box inverted and judged is the one the model
finds in the page (:func:`~nfe_core.pipeline.find_picture_face`), as the app places it when
the picture opens, instead of the face's own. ``--background R,G,B``: each face drawn on that
plain colour, the page of it too (a magenta, blue, black or yellow the model never saw; the
judge, which never saw one either, reads the pasted face as the model is shown it, the page
turned pastel: :mod:`nfe_core.backdrop`). ``--cut SHARE``: the page cut so that the face's
hair runs off its top edge by that share of the face (0.2: a fifth); the face's own box then
reaches outside the picture (the model is shown the picture's edge carried on there,
:func:`~nfe_core.facebox.box_pixels`, and so is the judge).
Prints per target: on how many pictures the judge reads the target class, and on how many
it reads the preserved attributes as before.
A target of several edits made at once, as the app makes them, joins them with ``+``
(``hair_color=pink+mouth=closed``): reached when every one is. ``--show`` also writes a
sheet to look at: a row per picture, its face box as drawn and then pasted with each target.

This is the check of issue 5's "done when" (pink hair on a real-size picture) over several
pictures and targets; states of the same GAN differ on it more than the report's held-out
renders show, so compare it before shipping a model.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nfe_core.backdrop import swap_backdrop  # noqa: E402
from nfe_core.bundle import default_bundle_path, load_bundle  # noqa: E402
from nfe_core.edits import parse_edits  # noqa: E402
from nfe_core.facebox import FaceBox, crop_face  # noqa: E402
from nfe_core.imageio import load_image  # noqa: E402
from nfe_core.pipeline import (  # noqa: E402
    edit_inverted,
    find_picture_face,
    invert_picture,
    paste,
)
from nfe_core.sampling import pixels_to_images  # noqa: E402
from scripts.app_screenshots import FACE, FACE_AT, make_picture  # noqa: E402
from training.report import read_labels  # noqa: E402

KEPT = ("hair_color", "hair_length", "eye_color")
SHOW_CELL = 192  # px per face box on the --show sheet
TARGETS = (
    "hair_color=pink",
    "hair_color=blue",
    "hair_color=green",
    "hair_color=blonde",
    "hair_length=long",
    "eye_color=blue",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: the default)")
    parser.add_argument("--pictures", type=int, default=8, help="pictures (seeds 1..N)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=None, metavar="S", help="these pictures instead"
    )
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), metavar="ATTR=CLASS[+...]")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--show", type=Path, default=None, metavar="PNG", help="write a sheet")
    parser.add_argument(
        "--find", action="store_true", help="invert the box find_picture_face finds, as the app"
    )
    parser.add_argument(
        "--background",
        type=lambda text: tuple(int(v) for v in text.split(",")),
        default=None,
        metavar="R,G,B",
        help="draw each face on this plain colour (the page too) instead of its own background",
    )
    parser.add_argument(
        "--cut", type=float, default=0.0, metavar="SHARE", help="the face this far off the top"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bundle = load_bundle(args.model or default_bundle_path())
    judge = bundle.judge or bundle.classifier
    if judge is None or bundle.encoder is None:
        raise SystemExit(f"{bundle.root}: the bundle needs an encoder and a classifier")
    classes = dict(judge.config.attributes)
    off = round(args.cut * FACE)
    drawn = FaceBox(FACE_AT[0], -off, FACE, FACE) if off else FaceBox(*FACE_AT, FACE, FACE)

    def read(pixels: np.ndarray) -> dict[str, str]:
        found = read_labels(judge, pixels_to_images(pixels[None]), batch_size=1)
        return {name: classes[name][int(index)] for name, index in found.items()}

    seeds = args.seeds or list(range(1, args.pictures + 1))
    targets = [[part.partition("=")[::2] for part in t.split("+")] for t in args.targets]
    tally = {t: np.zeros(4, dtype=int) for t in args.targets}  # hit, kept; render, pasted
    print(f"# {bundle.name} ({bundle.resolution} px), {len(seeds)} drawn pictures")
    sheet: list[np.ndarray] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            made = make_picture(Path(tmp) / f"{seed}.png", seed, args.background)
            if off:  # the page's top cut away down to a share of the face
                with Image.open(made) as page:
                    page.crop((0, FACE_AT[1] + off, page.width, page.height)).save(made)
            picture = load_image(made)
            box = drawn
            if args.find:
                found = find_picture_face(bundle, picture)
                box = drawn if found is None else found.box
                print(f"picture {seed}: found {None if found is None else found.box}")
            cells = [crop_face(np.asarray(picture.rgb), box, SHOW_CELL)]
            inverted = invert_picture(bundle, picture, box)
            before = read(inverted.reconstruction)
            row = []
            for text, wanted in zip(args.targets, targets, strict=True):
                others = [k for k in KEPT if k not in dict(wanted)]
                edits = parse_edits(text.split("+"), preserve=others)
                edited = edit_inverted(bundle, inverted, edits)
                page = np.asarray(
                    paste(
                        picture,
                        inverted,
                        edited.render,
                        edited.redrawn,
                        edited.recolour,
                        edited.reshape,
                    ).rgb
                )
                face = crop_face(page, box, bundle.resolution)
                cells.append(crop_face(page, box, SHOW_CELL))
                # the judge, like the model, never saw a plain magenta or black page: it reads
                # the face as the model is shown it (nfe_core.backdrop; pastel pages as they are)
                shown = swap_backdrop(face)[0]
                for i, reading in enumerate((read(edited.render), read(shown))):
                    tally[text][2 * i] += all(reading[a] == c for a, c in wanted)
                    tally[text][2 * i + 1] += all(reading[k] == before[k] for k in others)
                    if i == 1:
                        changed = ",".join(k for k in others if reading[k] != before[k])
                        seen = "+".join(reading[a] for a, _ in wanted)
                        row.append(seen + (f" (+{changed})" if changed else ""))
            print(f"picture {seed} ({before['hair_color']}): " + "; ".join(row), flush=True)
            sheet.append(np.concatenate(cells, axis=1))
    if args.show is not None:
        Image.fromarray(np.concatenate(sheet, axis=0)).save(args.show)
        print(f"wrote {args.show}: per row the face box as drawn, then " + ", ".join(args.targets))
    n = len(seeds)
    print("\n| target | reached: render / pasted | others kept: render / pasted |")
    print("|---|---|---|")
    for text, (hit_r, kept_r, hit_p, kept_p) in tally.items():
        print(f"| {text} | {hit_r}/{n} / {hit_p}/{n} | {kept_r}/{n} / {kept_p}/{n} |")
    total = sum(tally.values())
    m = n * len(tally)
    print(f"| all | {total[0]}/{m} / {total[2]}/{m} | {total[1]}/{m} / {total[3]}/{m} |")


if __name__ == "__main__":
    main()
