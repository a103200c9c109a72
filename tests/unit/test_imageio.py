"""nfe_core.imageio: every supported read format and mode, refusals, atomic writes."""

from __future__ import annotations

import errno
import io
import os
import pickle
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from nfe_core import fileio, imageio
from nfe_core.imageio import (
    MAX_PIXELS,
    READ_FORMATS,
    WRITE_SUFFIXES,
    ImageError,
    ImageReadError,
    ImageWriteError,
    Picture,
    from_array,
    load_image,
    save_image,
    save_picture,
    to_array,
)
from tests.icc import srgb_profile

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def gray_profile() -> bytes:
    """An ICC profile whose header says GRAY (the colour space is all imageio looks at)."""
    data = bytearray(srgb_profile())
    data[16:20] = b"GRAY"
    return bytes(data)


def gradient(width: int = 32, height: int = 24) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], axis=2))


def write(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------------------------
# Public constants


def test_public_constants() -> None:
    assert MAX_PIXELS == 100_000_000
    assert set(READ_FORMATS) == {"PNG", "JPEG", "MPO", "WEBP", "BMP", "TIFF", "GIF"}
    assert WRITE_SUFFIXES == {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
    assert issubclass(ImageReadError, ImageError)
    assert issubclass(ImageWriteError, ImageError)
    error = ImageReadError("a/b.png", "the file is empty")
    assert error.path == Path("a/b.png")
    assert error.reason == "the file is empty"
    assert str(error) == f"{Path('a/b.png')}: the file is empty"


# --------------------------------------------------------------------------------------------
# Reading: formats


@pytest.mark.parametrize(
    ("suffix", "fmt", "lossy"),
    [
        (".png", "PNG", False),
        (".jpg", "JPEG", True),
        (".webp", "WEBP", True),
        (".bmp", "BMP", False),
        (".tif", "TIFF", False),
    ],
)
def test_reads_rgb_formats(tmp_path: Path, suffix: str, fmt: str, lossy: bool) -> None:
    source = gradient()
    path = write(source, tmp_path / f"pic{suffix}", **({"quality": 95} if lossy else {}))
    picture = load_image(path)
    assert picture.source_format == fmt
    assert picture.rgb.mode == "RGB"
    assert picture.size == (32, 24)
    assert picture.alpha is None
    assert picture.path == path
    difference = np.abs(to_array(picture.rgb).astype(int) - np.asarray(source, dtype=int))
    assert difference.max() <= (40 if lossy else 0)


def test_content_decides_not_the_extension(tmp_path: Path) -> None:
    path = write(gradient(), tmp_path / "actually_a_png.jpg", format="PNG")
    assert load_image(path).source_format == "PNG"


def test_mpo_reads_the_first_image(tmp_path: Path) -> None:
    path = tmp_path / "stereo.mpo"
    Image.new("RGB", (8, 8), RED).save(
        path, format="MPO", save_all=True, append_images=[Image.new("RGB", (8, 8), BLUE)]
    )
    picture = load_image(path)
    assert picture.source_format == "MPO"
    assert close_to(picture.rgb.getpixel((4, 4)), RED, tol=6)


def test_gif_reads_the_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 6), RED), Image.new("RGB", (8, 6), BLUE)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    picture = load_image(path)
    assert picture.source_format == "GIF"
    assert picture.size == (8, 6)
    assert close_to(picture.rgb.getpixel((3, 3)), RED, tol=2)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # 40 wide, 20 high: left half red, right half blue; Orientation 6 = rotate 90° clockwise.
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(image, tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    picture = load_image(path)
    assert picture.size == (20, 40)
    assert close_to(picture.rgb.getpixel((10, 5)), RED, tol=30)  # left edge is now the top
    assert close_to(picture.rgb.getpixel((10, 35)), BLUE, tol=30)


def test_damaged_exif_does_not_make_the_picture_unreadable(tmp_path: Path) -> None:
    path = write(gradient(), tmp_path / "bad_exif.jpg", exif=b"Exif\x00\x00garbage!")
    assert load_image(path).size == (32, 24)


# --------------------------------------------------------------------------------------------
# Reading: modes


def test_palette_with_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (6, 4), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    image.paste(1, (3, 0, 6, 4))
    path = write(image, tmp_path / "palette.png", transparency=0)
    picture = load_image(path)
    assert picture.source_mode == "P"
    assert picture.alpha is not None
    assert picture.alpha.mode == "L"
    assert picture.alpha.getpixel((0, 0)) == 0
    assert picture.alpha.getpixel((4, 2)) == 255
    assert picture.rgb.getpixel((4, 2)) == RED


def test_palette_without_transparency(tmp_path: Path) -> None:
    image = gradient().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    picture = load_image(write(image, tmp_path / "palette.bmp"))
    assert picture.source_mode == "P"
    assert picture.alpha is None
    assert picture.rgb.mode == "RGB"


def test_grayscale_with_alpha(tmp_path: Path) -> None:
    image = Image.merge("LA", [Image.new("L", (5, 5), 200), Image.new("L", (5, 5), 77)])
    picture = load_image(write(image, tmp_path / "la.png"))
    assert picture.source_mode == "LA"
    assert picture.rgb.getpixel((2, 2)) == (200, 200, 200)
    assert picture.alpha is not None
    assert picture.alpha.getpixel((2, 2)) == 77


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_one_bit(tmp_path: Path, suffix: str) -> None:
    image = Image.new("1", (9, 3), 0)
    image.paste(1, (0, 0, 4, 3))
    picture = load_image(write(image, tmp_path / f"bits{suffix}"))
    assert picture.source_mode == "1"
    assert picture.rgb.getpixel((0, 0)) == (255, 255, 255)
    assert picture.rgb.getpixel((8, 0)) == (0, 0, 0)


def test_grayscale(tmp_path: Path) -> None:
    picture = load_image(write(Image.new("L", (3, 3), 90), tmp_path / "gray.png"))
    assert picture.source_mode == "L"
    assert picture.rgb.getpixel((1, 1)) == (90, 90, 90)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk(tmp_path: Path, suffix: str) -> None:
    image = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red ink
    picture = load_image(write(image, tmp_path / f"cmyk{suffix}"))
    assert picture.source_mode == "CMYK"
    assert picture.rgb.mode == "RGB"
    assert close_to(picture.rgb.getpixel((4, 4)), RED, tol=20)
    assert picture.icc_profile is None


def test_cmyk_with_a_broken_cmyk_profile_falls_back(tmp_path: Path) -> None:
    profile = bytearray(200)
    profile[16:20] = b"CMYK"
    image = Image.new("CMYK", (8, 8), (0, 255, 255, 0))
    picture = load_image(write(image, tmp_path / "cmyk.jpg", icc_profile=bytes(profile)))
    assert close_to(picture.rgb.getpixel((4, 4)), RED, tol=20)
    assert picture.icc_profile is None  # not an RGB profile: not valid for the RGB pixels


def test_ycbcr_jpeg_written_from_ycbcr(tmp_path: Path) -> None:
    image = Image.new("RGB", (8, 8), RED).convert("YCbCr")
    picture = load_image(write(image, tmp_path / "ycc.jpg"))
    assert close_to(picture.rgb.getpixel((4, 4)), RED, tol=20)


def test_ycbcr_image_converts() -> None:
    rgb, alpha = imageio._to_rgb_alpha(Image.new("RGB", (2, 2), RED).convert("YCbCr"))
    assert alpha is None
    assert close_to(rgb.getpixel((0, 0)), RED, tol=3)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path: Path, suffix: str) -> None:
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    source = Image.fromarray(values)
    assert source.mode.startswith("I;16")
    picture = load_image(write(source, tmp_path / f"deep{suffix}"))
    assert picture.source_mode.startswith("I")
    assert [picture.rgb.getpixel((x, 0))[0] for x in range(4)] == [0, 1, 128, 255]


