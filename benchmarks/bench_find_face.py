"""How well ``find_face`` places the face box, and how long it takes.

    python benchmarks/bench_find_face.py [--model BUNDLE] [--pictures 24] [--seed 0]
                                         [--threads 2] [--save-misses DIR]

Each picture is a procedural face drawn at a random size (0.3 to 1 of the page's shorter
side) and place on a page of random size (400 to 1600 px a side), in five ways: ``square``
(the face's own background a square on the page), ``seamless`` (the face on a plain
background the page's colour: no square to see), ``cut out`` (the face cut out along an
oval onto a page with coloured rectangles), ``whole`` (the picture is the face), ``cut``
(a face 0.4 to 0.9 of the shorter side, a random 5-25% of it off the page's top, left,
right or bottom edge: the true box reaches outside the picture). Page colours are pastel
(as the model's faces' backgrounds) for half the pictures and any colour for the rest.
Prints per way and colour the share of pictures whose found box overlaps the true one by an
IoU of 0.8 or more, the mean IoU (0 where none was found), how many found none, the least
score of a face placed so (how close it came to ``FIND_FLOOR``); then how many of the
pictures without a face (plain, noise, blurred noise, a gradient) had a face found in them
(none should), with their scores; and the mean time per picture.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nfe_core.bundle import default_bundle_path, load_bundle  # noqa: E402
from nfe_core.facebox import FaceBox  # noqa: E402
from nfe_core.facefind import face_layout, find_face  # noqa: E402
from tests.faces import overlap  # noqa: E402
from training.synth.params import face_rng, sample_face  # noqa: E402
from training.synth.render import render_face  # noqa: E402

WAYS = ("square", "seamless", "cut out", "whole", "cut")


def colour(rng: np.random.Generator, pastel: bool) -> tuple[int, int, int]:
    if pastel:
        return tuple(int(v) for v in 255 - rng.integers(0, 70, 3))  # type: ignore[return-value]
    return tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[return-value]


def page_with_face(
    rng: np.random.Generator, n: int, way: str, pastel: bool
) -> tuple[Image.Image, FaceBox]:
    width, height = (int(v) for v in rng.integers(400, 1600, 2))
    shorter = min(width, height)
    side = shorter if way == "whole" else int(rng.uniform(0.3, 1.0) * shorter)
    if way == "cut":
        side = int(rng.uniform(0.4, 0.9) * shorter)
    ground = colour(rng, pastel)
    plain = {"background": "plain", "background_rgb": (ground, ground)}
    params = sample_face(face_rng(1000 + n, 0), **({} if way == "square" else plain))
    face = render_face(params, min(side, 512)).image.resize((side, side), Image.LANCZOS)
    page = Image.new("RGB", (width, height), ground)
    x, y = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
    if way == "cut":
        off = int(rng.uniform(0.05, 0.25) * side)
        edge = ("top", "left", "right", "bottom")[int(rng.integers(0, 4))]
        x = {"left": -off, "right": width - side + off}.get(edge, x)
        y = {"top": -off, "bottom": height - side + off}.get(edge, y)
    if way == "cut out":
        draw = ImageDraw.Draw(page)
        for _ in range(12):
            x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
            w, h = (int(v) for v in rng.integers(20, 300, 2))
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour(rng, pastel))
        oval = Image.new("L", face.size, 0)
        ImageDraw.Draw(oval).ellipse([side * 0.12, 0, side * 0.88, side * 1.3], fill=255)
        page.paste(face, (x, y), oval)
    else:
        page.paste(face, (x, y))
    return page, FaceBox(x, y, side, side)


def no_faces(rng: np.random.Generator) -> list[np.ndarray]:
    w, h = 800, 600
    yy, xx = np.mgrid[0:h, 0:w]
    small = rng.integers(0, 256, (12, 16, 3)).astype(np.uint8)
    return [
        np.full((h, w, 3), 200, np.uint8),
        rng.integers(0, 256, (h, w, 3)).astype(np.uint8),
        np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC)),
        np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 64 * 4], -1).astype(np.uint8),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: the default)")
    parser.add_argument("--pictures", type=int, default=24, help="pictures per way")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save-misses", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.model or default_bundle_path())
    face_layout(bundle)  # once per model, not counted
    rng = np.random.default_rng(args.seed)
    times: list[float] = []
    print("| way | page colours | IoU >= 0.8 | mean IoU | none found | least score placed |")
    print("|---|---|---|---|---|---|")
    for way in WAYS:
        for pastel in (True, False):
            overlaps, missed, placed = [], 0, []
            for n in range(args.pictures):
                page, truth = page_with_face(rng, n, way, pastel)
                start = time.perf_counter()
                found = find_face(bundle, np.asarray(page))
                times.append(time.perf_counter() - start)
                missed += found is None
                overlaps.append(0.0 if found is None else overlap(found.box, truth))
                if found is not None and overlaps[-1] >= 0.8:
                    placed.append(found.score)
                if args.save_misses and overlaps[-1] < 0.8:
                    args.save_misses.mkdir(parents=True, exist_ok=True)
                    name = f"{way.replace(' ', '_')}_{pastel:d}_{n}_{truth}.png"
                    page.save(args.save_misses / name.replace(",", "_"))
            good = sum(o >= 0.8 for o in overlaps)
            print(
                f"| {way} | {'pastel' if pastel else 'any'} | {good}/{len(overlaps)} | "
                f"{np.mean(overlaps):.3f} | {missed} | {min(placed, default=np.nan):.2f} |"
            )
    pictures = no_faces(rng)
    wrong = [f.score for f in (find_face(bundle, p) for p in pictures) if f is not None]
    print(f"pictures without a face where one was found: {len(wrong)}/{len(pictures)} {wrong}")
    print(f"mean time per picture: {np.mean(times):.2f} s ({args.threads} threads)")


if __name__ == "__main__":
    main()
