"""Reading and writing pictures: the one place that knows about files, formats and modes.

Every part of NFE that opens or saves a picture goes through this module:

- :func:`load_image` reads PNG, JPEG (and MPO), WebP, BMP, TIFF and GIF (first frame), applies
  the EXIF orientation, and turns any colour mode (palette, grayscale, 1-bit, CMYK, YCbCr,
  16-bit, ...) into an 8-bit RGB image, keeping transparency and an RGB ICC profile aside in a
  :class:`Picture`. It refuses anything else — a missing, empty, truncated or garbled file, a
  file that is not a picture, a picture over the pixel limit — with an :class:`ImageReadError`
  that names the file and says what is wrong in plain words.
- :func:`save_image` / :func:`save_picture` write PNG, JPEG or WebP, chosen by the file's
  extension, atomically: a hidden temporary file in the same folder is written, flushed to
  disk and then renamed onto the target, so a failure (disk full, Ctrl+C, ...) never leaves a
  half-written picture or damages the file that was there before.
- :func:`to_array` / :func:`from_array` convert between RGB images and ``HxWx3`` uint8 arrays.

Decoding only ever uses the formats in :data:`READ_FORMATS`, so no other PIL plugin (EPS, which
would start Ghostscript, for example) is reached by a file with a misleading name.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from nfe_core.fileio import describe_os_error, write_atomically

__all__ = [
    "MAX_PIXELS",
    "READ_FORMATS",
    "READ_SUFFIXES",
    "WRITE_SUFFIXES",
    "ImageError",
    "ImageReadError",
    "ImageWriteError",
    "Picture",
    "from_array",
    "load_image",
    "save_image",
    "save_picture",
    "to_array",
    "write_format",
]

MAX_PIXELS: int = 100_000_000
"""Largest picture (width * height) :func:`load_image` decodes; protects against
decompression bombs. Callers may pass a different ``max_pixels``."""

READ_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "MPO", "WEBP", "BMP", "TIFF", "GIF")
"""PIL format names :func:`load_image` accepts; no other decoder is ever tried."""

READ_SUFFIXES: tuple[str, ...] = (
    ".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".webp", ".bmp", ".tif", ".tiff",
    ".gif",
)  # fmt: skip
"""File extensions (lower case) of pictures in :data:`READ_FORMATS`, for file dialogs and
folder scans; :func:`load_image` itself goes by the content, not the name."""

WRITE_SUFFIXES: dict[str, str] = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
"""File extensions (lower case) :func:`save_image` writes, and the PIL format for each."""

_READ_NAMES = "PNG, JPEG, WebP, BMP, TIFF, GIF"
_WRITE_NAMES = ", ".join(WRITE_SUFFIXES)
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_JPEG_BACKGROUND = (255, 255, 255)

# Exceptions PIL's decoders are known to raise on damaged data besides OSError.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    EOFError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,
    MemoryError,
    ImageCms.PyCMSError,
)


# --------------------------------------------------------------------------------------------
# Errors


class ImageError(Exception):
    """A picture could not be read or written; ``str(e)`` is ``"<path>: <reason>"``.

    Attributes:
        path: the file concerned.
        reason: what went wrong, in plain words (no Python jargon), for the user.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ImageReadError(ImageError):
    """A file is missing, unreadable, not a supported picture, damaged, or too large."""


class ImageWriteError(ImageError):
    """A picture could not be saved (unknown file type, missing folder, disk full, ...)."""


# --------------------------------------------------------------------------------------------
# The loaded picture


