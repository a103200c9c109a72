"""The procedural anime-face set: labelled faces the project renders itself (DESIGN.md, "Data")."""

from training.synth.params import FaceParams, face_rng, sample_face
from training.synth.render import REGION_NAMES, Region, RenderedFace, render_face
from training.synth.schema import (
    ATTRIBUTE_RECOLOURS,
    ATTRIBUTE_REGIONS,
    ATTRIBUTE_SPILLS,
    ATTRIBUTES,
    EYE_COLORS,
    HAIR_COLORS,
    Attribute,
)

__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_RECOLOURS",
    "ATTRIBUTE_REGIONS",
    "ATTRIBUTE_SPILLS",
    "EYE_COLORS",
    "HAIR_COLORS",
    "REGION_NAMES",
    "Attribute",
    "FaceParams",
    "Region",
    "RenderedFace",
    "face_rng",
    "render_face",
    "sample_face",
]