def test_mode_i_is_scaled() -> None:
    image = Image.fromarray(np.array([[0, 65535, 70000, -5]], dtype=np.int32))
    assert image.mode == "I"
    rgb, _ = imageio._to_rgb_alpha(image)
    assert [rgb.getpixel((x, 0))[0] for x in range(4)] == [0, 255, 255, 0]


def test_rgba_premultiplied_and_la_premultiplied_modes_convert() -> None:
    for mode in ("RGBa", "La", "PA"):
        rgb, alpha = imageio._to_rgb_alpha(Image.new(mode, (2, 2)))
        assert rgb.mode == "RGB"
        assert alpha is not None and alpha.mode == "L"


# --------------------------------------------------------------------------------------------
# Alpha and ICC round trips


def rgba_picture() -> Image.Image:
    image = gradient(16, 16).convert("RGBA")
    alpha = np.zeros((16, 16), np.uint8)
    alpha[:, 8:] = 255
    alpha[4, 12] = 100
    image.putalpha(Image.fromarray(alpha))
    return image


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_alpha_round_trip(tmp_path: Path, suffix: str) -> None:
    picture = load_image(write(rgba_picture(), tmp_path / "source.png"))
    assert picture.alpha is not None
    saved = save_picture(picture, tmp_path / f"copy{suffix}", quality=100)
    again = load_image(saved)
    assert again.alpha is not None
    assert np.array_equal(np.asarray(again.alpha), np.asarray(picture.alpha))
    if suffix == ".png":
        assert np.array_equal(to_array(again.rgb), to_array(picture.rgb))


