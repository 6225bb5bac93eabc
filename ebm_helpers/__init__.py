"""ebm_helpers: the tested helper package of the ebm-notebooks teaching collection.

One module per concept (see DESIGN.md §2): ``config`` (fast mode, seeds, device), ``energies``
(toy densities, Boltzmann statistics, Ising model), ``samplers`` (MCMC), ``metrics`` (MMD,
energy distance, TV/KL, AUROC, calibration), ``plotting`` (the figure style), ``widgets``
(interactive explorers), ``data`` (offline datasets), ``hopfield`` (Hopfield networks),
``boltzmann_machine`` (tiny fully connected Boltzmann machines by exact enumeration), ``rbm``
(Bernoulli RBMs and CD-k/PCD training), ``partition`` (exact enumeration and annealed
importance sampling), ``sklearn`` (a scikit-learn ``BernoulliRBM`` drop-in) with ``pcd_cpu``
(its float32 CPU training loop), ``dbn`` (deep
belief networks: greedy stacking, fine-tuning, generation), ``cf`` (softmax RBMs for ratings,
with baselines), ``ebm`` (neural energies trained with short-run Langevin and a replay buffer;
JEM), ``score`` (score matching and annealed Langevin), ``diffusion`` (DDPM/DDIM),
``anomaly`` (anomaly scores, baselines and thresholds), ``energy_learning`` (LeCun's loss
functionals, inference by minimisation, latent free energies), ``ssl`` (joint-embedding
self-supervised learning, collapse measures, a toy I-JEPA, linear probes), ``quantum``
(quantum Boltzmann machines by exact diagonalisation) and ``density`` (tractable density
models for binary data: independent Bernoulli, mixture of Bernoullis, MADE).
Notebooks import these modules; importing the package changes no global state.
"""

__version__ = "0.1.0"
