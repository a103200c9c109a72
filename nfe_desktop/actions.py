"""The main window's actions, menus and toolbar, made from the window's slots.

:func:`create_actions` sets each action on the window (``window.open_action``,
``window.compare_actions``, ...); :func:`create_menus` then fills the menu bar (and
``window.recent_menu``) and the toolbar with them. What the actions do stays in the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle

if TYPE_CHECKING:
    from nfe_desktop.main_window import MainWindow


def make_action(
    parent: QObject, text: str, slot: Any, shortcut: Any = None, tip: str = ""
) -> QAction:
    """An action of ``parent`` that calls ``slot``, with an optional shortcut and status tip."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    return action


def create_actions(window: MainWindow) -> None:
    """Make the window's actions, with shortcuts and status tips."""

    def action(text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        return make_action(window, text, slot, shortcut, tip)

    keys = QKeySequence.StandardKey
    window.open_action = action(
        "&Open…", window.open_file_dialog, keys.Open, "Open a picture or a project"
    )
    window.save_action = action(
        "&Save", window.save, keys.Save, "Save the work as a project (.nfe)"
    )
    window.save_as_action = action(
        "Save &As…",
        window.save_as_dialog,
        "Ctrl+Shift+S",
        "Save the edited picture (PNG, JPEG, WebP) or the project (.nfe)",
    )
    window.save_face_action = action(
        "Save &Face As…", window.save_face_dialog, None, "Save the edited face alone"
    )
    window.batch_action = action(
        "&Batch Export…",
        window.batch_export_dialog,
        "Ctrl+B",
        "Apply the edits to many pictures",
    )
    window.quit_action = action("&Quit", window.close, "Ctrl+Q")
    window.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    window.undo_action = window.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
    window.redo_action = window.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.reset_action = action(
        "Reset &All Edits", lambda: window.request_state(window.session.state.reset())
    )
    window.preferences_action = action("&Preferences…", window.preferences_dialog, "Ctrl+,")
    window.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)

    window.fit_action = action("&Fit to Window", lambda: window.set_actual_size(False), "Ctrl+0")
    window.actual_size_action = action(
        "&Actual Size", lambda: window.set_actual_size(True), "Ctrl+1"
    )
    for checkable in (window.fit_action, window.actual_size_action):
        checkable.setCheckable(True)
    zoom_group = QActionGroup(window)
    zoom_group.addAction(window.fit_action)
    zoom_group.addAction(window.actual_size_action)
    window.fit_action.setChecked(True)
    canvas = window.canvas
    window.zoom_in_action = action("Zoom &In", canvas.zoom_in, keys.ZoomIn)
    window.zoom_out_action = action("Zoom &Out", canvas.zoom_out, keys.ZoomOut)
    window.compare_actions = {}
    compare_group = QActionGroup(window)
    for mode, text, key in (
        ("after", "Show &Edited", "Ctrl+2"),
        ("before", "Show &Original", "Ctrl+3"),
        ("split", "&Split View", "Ctrl+4"),
    ):
        compare = action(text, lambda _=False, m=mode: canvas.set_compare_mode(m), key)
        compare.setCheckable(True)
        compare_group.addAction(compare)
        window.compare_actions[mode] = compare
    window.compare_actions["after"].setChecked(True)
    window.toggle_before_action = action(
        "&Before/After", window.toggle_before_after, "\\", "Switch between original and edited"
    )

    window.box_action = action("Draw Face &Box", window.face_panel.box_button.toggle, "B")
    window.invert_action = action(
        "&Invert", window.invert, "Ctrl+I", "Find the model's version of the face in the box"
    )
    window.find_face_action = action(
        "&Find Face",
        lambda: window.find_face(),
        "Ctrl+F",
        "Put the face box around the face in the picture",
    )
    window.cancel_action = action("&Cancel", window.cancel_inversion, "Esc")
    window.generate_action = action("&Generate", window.generate_from_panel, "Ctrl+G")
    window.random_action = action("&Random Face", window.generate_random, "Ctrl+R")

    window.open_model_action = action(
        "&Open Bundle…", window.open_model_dialog, None, "Load another model bundle"
    )
    window.default_model_action = action("Use the &Default Model", lambda: window.load_model(None))
    window.about_action = action("&About NFE", window.show_about)
    window.about_action.setMenuRole(QAction.MenuRole.AboutRole)


def create_menus(window: MainWindow) -> None:
    """Fill the window's menu bar and toolbar with the actions of :func:`create_actions`."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.open_action)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    file_menu.addSeparator()
    for action in (window.save_action, window.save_as_action, window.save_face_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(window.batch_action)
    file_menu.addSeparator()
    file_menu.addAction(window.quit_action)

    edit_menu = bar.addMenu("&Edit")
    for action in (window.undo_action, window.redo_action, window.reset_action):
        edit_menu.addAction(action)
    edit_menu.addSeparator()
    edit_menu.addAction(window.preferences_action)

    view_menu = bar.addMenu("&View")
    for action in (window.fit_action, window.actual_size_action):
        view_menu.addAction(action)
    view_menu.addAction(window.zoom_in_action)
    view_menu.addAction(window.zoom_out_action)
    view_menu.addSeparator()
    for action in window.compare_actions.values():
        view_menu.addAction(action)
    view_menu.addAction(window.toggle_before_action)
    view_menu.addSeparator()
    for dock in (window.face_panel, window.attribute_dock, window.history_panel):
        view_menu.addAction(dock.toggleViewAction())

    face_menu = bar.addMenu("F&ace")
    for action in (
        window.box_action,
        window.find_face_action,
        window.invert_action,
        window.cancel_action,
    ):
        face_menu.addAction(action)
    face_menu.addSeparator()
    face_menu.addAction(window.generate_action)
    face_menu.addAction(window.random_action)

    model_menu = bar.addMenu("&Model")
    model_menu.addAction(window.open_model_action)
    model_menu.addAction(window.default_model_action)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(window.about_action)

    style = window.style()
    icons = QStyle.StandardPixmap
    for action, icon in (
        (window.open_action, icons.SP_DialogOpenButton),
        (window.save_action, icons.SP_DialogSaveButton),
        (window.undo_action, icons.SP_ArrowBack),
        (window.redo_action, icons.SP_ArrowForward),
        (window.invert_action, icons.SP_BrowserReload),
    ):
        action.setIcon(style.standardIcon(icon))
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for item in (window.open_action, window.save_action, None, window.undo_action,
                 window.redo_action, None, window.invert_action, None,
                 *window.compare_actions.values(), None, window.fit_action,
                 window.actual_size_action):  # fmt: skip
        if item is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(item)
