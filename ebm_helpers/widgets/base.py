"""The explorer pattern shared by every widget of the collection.

An explorer has two layers: a pure figure function (parameter values in, a Figure out, no
hidden state), which unit tests and the static figures call, and ``explorer``, the thin
ipywidgets layer that wires controls to it.

For speed an explorer may also be *live*: it builds its figure once and, on a control change,
updates the changing artists in place (line data, image arrays, scatter offsets, titles)
instead of building a new figure. The pure function then returns ``build(...)[0]``, and
``build`` itself draws the dynamic parts by calling ``update``, so the static figure and the
live one share one code path (tests compare the two artist by artist,
see ``figure_content``). A live redraw also skips the layout engine (the layout of the first
draw is kept, so the image does not jump while dragging) and the tight-bounding-box pass of
``savefig`` (the first draw's box is reused), and encodes the PNG with light compression.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..plotting import figure_to_png, new_axes

#: ``build(**values) -> (figure, state)`` and ``update(state, **values) -> bool`` (False: this
#: change needs a new figure, e.g. another landscape was chosen).
Live = tuple[Callable[..., tuple[Figure, Any]], Callable[..., bool]]


class LiveRenderer:
    """PNG bytes of a figure that is redrawn in place many times.

    The first ``render`` draws the whole figure, running its layout engine once, and measures
    the tight bounding box (as ``figure_to_png`` does with the collection's style). Later
    renders blit: the axes' frames (spines, ticks, tick labels, axis labels) are drawn once into
    a background, and each render restores it and draws only the axes' contents (lines,
    images, collections, patches, texts, legends, titles) and the figure's texts. An axes
    whose limits change (a rescaled density, a colour bar after new colour limits) is drawn
    whole every time instead. Titles (of the figure and of its axes, outside the data area) are
    part of the background while they keep their text; one that changes is redrawn from then on
    (text is the most expensive thing to draw). Then the crop is encoded as a lightly
    compressed PNG.
    """

    def __init__(self, fig: Figure, dpi: int):
        self.fig, self.dpi = fig, dpi
        self._crop = None
        self._background = None
        self._limits: dict = {}
        self._whole: set = set()  # axes drawn whole (their limits change)
        self._static: dict = {}  # titles in the background -> what they showed then
        self._changing: set = set()  # titles that changed once: redrawn every time

    def render(self, full: bool = False) -> bytes:
        """The figure's PNG; ``full`` draws everything (no blitting), for tests."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.fig
        if self._crop is None:
            fig.set_dpi(self.dpi)
            FigureCanvasAgg(fig).draw()  # runs the layout engine once
            self._crop = self._tight_crop()
            fig.set_layout_engine("none")  # keep the positions just computed
        elif full:
            fig.canvas.draw()
        else:
            self._blit()
        pixels = np.asarray(fig.canvas.buffer_rgba())[self._crop]
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _tight_crop(self):
        import matplotlib as mpl

        canvas = self.fig.canvas
        width, height = canvas.get_width_height(physical=True)
        x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
        if mpl.rcParams["savefig.bbox"] == "tight":
            pad = mpl.rcParams["savefig.pad_inches"]
            box = self.fig.get_tightbbox(canvas.get_renderer()).padded(pad)
            x0, y0, x1, y1 = (v * self.dpi for v in box.extents)
        # pixel rows count from the top, display y from the bottom
        return (slice(max(0, round(height - y1)), min(height, round(height - y0))),
                slice(max(0, round(x0)), min(width, round(x1))))

    def _titles(self) -> list:
        """The figure's texts and the axes' titles (not those of axes drawn whole)."""
        fig = self.fig
        return [*fig.texts, *(t for ax in fig.axes if ax not in self._whole
                              for t in (ax.title, ax._left_title, ax._right_title))]

    @staticmethod
    def _shows(text) -> tuple:
        return (text.get_text(), tuple(text.get_position()), text.get_visible(),
                str(text.get_color()), text.get_fontsize())

    @staticmethod
    def _contents(ax, spines: bool = False) -> list:
        """The axes' children that a redraw draws (in the axes' own order), without the axis
        (ticks, labels, grid) and the background patch; with ``spines``, the spines too: an
        image would cover them otherwise, as they are drawn above it in a full draw."""
        from matplotlib.axis import Axis
        from matplotlib.spines import Spine

        return [c for c in ax.get_children()
                if not isinstance(c, Axis) and c is not ax.patch
                and (spines or not isinstance(c, Spine))]

    def _blit(self) -> None:
        fig = self.fig
        canvas = fig.canvas
        limits = {ax: (ax.get_xlim(), ax.get_ylim()) for ax in fig.axes}
        moved = {ax for ax, lim in limits.items() if self._limits.get(ax) != lim}
        retitled = {t for t, shown in self._static.items() if self._shows(t) != shown}
        if self._background is None or not moved <= self._whole or retitled:
            self._whole |= moved if self._background is not None else set()
            self._changing |= retitled
            self._make_background()
            self._limits = limits
        canvas.restore_region(self._background)
        static = self._static
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            if ax in self._whole:
                fig.draw_artist(ax)
            else:
                for artist in sorted(self._contents(ax, spines=True), key=lambda a: a.get_zorder()):
                    if artist.get_visible() and artist not in static:
                        fig.draw_artist(artist)
        for text in fig.texts:
            if text.get_visible() and text not in static:
                fig.draw_artist(text)

    def _make_background(self) -> None:
        """Draw the figure without what changes and keep the pixels."""
        fig = self.fig
        self._static = {t: self._shows(t) for t in self._titles() if t not in self._changing}
        hidden = [*fig.texts]
        for ax in fig.axes:
            hidden.extend([ax] if ax in self._whole else self._contents(ax, spines=True))
        shown = [a for a in hidden if a.get_visible() and a not in self._static]
        # a draw re-places the axes' titles from what is visible: keep the full draw's places
        titles = [(t, t.get_position()) for ax in fig.axes
                  for t in (ax.title, ax._left_title, ax._right_title)]
        for artist in shown:
            artist.set_visible(False)
        try:
            fig.canvas.draw()
            self._background = fig.canvas.copy_from_bbox(fig.bbox)
        finally:
            for artist in shown:
                artist.set_visible(True)
            for title, position in titles:
                title.set_position(position)


