"""Interactive explorers, built in two layers so they can be tested without a browser.

1. A **pure figure function**: parameter values in, a ``matplotlib.figure.Figure`` out, with no
   hidden state (e.g. ``temperature_figure(landscape, temperature)``). Unit tests call it
   directly; notebooks also call it for the static figure shown beside each widget, so the
   lesson survives where widgets do not render (static HTML, slides, a PDF handout).
2. A **thin ipywidgets layer** built on ``base.explorer``: controls whose values are passed to
   the figure function. The CSS classes (``ebm-explorer``, ``ebm-explorer-image``, plus one per
   control) let browser tests find them. Every explorer here is *live* (``base.explorer``'s
   ``live=(build, update)``): it builds its figure once and moves the artists in place, and the
   pure function is that same ``build``, so the sliders can follow the mouse
   (``continuous_update=True``); ``tests/test_widgets_live.py`` checks that the two agree.

One module per explorer; this package re-exports every public name, so notebooks keep writing
``from ebm_helpers import widgets`` and ``widgets.temperature_explorer(...)``.

| module | explorer | notebook |
|---|---|---|
| ``temperature`` | temperature slider on 1D/2D landscapes | 01 |
| ``hopfield_recall`` | recall of a corrupted pattern, step by step | 02 |
| ``gibbs_chain`` | block-Gibbs chain viewer | 03 |
| ``contrastive_divergence`` | k / learning-rate explorer with the exact LL curve | 04 |
| ``langevin`` | Langevin trajectories on a toy landscape | 07 |
| ``noise_level`` | perturbed density and score field against σ | 08 |
| ``diffusion_time`` | forward and reverse diffusion at time t | 09 |
| ``threshold`` | anomaly threshold at a target false-positive rate | 11 |
| ``free_energy`` | free energy F_β of a latent-variable EBM against β | 12 |
| ``transverse_field`` | a quantum Boltzmann machine's P_v and ⟨σˣ⟩ against Γ and β | 14 |
"""

from .base import explorer
from .contrastive_divergence import *  # noqa: F403
from .contrastive_divergence import __all__ as _cd
from .diffusion_time import *  # noqa: F403
from .diffusion_time import __all__ as _diffusion
from .free_energy import *  # noqa: F403
from .free_energy import __all__ as _free_energy
from .gibbs_chain import *  # noqa: F403
from .gibbs_chain import __all__ as _gibbs
from .hopfield_recall import *  # noqa: F403
from .hopfield_recall import __all__ as _hopfield
from .langevin import *  # noqa: F403
from .langevin import __all__ as _langevin
from .noise_level import *  # noqa: F403
from .noise_level import __all__ as _noise
from .temperature import *  # noqa: F403
from .temperature import __all__ as _temperature
from .threshold import *  # noqa: F403
from .threshold import __all__ as _threshold
from .transverse_field import *  # noqa: F403
from .transverse_field import __all__ as _transverse_field

__all__ = ["explorer", *_temperature, *_hopfield, *_gibbs, *_cd, *_langevin, *_noise,
           *_diffusion, *_threshold, *_free_energy, *_transverse_field]
