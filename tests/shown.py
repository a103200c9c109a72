"""What the app shows, as arrays a test can compare."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_array(image: QImage) -> np.ndarray:
    """An H x W x 3 uint8 copy of ``image``'s RGB (the QImage may go away)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    data = np.frombuffer(converted.constBits(), np.uint8)
    rows = data.reshape(height, converted.bytesPerLine())[:, : width * 3]
    return rows.reshape(height, width, 3).copy()