@dataclass(frozen=True, eq=False)
class Picture:
    """A picture as NFE works with it: 8-bit RGB pixels plus what must survive a save.

    Attributes:
        rgb: the pixels, mode ``"RGB"``, EXIF orientation already applied.
        alpha: the transparency, mode ``"L"`` and the size of ``rgb``; ``None`` when the
            source had no transparency.
        icc_profile: the source's ICC profile when it describes RGB (so it is valid for
            ``rgb``), else ``None``.
        path: the file it came from, or ``None``.
        source_format: PIL's name of the file format, e.g. ``"PNG"``.
        source_mode: PIL's mode of the source pixels, e.g. ``"P"``, ``"CMYK"``, ``"I;16"``.
    """

    rgb: Image.Image
    alpha: Image.Image | None = None
    icc_profile: bytes | None = None
    path: Path | None = None
    source_format: str = ""
    source_mode: str = "RGB"

    def __post_init__(self) -> None:
        if not isinstance(self.rgb, Image.Image) or self.rgb.mode != "RGB":
            raise ValueError(
                f"Picture.rgb: expected a PIL image of mode 'RGB', got {_describe(self.rgb)}"
            )
        if self.alpha is not None:
            if not isinstance(self.alpha, Image.Image) or self.alpha.mode != "L":
                raise ValueError(
                    "Picture.alpha: expected a PIL image of mode 'L' or None, "
                    f"got {_describe(self.alpha)}"
                )
            if self.alpha.size != self.rgb.size:
                raise ValueError(
                    f"Picture.alpha: expected size {self.rgb.size} like rgb, got {self.alpha.size}"
                )

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.rgb.size

    @property
    def has_alpha(self) -> bool:
        """Whether the picture carries transparency."""
        return self.alpha is not None

    def with_alpha(self, rgb: Image.Image) -> Image.Image:
        """Put this picture's transparency back onto an edited version of its pixels.

        Args:
            rgb: an RGB image the size of this picture (e.g. the edited result).

        Returns:
            An ``"RGBA"`` image with this picture's alpha when it has one, else ``rgb`` as an
            ``"RGB"`` image.

        Raises:
            ValueError: ``rgb`` is not an RGB image of this picture's size.
        """
        if not isinstance(rgb, Image.Image) or rgb.mode != "RGB":
            raise ValueError(
                f"with_alpha: expected a PIL image of mode 'RGB', got {_describe(rgb)}"
            )
        if rgb.size != self.size:
            raise ValueError(f"with_alpha: expected an image of size {self.size}, got {rgb.size}")
        if self.alpha is None:
            return rgb
        result = rgb.copy()
        result.putalpha(self.alpha)
        return result


# --------------------------------------------------------------------------------------------
# Reading


def load_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> Picture:
    """Read a picture file into an 8-bit RGB :class:`Picture`.

    Args:
        path: a PNG, JPEG, WebP, BMP, TIFF or GIF file (of a GIF or multi-page TIFF only the
            first frame is read). The extension does not matter; the content decides.
        max_pixels: refuse pictures with more than this many pixels (width * height), checked
            from the file's header before any pixel is decoded.
            PIL itself refuses more than twice its ``Image.MAX_IMAGE_PIXELS`` (about
            179 million) whatever this says; this module never changes that global.

    Returns:
        The picture: RGB pixels with the EXIF orientation applied, its transparency (if any) as
        a separate ``"L"`` image, and its ICC profile if that describes RGB.

    Raises:
        ImageReadError: the path is missing or a folder, the file is empty, truncated,
            damaged, not a supported picture, unreadable, or over ``max_pixels``.
        ValueError: ``max_pixels`` is not a positive whole number.
    """
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ValueError(f"max_pixels: expected a whole number of at least 1, got {max_pixels!r}")
    file = Path(path)
    with _open_for_reading(file) as stream:
        try:
            with warnings.catch_warnings():
                # PIL's bomb *warning* (about 89 MP) is below our limit: we check max_pixels
                # ourselves from the header, and catch PIL's hard DecompressionBombError.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(stream, formats=_opener_formats()) as image:
                    source_format = image.format or ""
                    source_mode = image.mode
                    width, height = image.size
                    if width * height > max_pixels:
                        raise ImageReadError(file, _too_large(width, height, max_pixels))
                    image.load()
                    icc_profile = image.info.get("icc_profile") or None
                    oriented = _apply_orientation(image)
                    rgb, alpha = _to_rgb_alpha(oriented, icc_profile)
        except ImageError:
            raise
        except Image.DecompressionBombError as exc:
            raise ImageReadError(file, _bomb_reason(exc, max_pixels)) from exc
        except UnidentifiedImageError as exc:
            raise ImageReadError(
                file, f"this is not a picture file NFE can read (supported: {_READ_NAMES})"
            ) from exc
        except _DECODE_ERRORS as exc:
            raise ImageReadError(file, _describe_decode_error(exc)) from exc
    if icc_profile is not None and not _is_rgb_profile(icc_profile):
        icc_profile = None
    return Picture(
        rgb=rgb,
        alpha=alpha,
        icc_profile=icc_profile,
        path=file,
        source_format=source_format,
        source_mode=source_mode,
    )


