"""A labelled sample grid: faces in rows, each with its labels written underneath."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from training.synth.params import FaceParams

LINES = 4


def caption(p: FaceParams) -> list[str]:
    """Four short lines naming a face's labels: hair, eyes, mouth and blush, glasses and
    accessory (``-`` where there is nothing to say)."""
    face = [f"{p.mouth} mouth"] + (["blush"] if p.blush == "true" else [])
    extras = (["glasses"] if p.glasses == "true" else []) + (
        [p.accessory] if p.accessory != "none" else []
    )
    return [
        f"{p.hair_color} {p.hair_length}",
        f"{p.eye_color} eyes",
        ", ".join(face),
        ", ".join(extras) or "-",
    ]


def face_grid(
    faces: Sequence[tuple[FaceParams, Image.Image]], columns: int = 8, min_cell: int = 128
) -> Image.Image:
    """Faces (params, image) laid out in ``columns``, small renders enlarged to ``min_cell``
    with nearest-neighbour scaling so their real pixels show."""
    if not faces:
        raise ValueError("a grid needs at least one face")
    size = faces[0][1].size[0]
    cell = size * max(1, math.ceil(min_cell / size))
    font = ImageFont.load_default(size=max(9, round(cell / 12)))
    line_h = round(font.size * 1.25)
    pad = 4
    cell_h = cell + LINES * line_h + 2 * pad
    rows = math.ceil(len(faces) / columns)
    grid = Image.new("RGB", (columns * (cell + pad) + pad, rows * cell_h + pad), (24, 24, 28))
    draw = ImageDraw.Draw(grid)
    for k, (params, image) in enumerate(faces):
        x = pad + (k % columns) * (cell + pad)
        y = pad + (k // columns) * cell_h
        grid.paste(image.resize((cell, cell), Image.Resampling.NEAREST), (x, y))
        for i, text in enumerate(caption(params)):
            draw.text(
                (x + 2, y + cell + pad // 2 + i * line_h),
                text,
                font=font,
                fill=(235, 235, 240) if i < 2 else (170, 175, 190),
            )
    return grid
