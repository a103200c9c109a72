"""Help > About: the app's name and versions, the loaded model and its quality figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox, QWidget

from nfe_core import __version__
from nfe_core.edits import attribute_title

if TYPE_CHECKING:
    from nfe_core.edits import attribute_title
from nfe_desktop.tasks import LoadedModel

APP_TITLE = "Neural Face Editor"


def _format_figure(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


_FIGURES = {
    "edit_success": "Edit success",
    "preservation": "Preservation",
    "classifier_accuracy": "Classifier accuracy",
    "frechet_distance": "Fréchet distance",
    "frechet_floor": "Fréchet floor (real vs real)",
    "precision": "Precision",
    "recall": "Recall",
    "psnr_db_hybrid": "Inversion PSNR (dB)",
    "attribute_agreement": "Inversion attribute agreement",
    "seconds_cpu": "Inversion seconds (CPU)",
}


def quality_html(report: dict[str, Any] | None) -> str:
    """The model's headline quality figures as an HTML table (Help > About)."""
    if not report:
        return "<p>This model has no quality report (<code>nfe-train report</code>).</p>"
    rows = []
    for key in ("edit_success", "preservation", "classifier_accuracy"):
        figures = report.get(key)
        if isinstance(figures, dict) and figures:
            text = ", ".join(
                f"{attribute_title(k).lower()} {_format_figure(v)}" for k, v in figures.items()
            )
            rows.append((_FIGURES[key], text))
    for key in ("frechet_distance", "frechet_floor", "precision", "recall"):
        if key in report:
            rows.append((_FIGURES[key], _format_figure(report[key])))
    inversion = report.get("inversion")
    if isinstance(inversion, dict):
        for key in ("psnr_db_hybrid", "attribute_agreement", "seconds_cpu"):
            if key in inversion:
                rows.append((_FIGURES[key], _format_figure(inversion[key])))
    body = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return f"<table cellspacing='4'>{body}</table>"


def about_html(model: LoadedModel | None) -> str:
    """The About box's text: versions, the model (None: no model loaded) and its figures."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    versions = {"NFE": __version__, "Qt": qVersion(), "PySide6": pyside_version}
    model_html = "<p>No model is loaded.</p>"
    if model is not None:
        versions.update(model.versions)
        info = model.info
        model_html = (
            f"<p><b>Model:</b> {info.name} — {info.description}<br>"
            f"{info.resolution} px, {len(info.attributes)} attributes, on {info.device}<br>"
            f"<small>{info.path}</small></p>{quality_html(info.report)}"
        )
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (
        f"<h3>{APP_TITLE} {__version__}</h3>"
        "<p>Edit anime faces with StyleGAN2 and attribute sliders, offline, on your own "
        f"machine.</p><p><small>{version_text}</small></p>{model_html}"
    )


def show_about(parent: QWidget, model: LoadedModel | None) -> None:
    """Show the About box over ``parent``."""
    QMessageBox.about(parent, f"About {APP_TITLE}", about_html(model))
