"""Attribute and class names of the procedural set: lowercase identifiers used everywhere."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Attribute:
    """A labelled attribute: its name, its classes (in a fixed order) and what it means."""

    name: str
    classes: tuple[str, ...]
    doc: str

    def index(self, label: str) -> int:
        """The class index of ``label``; a ValueError names the valid classes."""
        try:
            return self.classes.index(label)
        except ValueError:
            raise ValueError(
                f"unknown {self.name} {label!r}; expected one of {', '.join(self.classes)}"
            ) from None


# Reference colours: what each class name should read as. Renders jitter around them,
# never far enough to be nearer another class (tests check this on the pixels).
HAIR_COLORS: dict[str, RGB] = {
    "black": (38, 36, 48),
    "brown": (112, 70, 44),
    "blonde": (242, 214, 128),
    "red": (196, 36, 40),
    "orange": (240, 134, 46),
    "pink": (246, 160, 196),
    "purple": (136, 78, 184),
    "blue": (58, 100, 214),
    "green": (64, 158, 88),
    "silver": (200, 206, 218),
}

EYE_COLORS: dict[str, RGB] = {
    "blue": (46, 112, 226),
    "green": (42, 160, 74),
    "red": (206, 32, 44),
    "brown": (128, 78, 40),
    "purple": (142, 70, 196),
    "yellow": (232, 188, 34),
    "pink": (238, 108, 172),
    "gray": (128, 134, 146),
}

HAIR_LENGTHS: dict[str, tuple[float, float]] = {
    # class -> range of the continuous length in 0..1 (the ``hair_length_value`` column)
    "short": (0.0, 1 / 3),
    "medium": (1 / 3, 2 / 3),
    "long": (2 / 3, 1.0),
}

BOOLEAN = ("false", "true")

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("hair_color", tuple(HAIR_COLORS), "colour of the hair"),
    Attribute(
        "hair_length",
        tuple(HAIR_LENGTHS),
        "short: above the shoulders; medium: to the shoulders; long: past them",
    ),
    Attribute("eye_color", tuple(EYE_COLORS), "colour of the irises"),
    Attribute("mouth", ("closed", "open"), "mouth closed or open"),
    Attribute("blush", BOOLEAN, "blushing cheeks"),
    Attribute("glasses", BOOLEAN, "wears glasses"),
    Attribute("accessory", ("none", "bow", "hairclip", "flower"), "hair accessory"),
)

ATTRIBUTE_BY_NAME: dict[str, Attribute] = {a.name: a for a in ATTRIBUTES}

# The regions of the renderer's region map (``training.synth.render.REGION_NAMES``) each
# attribute draws: an edit of it may change these pixels and no others (the segmenter's
# ``owners``, see nfe_core/models/segmenter.py). Every attribute above has its entry.
ATTRIBUTE_REGIONS: dict[str, tuple[str, ...]] = {
    "hair_color": ("hair",),
    "hair_length": ("hair",),
    "eye_color": ("eye_white", "iris", "pupil", "highlight"),
    "mouth": ("mouth",),
    "blush": ("blush",),
    "glasses": ("glasses",),
    "accessory": ("accessory",),
}

# The attributes above that change colours, not shapes, with the pixels their edit's area
# grows by beyond their regions in the unedited face (the segmenter's ``recolours``): the eyes
# are a few pixels at 64 px and need one more to be recoloured whole.
ATTRIBUTE_RECOLOURS: dict[str, int] = {"hair_color": 0, "eye_color": 1}

# Regions an attribute's edit may change besides its own (the segmenter's ``spills``), which
# other attributes' edits do not keep as they keep its own: the GAN draws blush and glasses
# with the face's skin (darker or lighter), and the judge reads them from it. Kept to their
# own regions their edits reached the class on 0.46 and 0.66 of 100 sampled faces against
# 0.88 and 0.99 whole; with the skin, on 200 sampled faces (64 px default model, judged,
# the others preserved) blush 0.845 as whole and glasses 0.93 against 0.955, the other
# attributes all kept on 0.44 and 0.41 against 0.21; on 100 inverted held-out faces blush
# 0.80 against 0.75 whole, glasses 0.90 against 0.91, kept 0.38 and 0.50 against 0.17 and
# 0.15 (whole, the edits recoloured shirts and hair).
ATTRIBUTE_SPILLS: dict[str, tuple[str, ...]] = {"blush": ("skin",), "glasses": ("skin",)}

# Regions drawn as line work (the segmenter's ``strokes``): on a picture, an edit that draws
# them draws lines fitted to them at the picture's size. The 64 px GAN draws glasses' frames a
# pixel wide; pasted as the renders' difference they were dark smudges over the eyes.
STROKE_REGIONS: tuple[str, ...] = ("glasses",)
# The regions that line work is drawn around (the segmenter's ``holds``): glasses' frames hold
# the eyes. On a picture, ``glasses=true`` where the render drew no frames that fit (a blob
# between the eyes, or nothing) gets frames around the picture's own eyes.
STROKE_HOLDS: tuple[str, ...] = ("eye_white", "iris", "pupil", "highlight")
# The attributes whose edits change their regions only below the eyes (the segmenter's
# ``below_eyes``; nfe_core.models.segmenter.barred_below_eyes): hair length moves the back
# hair's ends and the side locks, not the fringe or the head's outline. On a picture the GAN's
# shorter hair also raised the fringe, uncovering a grey smear over the eyelashes, and its
# longer hair grew the head's outline by a pixel, a light line around its top.
BELOW_EYES: tuple[str, ...] = ("hair_length",)
# The figures a picture gets drawn whole (the segmenter's ``figures``, in the colours the
# faces wear them in, params.FIGURE_COLORS; nfe_core.facebox.FIGURES): an accessory's classes
# as the figures of their names (the 64 px GAN draws a bow as a muted blob, and hair clips
# and flowers hardly at all), and blush=true as a blush on each cheek (the GAN's is faint,
# at times on one side only).
FIGURE_CLASSES: dict[str, tuple[str, ...]] = {
    "accessory": ("bow", "hairclip", "flower"),
    "blush": ("blush",),
}

# The recolouring attributes whose class targets take the colours the model draws the class
# with, in this region (the segmenter's ``palettes``, measured on the model's own faces by
# ``nfe-train segmenter``): the 64 px GAN draws eyes of two or three hues, and an eye colour
# edit often left a muddle the judge did not read as the target (0.713 -> 0.887 of 300
# sampled faces with the iris in the class's colours; see nfe_core.models.segmenter).
ATTRIBUTE_PALETTES: dict[str, str] = {"eye_color": "iris"}
# The recolouring attributes whose class targets on a picture turn this region from the
# picture's own colours to the class's as drawn faces show it at the model's size (the
# segmenter's ``picture_palettes``, measured by ``nfe-train segmenter`` on procedural faces):
# the GAN's colours of a class are its 64 px blur of them (brown eyes a light pinkish grey,
# blue hair on one drawn picture indigo); judged on the 8 drawn pictures, eye colours 57 ->
# 63 of 64, hair colours 79 -> 80 of 80 (the others kept 73 -> 77).
ATTRIBUTE_PICTURE_PALETTES: dict[str, str] = {"eye_color": "iris", "hair_color": "hair"}

# Extra label column: the continuous hair length behind the ``hair_length`` class.
HAIR_LENGTH_VALUE = "hair_length_value"