def test_jpeg_composites_alpha_onto_white(tmp_path: Path) -> None:
    picture = load_image(write(rgba_picture(), tmp_path / "source.png"))
    again = load_image(save_picture(picture, tmp_path / "flat.jpg"))
    assert again.alpha is None
    assert close_to(again.rgb.getpixel((2, 2)), (255, 255, 255), tol=6)


def test_save_picture_with_edited_rgb_keeps_alpha(tmp_path: Path) -> None:
    picture = load_image(write(rgba_picture(), tmp_path / "source.png"))
    edited = Image.new("RGB", picture.size, BLUE)
    again = load_image(save_picture(picture, tmp_path / "edited.png", rgb=edited))
    assert again.rgb.getpixel((10, 10)) == BLUE
    assert np.array_equal(np.asarray(again.alpha), np.asarray(picture.alpha))
    with pytest.raises(ValueError, match="size"):
        save_picture(picture, tmp_path / "bad.png", rgb=Image.new("RGB", (3, 3)))


def test_with_alpha(tmp_path: Path) -> None:
    picture = load_image(write(rgba_picture(), tmp_path / "source.png"))
    combined = picture.with_alpha(Image.new("RGB", picture.size, RED))
    assert combined.mode == "RGBA"
    assert combined.getpixel((12, 4)) == (*RED, 100)
    plain = load_image(write(gradient(), tmp_path / "plain.png"))
    assert plain.with_alpha(plain.rgb).mode == "RGB"
    with pytest.raises(ValueError, match="size"):
        picture.with_alpha(Image.new("RGB", (1, 1)))
    with pytest.raises(ValueError, match="RGB"):
        picture.with_alpha(Image.new("L", picture.size))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_icc_round_trip(tmp_path: Path, suffix: str) -> None:
    profile = srgb_profile()
    picture = load_image(write(gradient(), tmp_path / "tagged.png", icc_profile=profile))
    assert picture.icc_profile == profile
    again = load_image(save_picture(picture, tmp_path / f"copy{suffix}"))
    assert again.icc_profile == profile


def test_gray_icc_profile_is_not_kept(tmp_path: Path) -> None:
    path = write(Image.new("L", (4, 4), 50), tmp_path / "gray.png", icc_profile=gray_profile())
    with Image.open(path) as written:
        assert written.info.get("icc_profile") == gray_profile()
    assert load_image(path).icc_profile is None


# --------------------------------------------------------------------------------------------
# Any size, any content


@pytest.mark.parametrize("size", [(1, 1), (4000, 2), (2, 4000), (5000, 3)])
def test_accepts_tiny_and_extreme_shapes(tmp_path: Path, size: tuple[int, int]) -> None:
    picture = load_image(write(Image.new("RGB", size, RED), tmp_path / "odd.png"))
    assert picture.size == size


def test_exactly_at_the_pixel_limit_is_accepted(tmp_path: Path) -> None:
    path = write(Image.new("RGB", (10, 10)), tmp_path / "hundred.png")
    assert load_image(path, max_pixels=100).size == (10, 10)


# --------------------------------------------------------------------------------------------
# Refusals


def reason_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(ImageReadError) as caught:
        load_image(path, **kwargs)  # type: ignore[arg-type]
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert "Traceback" not in str(caught.value)
    return caught.value.reason


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in reason_of(tmp_path / "nope.png")