def _bomb_reason(exc: Image.DecompressionBombError, max_pixels: int) -> str:
    """PIL's decompression-bomb refusal (above twice PIL's own limit) in our words."""
    numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
    if len(numbers) < 2:
        return "the picture is too large to open safely"
    pixels, pil_limit = numbers[0], numbers[1]
    limit = max_pixels if pixels > max_pixels else pil_limit
    return (
        f"the picture is too large to open safely: {pixels:,} pixels, "
        f"over the limit of {limit:,} pixels"
    )


def _opener_formats() -> tuple[str, ...]:
    """READ_FORMATS that have an opener of their own (MPO is opened by the JPEG opener)."""
    Image.init()
    return tuple(name for name in READ_FORMATS if name in Image.OPEN)


def _too_large(width: int, height: int, max_pixels: int) -> str:
    return (
        f"the picture is too large to open safely: {width} x {height} = "
        f"{width * height:,} pixels, over the limit of {max_pixels:,} pixels"
    )


def _open_for_reading(file: Path) -> BinaryIO:
    """The file opened for reading, or an ImageReadError saying why it cannot be."""
    try:
        if file.is_dir():
            raise ImageReadError(file, "this is a folder, not a picture file")
        stream = open(file, "rb")  # noqa: SIM115 - returned to the caller's with-block
    except ImageError:
        raise
    except FileNotFoundError as exc:
        raise ImageReadError(file, "the file does not exist") from exc
    except IsADirectoryError as exc:
        raise ImageReadError(file, "this is a folder, not a picture file") from exc
    except PermissionError as exc:
        raise ImageReadError(file, "permission denied (the file cannot be read)") from exc
    except OSError as exc:
        raise ImageReadError(file, f"the file cannot be read: {describe_os_error(exc)}") from exc
    try:
        empty = os.fstat(stream.fileno()).st_size == 0
    except OSError:
        empty = False
    if empty:
        stream.close()
        raise ImageReadError(file, "the file is empty")
    return stream


def _describe_decode_error(exc: BaseException) -> str:
    text = str(exc).strip()
    lowered = text.lower()
    if isinstance(exc, EOFError) or "truncated" in lowered or "end of file" in lowered:
        return "the file is truncated (it ends before the picture does)"
    if isinstance(exc, MemoryError):
        return "there is not enough memory to open the picture"
    detail = f" ({text})" if text else ""
    return f"the picture data is damaged or in an unsupported variant{detail}"


def _apply_orientation(image: Image.Image) -> Image.Image:
    """The image turned upright per its EXIF orientation; unchanged if the EXIF is unusable."""
    try:
        oriented = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image  # a damaged EXIF block should not make the picture unreadable
    return image if oriented is None else oriented


def _to_rgb_alpha(
    image: Image.Image, icc_profile: bytes | None = None
) -> tuple[Image.Image, Image.Image | None]:
    """Split any PIL image into 8-bit RGB pixels and an ``"L"`` alpha (or None).

    CMYK is converted through its ICC profile to sRGB when it has a CMYK profile; 16-bit
    modes are scaled from 0..65535 to 0..255.
    """
    mode = image.mode
    if mode == "RGB":
        return image, None
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_rgb(image)
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc_profile), None
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or image.has_transparency_data
    if has_alpha:
        if mode == "La":  # premultiplied: PIL converts it to RGBA only by way of LA
            image = image.convert("LA")
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        return rgba.convert("RGB"), rgba.getchannel("A")
    if mode == "F":
        image = image.convert("L")
    return image.convert("RGB"), None


