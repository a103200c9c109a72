"""An sRGB ICC profile for the tests' pictures."""

from functools import cache

from PIL import ImageCms


@cache
def srgb_profile() -> bytes:
    """One sRGB profile per test run.

    LittleCMS stamps each profile it builds with the time, so two profiles built a second apart
    differ in their header; caching makes every test compare against the bytes it wrote.
    """
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
