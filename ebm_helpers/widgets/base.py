"""The explorer pattern shared by every widget of the collection.

An explorer has two layers: a pure figure function (parameter values in, a Figure out, no
hidden state), which unit tests and the static figures call, and ``explorer``, the thin
ipywidgets layer that wires controls to it.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plotting import figure_to_png


def explorer(
    figure_fn: Callable[..., Figure],
    controls: dict[str, widgets.ValueWidget],
    css_class: str | None = None,
    dpi: int = 80,
) -> widgets.VBox:
    """Wire controls to a pure figure function; return the explorer widget.

    Whenever a control's value changes, ``figure_fn(**{name: control.value})`` is called and
    its PNG replaces the image. The returned ``VBox`` has a ``refresh()`` attribute that redraws
    on demand, and ``image`` and ``controls`` attributes for tests.

    Args:
        figure_fn: pure function of the control values returning a ``Figure``.
        controls: keyword name -> ipywidgets control (slider, dropdown, ...).
        css_class: an extra CSS class for the box (e.g. ``"ebm-temperature-explorer"``).
        dpi: resolution of the rendered PNG.
    """
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    image.add_class("ebm-explorer-image")
    status = widgets.HTML()

    def refresh(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        try:
            image.value = figure_to_png(figure_fn(**values), dpi=dpi)
            status.value = ""
        except ValueError as err:  # bad combination of values: say so instead of a traceback
            status.value = f"<span style='color:#b00'>{err}</span>"

    for control in controls.values():
        control.observe(refresh, names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values())), status, image])
    box.add_class("ebm-explorer")
    if css_class:
        box.add_class(css_class)
    box.refresh, box.image, box.controls = refresh, image, controls
    refresh()
    return box