def test_folder(tmp_path: Path) -> None:
    assert "folder" in reason_of(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert "empty" in reason_of(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    data = (write(noise, tmp_path / f"whole{suffix}")).read_bytes()
    path = tmp_path / f"half{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert "truncated" in reason_of(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert "not a picture" in reason_of(path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a picture\n" * 20)
    assert "not a picture" in reason_of(path)


def test_pickle_named_png(tmp_path: Path) -> None:
    path = tmp_path / "model.png"
    path.write_bytes(pickle.dumps({"weights": list(range(100))}))
    assert "not a picture" in reason_of(path)


def test_eps_is_never_decoded(tmp_path: Path) -> None:
    path = tmp_path / "drawing.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    assert "not a picture" in reason_of(path)


def test_corrupt_png_chunk(tmp_path: Path) -> None:
    data = bytearray(write(gradient(), tmp_path / "ok.png").read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10 : idat + 30] = b"\xff" * 20
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    reason = reason_of(path)
    assert "damaged" in reason or "truncated" in reason


def test_over_the_pixel_limit(tmp_path: Path) -> None:
    path = write(Image.new("RGB", (11, 10)), tmp_path / "big.png")
    reason = reason_of(path, max_pixels=100)
    assert "too large" in reason and "11 x 10" in reason and "100" in reason


def test_max_pixels_must_be_positive(tmp_path: Path) -> None:
    path = write(Image.new("RGB", (2, 2)), tmp_path / "ok.png")
    with pytest.raises(ValueError, match="max_pixels"):
        load_image(path, max_pixels=0)


def png_claiming(tmp_path: Path, width: int, height: int) -> Path:
    """A small real PNG whose IHDR (with a fixed CRC) claims width x height."""
    data = bytearray(write(Image.new("RGB", (8, 8)), tmp_path / "small.png").read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path = tmp_path / f"bomb_{width}x{height}.png"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (12000, 9000)])
def test_bomb_header_fails_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int, height: int
) -> None:
    path = png_claiming(tmp_path, width, height)

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    reason = reason_of(path)
    assert reason.startswith("the picture is too large to open safely: ")
    assert f"{width * height:,} pixels" in reason
    assert "100,000,000" in reason


def test_pil_globals_untouched(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    load_image(write(Image.new("RGB", (3, 3)), tmp_path / "ok.png"), max_pixels=10**9)
    with pytest.raises(ImageReadError):
        load_image(png_claiming(tmp_path, 20000, 20000))
    assert before == Image.MAX_IMAGE_PIXELS


# --------------------------------------------------------------------------------------------
# Writing


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.png", "PNG"), ("b.JPG", "JPEG"), ("c.jpeg", "JPEG"), ("d.WebP", "WEBP")],
)
def test_writes_by_extension_case_insensitive(tmp_path: Path, name: str, fmt: str) -> None:
    path = save_image(gradient(), tmp_path / name)
    assert path == tmp_path / name
    with Image.open(path) as written:
        assert written.format == fmt
        assert written.mode == "RGB"


@pytest.mark.parametrize("name", ["a.gif", "b.tiff", "noextension", "c.png.bak"])
def test_unknown_extension(tmp_path: Path, name: str) -> None:
    with pytest.raises(ImageWriteError) as caught:
        save_image(gradient(), tmp_path / name)
    assert ".png" in caught.value.reason and ".webp" in caught.value.reason
    assert not list(tmp_path.iterdir())


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="folder does not exist"):
        save_image(gradient(), tmp_path / "nope" / "a.png")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions"
)
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ImageWriteError, match="permission denied"):
            save_image(gradient(), folder / "a.png")
    finally:
        folder.chmod(0o755)