def panel_grid(n_panels: int, size: tuple[float, float]) -> tuple[Figure, list]:
    """A figure of ``n_panels`` axes, two per row (``size`` per panel); spare axes hidden.

    Used by the ``*_panels`` functions that draw one panel per slider value."""
    ncols = min(2, n_panels)
    nrows = -(-n_panels // ncols)
    fig, axes = new_axes(ncols=ncols, nrows=nrows, size=size)
    axes = list(np.atleast_1d(axes).reshape(-1))
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def explorer(
    figure_fn: Callable[..., Figure],
    controls: dict[str, widgets.ValueWidget],
    css_class: str | None = None,
    dpi: int = 80,
    live: Live | None = None,
) -> widgets.VBox:
    """Wire controls to a pure figure function; return the explorer widget.

    Whenever a control's value changes, ``figure_fn(**{name: control.value})`` is called and
    its PNG replaces the image. With ``live = (build, update)`` the figure is built once by
    ``build`` and later changes call ``update(state, **values)``, which changes the artists in
    place; when it returns False (a change that needs a new figure) ``build`` runs again. The
    returned ``VBox`` has a ``refresh()`` attribute that redraws on demand, and ``image``,
    ``controls``, ``figure`` and ``renderer`` (the current live figure and its
    ``LiveRenderer``, or None) attributes for tests.

    Args:
        figure_fn: pure function of the control values returning a ``Figure``.
        controls: keyword name -> ipywidgets control (slider, dropdown, ...).
        css_class: an extra CSS class for the box (e.g. ``"ebm-temperature-explorer"``).
        dpi: resolution of the rendered PNG.
        live: optional ``(build, update)`` pair for in-place redraws (see the module doc).
    """
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    image.add_class("ebm-explorer-image")
    status = widgets.HTML()
    current: dict[str, Any] = {"renderer": None, "state": None}

    def draw(values: dict) -> bytes:
        if live is None:
            return figure_to_png(figure_fn(**values), dpi=dpi)
        build, update = live
        renderer = current["renderer"]
        if renderer is None or not update(current["state"], **values):
            fig, state = build(**values)
            renderer = LiveRenderer(fig, dpi)
            current["renderer"], current["state"] = renderer, state
            box.figure, box.renderer = fig, renderer
        return renderer.render()

    def refresh(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        try:
            image.value = draw(values)
            status.value = ""
        except ValueError as err:  # bad combination of values: say so instead of a traceback
            # the live figure may be half updated: start from a new one next time
            current["renderer"] = None
            status.value = f"<span style='color:#b00'>{err}</span>"

    for control in controls.values():
        control.observe(refresh, names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values())), status, image])
    box.add_class("ebm-explorer")
    if css_class:
        box.add_class(css_class)
    box.refresh, box.image, box.controls = refresh, image, controls
    box.figure = box.renderer = None
    refresh()
    return box


def figure_content(fig: Figure) -> list:
    """What a figure shows, artist by artist, for comparing a live figure with the pure one.

    Per axes (colour bars included): title, labels, limits, and every line's data, image's
    array and colour limits, collection's offsets (scatter) or paths (contours, fills), patch
    geometry (bars, rectangles) and text; then the figure's title. Colours and layout are not
    included: the live figure keeps its first layout.
    """
    out: list = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out.append(("axes", ax.get_title(), ax.get_title("left"), ax.get_xlabel(),
                    ax.get_ylabel(), _r(ax.get_xlim()), _r(ax.get_ylim())))
        for ln in ax.get_lines():
            if ln.get_visible():
                out.append(("line", ln.get_label(), _r(ln.get_xdata()), _r(ln.get_ydata())))
        for im in ax.get_images():
            if im.get_visible():
                out.append(("image", _r(np.ma.filled(im.get_array(), np.nan)),
                            _r(im.get_clim()), _r(im.get_extent())))
        for col in ax.collections:
            if not col.get_visible():
                continue
            if hasattr(col, "U"):  # quiver: arrow paths are built at draw time, in pixels
                paths = [_r(col.U), _r(col.V)]
            else:
                paths = [_r(p.vertices) for p in col.get_paths()]
            offsets = _r(col.get_offsets()) if len(col.get_offsets()) > 1 else None
            arr = col.get_array()
            out.append(("collection", type(col).__name__, paths, offsets,
                        None if arr is None else _r(np.ma.filled(arr, np.nan))))
        for patch in ax.patches:
            if patch.get_visible():
                out.append(("patch", type(patch).__name__, _r(patch.get_path().vertices),
                            _r(patch.get_patch_transform().get_matrix())))
        for text in ax.texts:
            if text.get_visible():
                out.append(("text", text.get_text(), _r(text.get_position())))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            out.append(("legend", [t.get_text() for t in legend.get_texts()]))
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    out.append(("suptitle", suptitle))
    return out


def _r(values) -> Any:
    """Rounded to 10 decimals, as nested lists (NaN as inf, so that NaN == NaN)."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isnan(arr), np.inf, np.round(arr, 10)).tolist()