def _sixteen_bit_to_rgb(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    values = np.asarray(image).astype(np.int64)
    alpha = None
    transparency = image.info.get("transparency")
    if isinstance(transparency, int):
        alpha = Image.fromarray(np.where(values == transparency, 0, 255).astype(np.uint8))
    scaled = (np.clip(values, 0, 65535) * 255 + 32767) // 65535
    gray = Image.fromarray(scaled.astype(np.uint8))
    return gray.convert("RGB"), alpha


def _cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile is not None and _profile_colour_space(icc_profile) == b"CMYK":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: fall back to the plain conversion
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")


def _profile_colour_space(icc_profile: bytes) -> bytes | None:
    """The 4-byte colour-space signature of an ICC profile header (e.g. ``b"RGB "``)."""
    if len(icc_profile) < 128:
        return None
    return bytes(icc_profile[16:20])


def _is_rgb_profile(icc_profile: bytes) -> bool:
    return _profile_colour_space(icc_profile) == b"RGB "


# --------------------------------------------------------------------------------------------
# Writing


def write_format(path: str | os.PathLike[str]) -> str:
    """The PIL format :func:`save_image` uses for ``path``, chosen by its extension.

    Raises:
        ImageWriteError: the extension is not one NFE writes (see :data:`WRITE_SUFFIXES`).
    """
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        return WRITE_SUFFIXES[suffix]
    except KeyError:
        what = f"'{file.suffix}'" if file.suffix else "no extension"
        raise ImageWriteError(
            file, f"cannot save as {what}; NFE saves pictures as {_WRITE_NAMES}"
        ) from None


def save_image(
    image: Image.Image | np.ndarray,
    path: str | os.PathLike[str],
    *,
    alpha: Image.Image | np.ndarray | None = None,
    icc_profile: bytes | None = None,
    quality: int = 95,
    durable: bool = True,
) -> Path:
    """Write a picture atomically as PNG, JPEG or WebP, chosen by ``path``'s extension.

    Args:
        image: the pixels: a PIL image (RGB; RGBA, grayscale, palette are converted, an RGBA
            image's own alpha is used when ``alpha`` is not given) or an ``HxWx3`` uint8 array.
        path: the file to write; an existing file is replaced only once the new one is
            complete, and keeps its permissions.
        alpha: transparency, an ``"L"`` image or ``HxW`` uint8 array the size of ``image``.
            PNG and WebP store it; JPEG cannot, so the picture is composited onto white.
        icc_profile: an ICC profile to embed (all three formats).
        quality: JPEG/WebP quality, 1 (smallest) to 100 (best); PNG is always lossless.
        durable: force the file to disk before returning (see ``fileio.write_atomically``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ImageWriteError: unsupported extension, missing folder, permission denied, disk full,
            or any other failure while writing; the previous file (if any) is left untouched
            and no temporary file remains.
        ValueError: the image, alpha or quality is not what is expected.
    """
    file = Path(path)
    fmt = write_format(file)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality: expected a whole number from 1 to 100, got {quality!r}")
    if icc_profile is not None and not isinstance(icc_profile, bytes | bytearray):
        raise ValueError(f"icc_profile: expected bytes or None, got {type(icc_profile).__name__}")
    rgb, own_alpha = _image_for_saving(image)
    mask = _alpha_for_saving(alpha, rgb.size) if alpha is not None else own_alpha
    output = _compose_for_format(rgb, mask, fmt)
    options: dict[str, Any] = {}
    if icc_profile:
        options["icc_profile"] = bytes(icc_profile)
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    if fmt == "WEBP" and mask is not None:
        options["exact"] = True  # keep the colour under fully transparent pixels
    write_atomically(
        file,
        lambda stream: output.save(stream, format=fmt, **options),
        error=ImageWriteError,
        durable=durable,
    )
    return file


def save_picture(
    picture: Picture,
    path: str | os.PathLike[str],
    *,
    rgb: Image.Image | np.ndarray | None = None,
    quality: int = 95,
) -> Path:
    """Save a :class:`Picture` (or an edited version of its pixels) with its alpha and ICC.

    Args:
        picture: the loaded picture; its transparency and ICC profile are written back.
        path: the file to write (PNG, JPEG or WebP by extension), atomically.
        rgb: edited pixels to save instead of ``picture.rgb``: an RGB image or ``HxWx3`` uint8
            array of the picture's size.
        quality: JPEG/WebP quality, 1 to 100.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ImageWriteError: as :func:`save_image`.
        ValueError: ``rgb`` is not an RGB image of the picture's size.
    """
    pixels = picture.rgb if rgb is None else rgb
    if isinstance(pixels, np.ndarray):
        pixels = from_array(pixels)
    if not isinstance(pixels, Image.Image) or pixels.mode != "RGB":
        raise ValueError(
            f"rgb: expected an RGB image or HxWx3 uint8 array, got {_describe(pixels)}"
        )
    if pixels.size != picture.size:
        raise ValueError(f"rgb: expected an image of size {picture.size}, got {pixels.size}")
    return save_image(
        pixels, path, alpha=picture.alpha, icc_profile=picture.icc_profile, quality=quality
    )


def _image_for_saving(image: Image.Image | np.ndarray) -> tuple[Image.Image, Image.Image | None]:
    if isinstance(image, np.ndarray):
        return from_array(image), None
    if not isinstance(image, Image.Image):
        raise ValueError(
            f"image: expected a PIL image or an HxWx3 uint8 array, got {type(image).__name__}"
        )
    if image.width < 1 or image.height < 1:
        raise ValueError(f"image: expected at least 1 x 1 pixels, got {image.size}")
    return _to_rgb_alpha(image, image.info.get("icc_profile"))


def _alpha_for_saving(alpha: Image.Image | np.ndarray, size: tuple[int, int]) -> Image.Image:
    if isinstance(alpha, np.ndarray):
        if alpha.dtype != np.uint8 or alpha.ndim != 2:
            raise ValueError(
                f"alpha: expected an HxW uint8 array, got shape {alpha.shape} dtype {alpha.dtype}"
            )
        mask = Image.fromarray(np.ascontiguousarray(alpha))
    elif isinstance(alpha, Image.Image):
        mask = alpha if alpha.mode == "L" else alpha.convert("L")
    else:
        raise ValueError(
            f"alpha: expected an 'L' image or HxW uint8 array, got {type(alpha).__name__}"
        )
    if mask.size != size:
        raise ValueError(f"alpha: expected size {size} like the image, got {mask.size}")
    return mask


def _compose_for_format(rgb: Image.Image, alpha: Image.Image | None, fmt: str) -> Image.Image:
    if alpha is None:
        return rgb
    if fmt == "JPEG":  # no transparency in JPEG: composite onto white
        flat = Image.new("RGB", rgb.size, _JPEG_BACKGROUND)
        flat.paste(rgb, mask=alpha)
        return flat
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    return rgba


# --------------------------------------------------------------------------------------------
# Arrays


def to_array(image: Image.Image | Picture) -> np.ndarray:
    """The pixels of an RGB image as a new ``HxWx3`` uint8 array.

    Args:
        image: a PIL image of mode ``"RGB"`` (or a :class:`Picture`, whose ``rgb`` is used).

    Raises:
        ValueError: ``image`` is not an RGB PIL image.
    """
    if isinstance(image, Picture):
        image = image.rgb
    if not isinstance(image, Image.Image) or image.mode != "RGB":
        raise ValueError(f"to_array: expected a PIL image of mode 'RGB', got {_describe(image)}")
    return np.array(image, dtype=np.uint8)


def from_array(array: np.ndarray) -> Image.Image:
    """An RGB PIL image from an ``HxWx3`` uint8 array (the array is copied).

    Raises:
        ValueError: ``array`` is not an ``HxWx3`` uint8 array with H, W >= 1.
    """
    if not isinstance(array, np.ndarray):
        raise ValueError(f"from_array: expected a numpy array, got {type(array).__name__}")
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            f"from_array: expected an HxWx3 array (H, W >= 1), got shape {array.shape}"
        )
    if array.dtype != np.uint8:
        raise ValueError(
            f"from_array: expected dtype uint8 (0..255), got {array.dtype}; "
            "convert with np.clip(a, 0, 255).astype(np.uint8) first"
        )
    return Image.fromarray(np.ascontiguousarray(array)).convert("RGB")


def _describe(value: object) -> str:
    if isinstance(value, Image.Image):
        return f"a PIL image of mode {value.mode!r}"
    return type(value).__name__