def test_permission_error_is_described(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    with pytest.raises(ImageWriteError, match="permission denied"):
        save_image(gradient(), tmp_path / "a.png")


def failing_save(exception: BaseException):  # type: ignore[no-untyped-def]
    """An Image.save that writes some bytes to the stream, then raises ``exception``."""

    def save(self: Image.Image, fp: io.BufferedWriter, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000)
        raise exception

    return save


def test_disk_full_leaves_the_target_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "face.png"
    original = write(Image.new("RGB", (4, 4), RED), target).read_bytes()
    monkeypatch.setattr(
        Image.Image, "save", failing_save(OSError(errno.ENOSPC, "No space left on device"))
    )
    with pytest.raises(ImageWriteError) as caught:
        save_image(gradient(), target)
    assert caught.value.reason == "the disk is full"
    assert target.read_bytes() == original
    assert temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png"]


def test_ctrl_c_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "face.jpg"
    original = write(Image.new("RGB", (4, 4), RED), target).read_bytes()
    monkeypatch.setattr(Image.Image, "save", failing_save(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_image(gradient(), target)
    assert target.read_bytes() == original
    assert temp_files(tmp_path) == []


def test_fsync_failure_is_a_write_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(imageio.os, "fsync", broken_fsync)
    with pytest.raises(ImageWriteError, match="input/output"):
        save_image(gradient(), tmp_path / "a.webp")
    assert list(tmp_path.iterdir()) == []


def test_new_file_gets_normal_permissions(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = save_image(gradient(), tmp_path / "new.png")
    finally:
        os.umask(old_umask)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode != 0o600
    if os.name == "posix":
        assert mode == 0o644


def test_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = write(Image.new("RGB", (2, 2)), tmp_path / "old.png")
    path.chmod(0o640)
    save_image(gradient(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_image(path).size == (32, 24)


def test_target_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "x.png").mkdir()
    with pytest.raises(ImageWriteError, match="folder"):
        save_image(gradient(), tmp_path / "x.png")


def test_save_array_with_array_alpha(tmp_path: Path) -> None:
    pixels = np.zeros((3, 5, 3), np.uint8)
    pixels[..., 1] = 200
    alpha = np.full((3, 5), 128, np.uint8)
    picture = load_image(save_image(pixels, tmp_path / "a.png", alpha=alpha))
    assert picture.rgb.getpixel((0, 0)) == (0, 200, 0)
    assert picture.alpha is not None and picture.alpha.getpixel((4, 2)) == 128


def test_save_rgba_image_keeps_its_alpha(tmp_path: Path) -> None:
    picture = load_image(save_image(rgba_picture(), tmp_path / "a.png"))
    assert picture.alpha is not None and picture.alpha.getpixel((12, 4)) == 100


def test_save_validates_inputs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="alpha"):
        save_image(gradient(), tmp_path / "a.png", alpha=Image.new("L", (1, 1)))
    with pytest.raises(ValueError, match="quality"):
        save_image(gradient(), tmp_path / "a.jpg", quality=0)
    with pytest.raises(ValueError, match="HxWx3"):
        save_image(np.zeros((4, 4), np.uint8), tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def test_jpeg_quality_changes_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    low = save_image(noise, tmp_path / "low.jpg", quality=10).stat().st_size
    high = save_image(noise, tmp_path / "high.jpg", quality=95).stat().st_size
    assert low < high


# --------------------------------------------------------------------------------------------
# Arrays


def test_array_round_trip() -> None:
    array = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    image = from_array(array)
    assert image.mode == "RGB" and image.size == (3, 2)
    back = to_array(image)
    assert back.dtype == np.uint8 and back.shape == (2, 3, 3)
    assert np.array_equal(back, array)
    array[0, 0, 0] = 99
    assert image.getpixel((0, 0))[0] == 0  # from_array copies


def test_array_validation() -> None:
    with pytest.raises(ValueError, match="uint8"):
        from_array(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="HxWx3"):
        from_array(np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(ValueError, match="HxWx3"):
        from_array(np.zeros((0, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="numpy array"):
        from_array([[1, 2, 3]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'RGB'"):
        to_array(Image.new("RGBA", (2, 2)))


def test_picture_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="rgb"):
        Picture(rgb=Image.new("L", (2, 2)), alpha=None, icc_profile=None, path=None,
                source_format="PNG", source_mode="L")  # fmt: skip
    with pytest.raises(ValueError, match="size"):
        Picture(rgb=Image.new("RGB", (2, 2)), alpha=Image.new("L", (3, 3)), icc_profile=None,
                path=None, source_format="PNG", source_mode="RGBA")  # fmt: skip


def test_read_suffixes_name_exactly_the_read_formats():
    Image.init()
    registered = Image.registered_extensions()
    assert {registered[s] for s in imageio.READ_SUFFIXES} <= set(READ_FORMATS)
    assert {s for s, f in registered.items() if f in READ_FORMATS} <= set(imageio.READ_SUFFIXES)
