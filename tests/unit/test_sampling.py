"""Generator output as pictures and back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nfe_core.sampling import images_to_uint8, pixels_to_images


def test_pixels_and_images_are_each_others_inverse():
    images = torch.rand(2, 3, 5, 7) * 2 - 1
    pixels = images_to_uint8(images)
    assert pixels.shape == (2, 5, 7, 3) and pixels.dtype == np.uint8
    back = pixels_to_images(pixels)
    assert back.shape == (2, 3, 5, 7) and back.dtype == torch.float32
    assert (back - images).abs().max() <= 1 / 127.5  # one step of 8 bits at most
    # one picture, a torch tensor, or resampled (float) values alike
    assert torch.equal(pixels_to_images(pixels[1]), back[1:])
    assert torch.equal(pixels_to_images(torch.from_numpy(pixels)), back)
    assert torch.equal(pixels_to_images(pixels.astype(np.float32)), back)
    assert pixels_to_images(np.array([[[0, 255, 127.5]]]))[0, :, 0, 0].tolist() == [-1, 1, 0]
    with pytest.raises(ValueError, match="H, W, 3"):
        pixels_to_images(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="H, W, 3"):
        pixels_to_images(np.zeros((1, 3, 4, 4)))
