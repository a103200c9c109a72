"""Take the README's screenshots of the app: ``python scripts/app_screenshots.py [--out DIR]``.

Drives the real window (offscreen unless a display is set; xvfb-run gives the platform's
own fonts and style) with the bundled default model, as a user would:

1. ``app_window.png``: generate a face, set its hair to blue and lengthen it, split view;
2. ``app_inverted.png``: open a picture (a procedural face drawn at 512 px on a larger
   page, so the face box is a part of it), invert it with the app's default number of
   steps, set hair to pink and eyes to green, split view.

The face box is set where the face is, as the user would draw it.

Settings live in a temporary file: the user's own are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (1400, 860)  # the window, in logical pixels
SEED = 7
PICTURE = (1280, 960)  # the opened picture: a face drawn at FACE px on a plain page
FACE = 512
FACE_AT = (264, 264)  # where the face is on the page (the box the user draws around it)


def make_picture(path: Path, seed: int = 3, background: tuple[int, int, int] | None = None) -> Path:
    """A PNG the size of a small illustration: a procedural face on a plain page; with
    ``background``, the face drawn on that plain colour and the page of it too."""
    from PIL import Image

    from training.synth.params import face_rng, sample_face
    from training.synth.render import render_face

    plain = {} if background is None else {"background": "plain",
                                           "background_rgb": (background, background)}  # fmt: skip
    face = render_face(sample_face(face_rng(seed, 0), hair_color="brown", **plain), FACE).image
    page = Image.new("RGB", PICTURE, background or (238, 233, 226))
    page.paste(face, FACE_AT)
    page.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--model", type=Path, help="a bundle instead of the default model")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from nfe_core.facebox import default_box
    from nfe_core.session import EditState
    from nfe_desktop.main_window import MainWindow
    from nfe_desktop.self_test import SelfTest, failures_reported_to
    from nfe_desktop.settings import Settings

    app = QApplication.instance() or QApplication(["nfe-desktop"])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nfe-screenshots-") as temp:
        folder = Path(temp)
        settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, model_path=args.model)
        window.resize(*SIZE)
        driver = SelfTest(window, folder, sys.stdout, timeout_s=300)

        def edit(state: EditState) -> None:
            """One edit, as one slider drag or swatch click: one history entry."""
            driver.wait("render", [window.rendered], lambda: window.request_state(state))

        with failures_reported_to(driver):
            try:
                window.show()
                if window.model_info() is None:
                    driver.wait("model", [window.model_loaded])
                driver.wait(
                    "generated face",
                    [window.face_changed, window.rendered],
                    lambda: window.generate(SEED, 1.0),
                    starts_worker=True,
                )
                edit(window.session.state.with_target("hair_color", "blue"))
                edit(window.session.state.with_strength("hair_length", 1.5))
                window.canvas.set_compare_mode("split")
                app.processEvents()
                window.grab().save(str(args.out / "app_window.png"))
                print(f"wrote {args.out / 'app_window.png'}: {window.session.state}")

                picture = make_picture(folder / "picture.png")
                worker = window.open_path(picture, ask=False)
                if worker is None:
                    raise RuntimeError(f"the window did not open {picture}")
                # the face box goes around the face the model finds, as the picture opens
                driver.wait("opened picture, face found", [worker.finished, window.face_found])
                if window.session.box is None or window.session.box == default_box(*PICTURE):
                    raise RuntimeError(f"no face found in {picture}")
                print(f"found the face at {window.session.box} (drawn at {FACE_AT}, {FACE} px)")
                driver.wait(
                    "inversion",
                    [window.face_changed, window.rendered],
                    window.invert,
                    starts_worker=True,
                )
                edit(window.session.state.with_target("hair_color", "pink"))
                edit(window.session.state.with_target("eye_color", "green"))
                window.canvas.set_compare_mode("split")
                window.canvas.set_split_position((FACE_AT[0] + FACE / 2) / PICTURE[0])
                app.processEvents()
                window.grab().save(str(args.out / "app_inverted.png"))
                print(f"wrote {args.out / 'app_inverted.png'}: {window.session.state}")
            finally:
                window.discard_changes()
                window.close()
                window.deleteLater()
    return 0


if __name__ == "__main__":
    sys.exit(main())
