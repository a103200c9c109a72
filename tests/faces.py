"""Pictures with a procedural face drawn where the test says, and how well a box meets it."""

from __future__ import annotations

from PIL import Image

from nfe_core.facebox import FaceBox
from training.synth.params import face_rng, sample_face
from training.synth.render import render_face

PAGE = (238, 233, 226)


def overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.right, b.right), min(a.bottom, b.bottom)
    inside = max(0, x1 - x0) * max(0, y1 - y0)
    return inside / (a.w * a.h + b.w * b.h - inside)


def page_with_face(
    size: tuple[int, int], box: FaceBox, seed: int = 3, seamless: bool = False
) -> Image.Image:
    """A procedural face drawn in ``box`` of a plain page; ``seamless``: on the page's own
    colour, so that no square shows where the face's picture ends."""
    fixed = {"background": "plain", "background_rgb": (PAGE, PAGE)} if seamless else {}
    face = render_face(sample_face(face_rng(seed, 0), **fixed), min(box.w, 512)).image
    page = Image.new("RGB", size, PAGE)
    page.paste(face.resize((box.w, box.h), Image.Resampling.LANCZOS), (box.x, box.y))
    return page


def page_with_faces(size: tuple[int, int], boxes: list[FaceBox]) -> Image.Image:
    """Procedural faces (seeds 10, 11, ...) drawn in ``boxes`` of a plain page, each on the
    page's own colour."""
    page = Image.new("RGB", size, PAGE)
    for seed, box in enumerate(boxes, start=10):
        page.paste(page_with_face((box.w, box.h), FaceBox(0, 0, box.w, box.h), seed, True),
                   (box.x, box.y))  # fmt: skip
    return page
