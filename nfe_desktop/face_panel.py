"""The face panel: invert the picture's face, or generate one; the model's view of the face.

Three parts, top to bottom: *Your picture* (draw the face box, Invert with a progress bar
and Cancel), *Generate* (the :class:`~nfe_desktop.generate_panel.GeneratePanel`), and
*The model's face* (the reconstruction beside the edited face, at the model's resolution,
enlarged with crisp pixels). The panel holds no state of the editor: the window tells it
what to show and listens to its signals.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nfe_desktop.generate_panel import GeneratePanel

THUMBNAIL = 128
"""Side of the face thumbnails in logical pixels."""


class FaceThumbnail(QLabel):
    """A face enlarged to a fixed square with nearest-neighbour pixels, and a caption."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.setFixedSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("QLabel { background: #2b2b2b; color: #a0a0a0; border-radius: 3px; }")
        self._image: QImage | None = None
        self.set_image(None)

    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: the caption's placeholder)."""
        self._image = image
        if image is None or image.isNull():
            self.setPixmap(QPixmap())
            self.setText("—")
            return
        ratio = self.devicePixelRatioF()
        side = round(THUMBNAIL * ratio)
        scaled = image.scaled(
            side,
            side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation
            if image.width() * 2 <= side
            else Qt.TransformationMode.SmoothTransformation,
        )
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(ratio)
        self.setPixmap(pixmap)


class FacePanel(QDockWidget):
    """The left dock: invert, generate, and the model's face."""

    invert_requested = Signal()
    cancel_requested = Signal()
    box_editing_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Face", parent)
        self.setObjectName("faceDock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)

        picture_box = QGroupBox("Your picture", body)
        picture_layout = QVBoxLayout(picture_box)
        self.hint = QLabel(
            "Open a picture: the square goes around the face (move it, or draw another),"
            " then press Invert."
        )
        self.hint.setWordWrap(True)
        self.hint.setObjectName("faceHint")
        self.box_button = QPushButton("Draw Face Box", picture_box)
        self.box_button.setCheckable(True)
        self.box_button.setToolTip("Drag on the picture to draw the square the model inverts")
        self.box_button.toggled.connect(self.box_editing_toggled)
        self.invert_button = QPushButton("Invert", picture_box)
        self.invert_button.setObjectName("invertButton")
        self.invert_button.setToolTip("Find the model's version of the face in the box (Ctrl+I)")
        self.invert_button.clicked.connect(self.invert_requested)
        self.cancel_button = QPushButton("Cancel", picture_box)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar(picture_box)
        self.progress.setTextVisible(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.box_button)
        buttons.addWidget(self.invert_button)
        picture_layout.addWidget(self.hint)
        picture_layout.addLayout(buttons)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        picture_layout.addLayout(progress_row)
        layout.addWidget(picture_box)

        generate_box = QGroupBox("Generate a face", body)
        generate_layout = QVBoxLayout(generate_box)
        self.generate = GeneratePanel(generate_box)
        generate_layout.addWidget(self.generate)
        layout.addWidget(generate_box)

        faces_box = QGroupBox("The model's face", body)
        grid = QGridLayout(faces_box)
        self.reconstruction = FaceThumbnail("Reconstruction", faces_box)
        self.edited = FaceThumbnail("Edited", faces_box)
        for column, thumb in enumerate((self.reconstruction, self.edited)):
            grid.addWidget(thumb, 0, column, Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(thumb.caption, faces_box)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(caption, 1, column)
        self.seen = QLabel("", faces_box)
        self.seen.setObjectName("modelSees")
        self.seen.setWordWrap(True)
        self.seen.setToolTip("What the model's attribute classifier sees in the edited face")
        grid.addWidget(self.seen, 2, 0, 1, 2)
        layout.addWidget(faces_box)
        layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setMinimumWidth(
            body.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setWidget(scroll)
        self.set_inverting(False)
        self.set_can_invert(False, "Open a picture first.")

    def set_can_invert(self, can: bool, why_not: str = "") -> None:
        """Enable Invert, or disable it with the reason as its tooltip."""
        self.invert_button.setEnabled(can)
        self.box_button.setEnabled(can or why_not.startswith("This model"))
        self.invert_button.setToolTip(
            "Find the model's version of the face in the box (Ctrl+I)" if can else why_not
        )

    def set_inverting(self, running: bool) -> None:
        """Show the progress bar and Cancel while an inversion runs."""
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.invert_button.setVisible(not running)
        self.box_button.setVisible(not running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first step reports

    def set_progress(self, step: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(step)
        self.progress.setFormat(f"Step {step} of {total}")

    def set_faces(self, reconstruction: QImage | None, edited: QImage | None) -> None:
        """Show the model's reconstruction and the edited face (None: placeholders)."""
        self.reconstruction.set_image(reconstruction)
        self.edited.set_image(edited)

    def set_seen(self, text: str) -> None:
        self.seen.setText(text)
