"""A learner's mistakes across the whole public API: every one fails early and clearly.

Each case below is one wrong or extreme input, as a learner would make it (issue 17): a NumPy
generator or an int where a ``torch.Generator`` is expected, an int where a model is expected, a
string where a number is expected, ``device="gpu"``, bounds where bins are expected, values out of
range, and work that could not finish (exact enumeration over both layers, n×m distance matrices,
huge grids, buffers, sample counts and capacity experiments). Each must raise the stated error
type with a message that names the problem (the regex), and the error must be raised by the
package itself, not from deep inside torch or NumPy (the innermost traceback frame lies in
``ebm_helpers``). Wrong *kinds* of argument raise ``ArgumentTypeError``, which is both a
``TypeError`` and a ``ValueError``.

Also here: what used to fail deep inside torch now works (float64 NumPy data into float32
networks, half precision into the metrics), the scikit-learn drop-in's warnings, and closed forms
at extreme temperatures (no ``ZeroDivisionError``/``OverflowError``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from ebm_helpers import (
    anomaly,
    boltzmann_machine,
    cf,
    config,
    data,
    dbn,
    diffusion,
    ebm,
    energies,
    hopfield,
    metrics,
    partition,
    plotting,
    rbm,
    samplers,
    score,
    widgets,
)
from ebm_helpers._validation import ArgumentTypeError
from ebm_helpers.sklearn import BernoulliRBM

PACKAGE = Path(__file__).resolve().parents[1] / "ebm_helpers"
NP_RNG = np.random.default_rng(0)


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# Small objects the cases share (cheap to build; nothing below trains for long).
X2 = torch.randn(16, 2, generator=_g(1))
Y2 = torch.randn(16, 2, generator=_g(2))
BIN = (torch.rand(40, 6, generator=_g(3)) < 0.5).float()
SMALL_RBM = rbm.RBM(6, 3, generator=_g(4))
LABELS = torch.arange(40) % 3
CLF = dbn.random_classifier([6, 4], 3, generator=_g(5))
BM = boltzmann_machine.random_params(3, 2, _g(6))
BM_DATA = (torch.rand(8, 3, generator=_g(7)) < 0.5).double()
HOP = hopfield.random_patterns(2, 9, _g(8))
HOP_W = hopfield.hebbian_weights(HOP)
RATINGS = cf.synthetic_ratings(n_users=20, n_items=8, seed=0).train
SOFTMAX = cf.SoftmaxRBM(8, 4, generator=_g(9))
ENERGY_NET = ebm.MLPEnergy(2, (8,), generator=_g(10))
CLASSIFIER = ebm.MLPClassifier(2, 3, (8,), generator=_g(11))
SCORE_NET = score.ScoreNet(2, 8, 1, generator=_g(12))
NCSN = score.NoiseConditionalScoreNet(2, 8, 1, generator=_g(13))
SCHEDULE = diffusion.linear_beta_schedule(50)
TIME_MLP = diffusion.TimeMLP(2, 8, 1, generator=_g(14))
AE = anomaly.Autoencoder(2, (4,), 1, generator=_g(15))
MIX = energies.eight_gaussians()
BOX = ((-3.0, 3.0), (-3.0, 3.0))
ISING = energies.IsingModel(3)
SPINS = ISING.random_spins(4, _g(16))


def _quadratic(x):
    return (x**2).sum(1)


def _no_cuda(fn):
    return fn if not torch.cuda.is_available() else (lambda: (_ for _ in ()).throw(
        ValueError("no CUDA GPU (skipped: this machine has one)")))


GENERATOR = r"must be a torch\.Generator"
MEMORY = r"would need about .* of memory.*shrink"
COST = r"would take about .* multiply-adds.*shrink"

# (id, call, error type, regex the message must match)
CASES = [
    # ---- config ---------------------------------------------------------------------------
    ("config-device-gpu", lambda: config.device("gpu"), ValueError, r"unknown device 'gpu'.*cuda"),
    ("config-device-cuda", _no_cuda(lambda: config.device("cuda")), ValueError, "no CUDA GPU"),
    ("config-device-int", lambda: config.device(3), ValueError, "device must be a name"),
    ("config-seed-negative", lambda: config.seed_everything(-1), ValueError, "seed"),
    ("config-threads-string", lambda: config.set_torch_threads("many"), ValueError,
     "whole number"),
    # ---- energies ---------------------------------------------------------------------------
    ("stats-zero-temperature", lambda: energies.boltzmann_stats_discrete([0, 1], 0), ValueError,
     "temperature T"),
    ("stats-string-energies", lambda: energies.boltzmann_stats_discrete(["low"], 1.0), ValueError,
     "energies must be"),
    ("stats-degeneracy-shape", lambda: energies.boltzmann_stats_discrete([0, 1], 1, [1]),
     ValueError, "degeneracy"),
    ("stats1d-not-callable", lambda: energies.boltzmann_stats_1d(5), ArgumentTypeError,
     "energy_fn must be"),
    ("stats1d-tiny-temperature",
     lambda: energies.boltzmann_stats_1d(energies.DoubleWell1D().raw_energy, 1e-200), ValueError,
     "too narrow for quadrature"),
    ("stats1d-bounds-number", lambda: energies.boltzmann_stats_1d(_quadratic, 1.0, bounds=5),
     ValueError, "bounds must be"),
    ("doublewell-string-tilt", lambda: energies.DoubleWell1D(tilt="left"), ValueError, "tilt"),
    ("mixture-stds-count", lambda: energies.GaussianMixture([[0, 0], [1, 1]], [0.1, 0.2, 0.3]),
     ValueError, "one per component"),
    ("mixture-string-means", lambda: energies.GaussianMixture([["a", "b"]]), ValueError,
     "means must be numbers"),
    ("mixture-infinite-weight", lambda: energies.GaussianMixture([[0, 0]], weights=[np.inf]),
     ValueError, "weights"),
    ("rings-infinite-radius", lambda: energies.Rings(radii=[np.inf]), ValueError, "radii"),
    ("sample-numpy-generator", lambda: MIX.sample(10, NP_RNG), ArgumentTypeError,
     GENERATOR + ".*NumPy"),
    ("sample-int-generator", lambda: MIX.sample(10, 42), ArgumentTypeError, "the integer 42"),
    ("sample-huge-n", lambda: MIX.sample(10**11), ValueError, MEMORY + " n"),
    ("sample-float-n", lambda: MIX.sample(10.0), ValueError, "n must be a whole number"),
    ("checkerboard-score", lambda: energies.Checkerboard().score(X2), ValueError,
     "piecewise constant"),
    ("ising-string-coupling", lambda: energies.IsingModel(3, J="strong"), ValueError, "J must"),
    ("ising-huge-lattice", lambda: energies.IsingModel(100_000), ValueError, MEMORY + " L"),
    ("ising-field-shape", lambda: ISING.local_field(torch.ones(2, 5)), ValueError,
     "9 feature"),
    ("ising-enumerate-large", lambda: energies.IsingModel(5).all_states(), ValueError,
     "Monte Carlo"),
    ("moons-tiny-std", lambda: energies.TwoMoons(std=1e-9), ValueError, MEMORY + ".*larger std"),
    ("density-by-number", lambda: energies.get_density(5), ValueError, "unknown density"),
    # ---- samplers ---------------------------------------------------------------------------
    ("langevin-int-energy", lambda: samplers.langevin(5, X2, 3, 0.1), ArgumentTypeError,
     "energy must be a function"),
    ("langevin-numpy-generator", lambda: samplers.langevin(_quadratic, X2, 3, 0.1,
                                                           generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("langevin-detached-energy",
     lambda: samplers.langevin(lambda x: _quadratic(x).detach(), X2, 3, 0.1), ValueError,
     "not differentiable"),
    ("langevin-checkerboard", lambda: samplers.langevin(energies.Checkerboard().energy, X2, 3,
                                                        0.1), ValueError, "not differentiable"),
    ("langevin-string-step", lambda: samplers.langevin(_quadratic, X2, 3, "big"), ValueError,
     "step_size must be a positive number"),
    ("langevin-huge-trace", lambda: samplers.langevin(_quadratic, X2, 10**9, 0.1,
                                                      return_trace=True),
     ValueError, MEMORY + ".*thin"),
    ("langevin-clip-number", lambda: samplers.langevin(_quadratic, X2, 3, 0.1, clip=5),
     ValueError, "clip must be"),
    ("metropolis-int-points", lambda: samplers.metropolis(_quadratic, X2.int(), 3, 0.1),
     ValueError, "floating-point"),
    ("mala-zero-temperature", lambda: samplers.mala(_quadratic, X2, 3, 0.1, temperature=0),
     ValueError, "temperature"),
    ("ising-sweeps-int-model", lambda: samplers.ising_sweeps(5, SPINS, 1, 1.0),
     ArgumentTypeError, "IsingModel"),
    ("ising-sweeps-record-string", lambda: samplers.ising_sweeps(ISING, SPINS, 1, 1.0,
                                                                 record_every="often"),
     ValueError, "record_every"),
    ("ising-sweeps-method", lambda: samplers.ising_sweeps(ISING, SPINS, 1, 1.0, method="heat"),
     ValueError, "method must be one of"),
    # ---- metrics ----------------------------------------------------------------------------
    ("mmd-huge-samples", lambda: metrics.mmd(torch.zeros(200_000, 2), torch.ones(200_000, 2)),
     ValueError, COST + " the samples"),
    ("energy-distance-huge", lambda: metrics.energy_distance(torch.zeros(200_000, 2),
                                                             torch.ones(200_000, 2)),
     ValueError, COST),
    ("mmd-string-bandwidth", lambda: metrics.mmd(X2, Y2, bandwidth="wide"), ValueError,
     "bandwidth"),
    ("energy-distance-features", lambda: metrics.energy_distance(X2, torch.zeros(4, 3)),
     ValueError, "feature"),
    ("median-bandwidth-max-points", lambda: metrics.median_bandwidth(X2, Y2, 10**6), ValueError,
     MEMORY + " max_points"),
    ("histogram-swapped", lambda: metrics.histogram_probs(X2, 40, BOX), ValueError, "swapped"),
    ("histogram-huge-bins", lambda: metrics.histogram_probs(X2, BOX, 100_000), ValueError,
     MEMORY + " bins"),
    ("histogram-reversed-bounds", lambda: metrics.histogram_probs(X2, ((3, -3), (-3, 3))),
     ValueError, "low < high"),
    ("cell-probs-not-callable", lambda: metrics.cell_probs(5, BOX), ArgumentTypeError,
     "log_prob must be"),
    ("cell-probs-wrong-shape", lambda: metrics.cell_probs(lambda p: torch.zeros(3), BOX, 4),
     ValueError, "log_prob must map"),
    ("cell-probs-nan", lambda: metrics.cell_probs(
        lambda p: torch.full((p.shape[0],), math.nan), BOX, 4), ValueError, "returned NaN"),
    ("cell-probs-huge-grid", lambda: metrics.cell_probs(MIX.log_prob, BOX, 2000, sub=8),
     ValueError, MEMORY + " bins or sub"),
    ("ece-labels-outside-columns", lambda: metrics.expected_calibration_error(
        torch.full((4, 3), 1 / 3), torch.tensor([0, 1, 5, 2])), ValueError,
     r"class indices 0\.\.2"),
    ("ece-fractional-labels", lambda: metrics.expected_calibration_error(
        torch.full((2, 2), 0.5), torch.tensor([0.5, 1.0])), ValueError,
     "integer class indices"),
    ("auroc-label-two", lambda: metrics.auroc([0.1, 0.2], [0, 2]), ValueError, "0 .normal"),
    ("tv-shapes", lambda: metrics.total_variation([1, 2], [1, 2, 3]), ValueError, "same shape"),
    # ---- plotting ---------------------------------------------------------------------------
    ("grid-huge-n", lambda: plotting.grid_2d(BOX, 10**6), ValueError, MEMORY + " n"),
    ("grid-bounds-number", lambda: plotting.grid_2d(5), ValueError, "bounds must be"),
    ("image-grid-zero-columns", lambda: plotting.image_grid(torch.zeros(2, 4), (2, 2), 0),
     ValueError, "ncols"),
    ("field-wrong-shape", lambda: plotting.plot_field_2d(lambda p: torch.zeros(3), BOX, n=10),
     ValueError, "must map"),
    ("field-clip-quantile", lambda: plotting.plot_field_2d(_quadratic, BOX, n=10,
                                                           clip_quantile=2),
     ValueError, "clip_quantile"),
    ("plot-curve-lengths", lambda: plotting.plot_energy_1d(torch.zeros(5), torch.zeros(4)),
     ValueError, "same length"),
    ("png-of-an-int", lambda: plotting.figure_to_png(5), ArgumentTypeError, "Figure"),
    # ---- data -------------------------------------------------------------------------------
    ("digits-string-test-size", lambda: data.load_digits(test_size="a fifth"), ValueError,
     "test_size"),
    ("digits-threshold-above-one", lambda: data.load_digits(binarize=True, threshold=8),
     ValueError, "threshold"),
    ("toy-int-generator", lambda: data.toy_2d("rings", 10, generator=0), ArgumentTypeError,
     GENERATOR),
    ("toy-unknown-name", lambda: data.toy_2d(5, 10), ValueError, "unknown 2D toy density"),
    # ---- hopfield ---------------------------------------------------------------------------
    ("hebb-zero-one-bits", lambda: hopfield.hebbian_weights([[0, 1], [1, 0]]), ValueError,
     r"0/1 bits.*2 \* patterns - 1"),
    ("hopfield-huge-patterns", lambda: hopfield.random_patterns(10**6, 10**6), ValueError,
     MEMORY),
    ("hopfield-numpy-generator", lambda: hopfield.random_patterns(2, 3, NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("hopfield-corrupt-fraction", lambda: hopfield.corrupt(HOP, 1.5), ValueError, "fraction"),
    ("hopfield-order", lambda: hopfield.recall(HOP_W, HOP, order="backwards"), ValueError,
     "order"),
    ("hopfield-zero-temperature", lambda: hopfield.stochastic_recall(HOP_W, HOP, 5, 0),
     ValueError, r"temperature.*recall\(\)"),
    ("hopfield-huge-trace", lambda: hopfield.recall(HOP_W, HOP, n_sweeps=10**8,
                                                    return_trace=True),
     ValueError, MEMORY + " n_sweeps"),
    ("capacity-memory", lambda: hopfield.capacity_curve(10_000, [0.1], 10), ValueError,
     MEMORY + " n_units or n_trials"),
    ("capacity-cost", lambda: hopfield.capacity_curve(1000, np.linspace(0.05, 0.3, 30), 20),
     ValueError, COST + " n_units, n_trials"),
    ("hopfield-non-square", lambda: hopfield.energy(torch.zeros(3, 4), HOP[0]), ValueError,
     "square"),
    ("hopfield-string-bias", lambda: hopfield.energy(HOP_W, HOP, b=["x"] * 9), ValueError,
     "b must be"),
    # ---- boltzmann_machine ------------------------------------------------------------------
    ("bm-too-many-units", lambda: boltzmann_machine.random_params(30, 0), ValueError,
     "exact enumeration is limited"),
    ("bm-int-generator", lambda: boltzmann_machine.random_params(3, 2, 5), ArgumentTypeError,
     GENERATOR),
    ("bm-string-scale", lambda: boltzmann_machine.random_params(3, 2, scale="big"), ValueError,
     "scale"),
    ("bm-int-params", lambda: boltzmann_machine.log_partition(5), ArgumentTypeError,
     "BMParams"),
    ("bm-states-two", lambda: boltzmann_machine.energy(BM, [[2, 0, 0, 0, 0]]), ValueError,
     "only 0 and 1"),
    ("bm-states-plus-minus", lambda: boltzmann_machine.energy(BM, [[1, -1, 1, -1, 1]]),
     ValueError, r"\(x \+ 1\) / 2"),
    ("bm-train-cost", lambda: boltzmann_machine.train_exact(BM, BM_DATA, 10**9), ValueError,
     COST + " n_steps"),
    ("bm-train-progress", lambda: boltzmann_machine.train_exact(BM, BM_DATA, 2, progress=3),
     ArgumentTypeError, "progress"),
    ("bm-states-stop", lambda: boltzmann_machine.all_states(3, stop=100), ValueError,
     "stop must be at most"),
    ("bm-gibbs-generator", lambda: boltzmann_machine.gibbs_sample(BM, torch.zeros(2, 5), 1,
                                                                  NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("bm-asymmetric", lambda: boltzmann_machine.log_partition(boltzmann_machine.BMParams(
        torch.triu(torch.ones(3, 3), 1), torch.zeros(3), 2)), ValueError, "symmetric"),
    # ---- partition --------------------------------------------------------------------------
    ("logz-both-layers", lambda: partition.log_partition_exact(rbm.RBM(784, 25)), ValueError,
     COST + r".*ais_log_partition"),
    ("logz-method-both-layers", lambda: rbm.RBM(784, 25).log_partition(), ValueError,
     r"2\^25 hidden states against 784 visible"),
    ("logz-int-rbm", lambda: partition.log_partition_exact(5), ArgumentTypeError,
     "rbm must be"),
    ("logz-differentiable-memory", lambda: partition.log_partition_exact(
        rbm.RBM(64, 22), differentiable=True), ValueError, MEMORY + ".*differentiable=False"),
    ("ais-width-zero", lambda: partition.ais_betas(100, width=0), ValueError,
     "width.*divide 0 by 0"),
    ("ais-width-saturated", lambda: partition.ais_betas(100, width=1e4), ValueError,
     "saturates"),
    ("ais-schedule", lambda: partition.ais_betas(100, "cosine"), ValueError,
     "schedule must be one of"),
    ("ais-generator", lambda: partition.ais_log_partition(SMALL_RBM, 10, 10, generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("binary-states-huge", lambda: partition.binary_states(40), ValueError, MEMORY + " n_units"),
    ("binary-states-gpu", lambda: partition.binary_states(3, device="gpu"), ValueError,
     "unknown device 'gpu'"),
    ("exact-gradient-shape", lambda: partition.exact_gradient(SMALL_RBM, [[1.0, 0.0]]),
     ValueError, "6 feature"),
    # ---- rbm --------------------------------------------------------------------------------
    ("rbm-numpy-generator", lambda: rbm.RBM(6, 3, generator=NP_RNG), ArgumentTypeError,
     GENERATOR),
    ("rbm-device-gpu", lambda: rbm.RBM(6, 3, device="gpu"), ValueError, "unknown device 'gpu'"),
    ("rbm-device-cuda", _no_cuda(lambda: rbm.RBM(6, 3, device="cuda")), ValueError,
     "no CUDA GPU"),
    ("rbm-int-dtype", lambda: rbm.RBM(6, 3, dtype=torch.int32), ArgumentTypeError, "dtype"),
    ("rbm-string-init-std", lambda: rbm.RBM(6, 3, init_std="small"), ValueError, "init_std"),
    ("rbm-huge", lambda: rbm.RBM(10**6, 10**4), ValueError, MEMORY + " n_visible or n_hidden"),
    ("train-rbm-int-model", lambda: rbm.train_rbm(5, BIN), ArgumentTypeError, "rbm must be"),
    ("train-rbm-pixels", lambda: rbm.train_rbm(rbm.RBM(6, 3), BIN * 16, epochs=1), ValueError,
     r"\[0, 1\].*rescale"),
    ("train-rbm-string-momentum", lambda: rbm.train_rbm(rbm.RBM(6, 3), BIN, momentum="high"),
     ValueError, "momentum"),
    ("train-rbm-lr-schedule", lambda: rbm.train_rbm(rbm.RBM(6, 3), BIN, lr_schedule="cosine"),
     ValueError, "lr_schedule must be one of"),
    ("train-rbm-velocity", lambda: rbm.train_rbm(rbm.RBM(6, 3), BIN, velocity=(1, 2, 3)),
     ValueError, "velocity"),
    ("rbm-log-z-string", lambda: SMALL_RBM.log_likelihood(BIN, log_z="big"), ValueError,
     "log_z must be a number"),
    ("rbm-sample-huge", lambda: SMALL_RBM.sample(10**9), ValueError, MEMORY + " n_samples"),
    ("cd-step-momentum", lambda: rbm.cd_step(rbm.RBM(6, 3), BIN, lr=0.1, momentum=1.5),
     ValueError, r"momentum must be in \[0, 1\)"),
    ("rbm-likelihood-probabilities", lambda: SMALL_RBM.log_likelihood(BIN * 0.5), ValueError,
     "binary"),
    ("base-rate-clip", lambda: rbm.base_rate_log_odds(BIN, clip=0.7), ValueError, "clip"),
    # ---- sklearn ----------------------------------------------------------------------------
    ("sklearn-device-gpu", lambda: BernoulliRBM(2, n_iter=1, device="gpu").fit(BIN.numpy()),
     ValueError, "unknown device 'gpu'"),
    ("sklearn-log-z-string", lambda: BernoulliRBM(2, n_iter=1, random_state=0).fit(
        BIN.numpy()).log_likelihood(BIN.numpy(), log_z="big"), ValueError, "log_z"),
    # ---- dbn --------------------------------------------------------------------------------
    ("dbn-int", lambda: dbn.DBN(5), ArgumentTypeError, "rbms must be a list"),
    ("dbn-pretrain-generator", lambda: dbn.pretrain_dbn([6, 3], BIN, 1, generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("dbn-classifier-gpu", lambda: dbn.random_classifier([6, 3], 3, device="gpu"), ValueError,
     "unknown device 'gpu'"),
    ("dbn-classifier-int-dtype", lambda: dbn.random_classifier([6, 3], 3, dtype=torch.int64),
     ArgumentTypeError, "dtype"),
    ("fine-tune-int-model", lambda: dbn.fine_tune(5, BIN, LABELS), ArgumentTypeError,
     "model must be a torch.nn.Module"),
    ("fine-tune-float-labels", lambda: dbn.fine_tune(CLF, BIN, LABELS.float()), ValueError,
     "integer class labels"),
    ("fine-tune-optimizer", lambda: dbn.fine_tune(CLF, BIN, LABELS, optimizer="rmsprop"),
     ValueError, "optimizer must be one of"),
    ("fine-tune-string-momentum", lambda: dbn.fine_tune(CLF, BIN, LABELS, momentum="high"),
     ValueError, "momentum"),
    ("to-classifier-init", lambda: dbn.to_classifier(dbn.DBN([SMALL_RBM]), 3, init="xavier"),
     ValueError, "init must be one of"),
    ("accuracy-int-model", lambda: dbn.accuracy(5, BIN, LABELS), ArgumentTypeError, "model"),
    # ---- cf ---------------------------------------------------------------------------------
    ("softmax-rbm-generator", lambda: cf.SoftmaxRBM(8, 4, generator=NP_RNG), ArgumentTypeError,
     GENERATOR),
    ("softmax-train-int-model", lambda: cf.train_softmax_rbm(5, RATINGS), ArgumentTypeError,
     "SoftmaxRBM"),
    ("softmax-train-momentum", lambda: cf.train_softmax_rbm(SOFTMAX, RATINGS, momentum=2),
     ValueError, "momentum"),
    ("ratings-huge", lambda: cf.synthetic_ratings(n_users=10**6, n_items=10**5), ValueError,
     MEMORY + " n_users or n_items"),
    ("ratings-string-density", lambda: cf.synthetic_ratings(density="sparse"), ValueError,
     "density"),
    ("softmax-hidden-range", lambda: SOFTMAX.p_v(torch.full((2, 4), 2.0)), ValueError,
     r"\[0, 1\]"),
    ("softmax-zero-smoothing", lambda: cf.SoftmaxRBM(8, 4).init_from_data(RATINGS, smoothing=0),
     ValueError, "smoothing"),
    ("rmse-strings", lambda: cf.rmse([["a"]], [[1]]), ValueError, "pred must be"),
    ("mf-int-generator", lambda: cf.MatrixFactorization(generator=5), ArgumentTypeError,
     GENERATOR),
    ("ratings-out-of-scale", lambda: cf.global_mean(RATINGS * 3), ValueError, r"1\.\.5"),
    # ---- ebm --------------------------------------------------------------------------------
    ("mlp-energy-generator", lambda: ebm.MLPEnergy(2, generator=NP_RNG), ArgumentTypeError,
     GENERATOR),
    ("mlp-energy-int-hidden", lambda: ebm.MLPEnergy(2, hidden=128), ValueError,
     "list of layer widths"),
    ("mlp-energy-shape", lambda: ENERGY_NET(torch.zeros(3, 5)), ValueError, "flatten"),
    ("train-ebm-int-model", lambda: ebm.train_ebm(5, X2, 1), ArgumentTypeError,
     "model must be a torch.nn.Module"),
    ("train-ebm-int-generator", lambda: ebm.train_ebm(ENERGY_NET, X2, 1, generator=1),
     ArgumentTypeError, GENERATOR),
    ("buffer-reinit-prob", lambda: ebm.ReplayBuffer(ebm.uniform_init(-1, 1, 2), 8,
                                                    reinit_prob=2),
     ValueError, "reinit_prob"),
    ("buffer-int-init", lambda: ebm.ReplayBuffer(5), ArgumentTypeError, "init must be"),
    ("buffer-huge", lambda: ebm.ReplayBuffer(ebm.uniform_init(-1, 1, 2), 10**12), ValueError,
     MEMORY + " size"),
    ("train-ebm-int-buffer", lambda: ebm.train_ebm(ENERGY_NET, X2, 1, buffer=5),
     ArgumentTypeError, "buffer must be"),
    ("jem-float-labels", lambda: ebm.train_jem(CLASSIFIER, X2, torch.zeros(16), 1), ValueError,
     "integer"),
    ("contrastive-loss-lists", lambda: ebm.contrastive_loss([1.0], [2.0]), ValueError,
     "e_pos must be"),
    ("class-energy-range", lambda: ebm.class_energy(CLASSIFIER, 3), ValueError,
     r"class y must be in \[0, 3\)"),
    ("uniform-init-string", lambda: ebm.uniform_init("low", 1, 2), ValueError, "low"),
    # ---- score ------------------------------------------------------------------------------
    ("ncsn-sigma-zero", lambda: NCSN(X2, 0.0), ValueError, r"σ = 0 gives NaN"),
    ("ncsn-sigma-negative", lambda: NCSN(X2[:2], torch.tensor([0.1, -1.0])), ValueError,
     "finite number > 0"),
    ("score-net-generator", lambda: score.ScoreNet(generator=NP_RNG), ArgumentTypeError,
     GENERATOR),
    ("train-score-int-model", lambda: score.train_score(5, X2), ArgumentTypeError,
     "model must be a torch.nn.Module"),
    ("train-score-generator", lambda: score.train_score(SCORE_NET, X2, "esm", generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("dsm-sigma-zero", lambda: score.denoising_score_matching_loss(SCORE_NET, X2, 0.0),
     ValueError, r"σ = 0"),
    ("sigmas-swapped", lambda: score.geometric_sigmas(1.0, 2.0, 5), ValueError, "swap"),
    ("esm-int-model", lambda: score.exact_score_matching_loss(5, X2), ArgumentTypeError,
     "score_fn"),
    ("ssm-huge-projections", lambda: score.sliced_score_matching_loss(SCORE_NET, X2, 10**8),
     ValueError, MEMORY + " n_projections"),
    ("mode-fractions-strings", lambda: score.mode_fractions(X2, [["a", "b"]]), ValueError,
     "means must be"),
    # ---- diffusion --------------------------------------------------------------------------
    ("schedule-huge-T", lambda: diffusion.linear_beta_schedule(10**10), ValueError,
     MEMORY + " T"),
    ("schedule-string-beta", lambda: diffusion.linear_beta_schedule(100, beta_start="tiny"),
     ValueError, "beta_start"),
    ("time-mlp-generator", lambda: diffusion.TimeMLP(generator=NP_RNG), ArgumentTypeError,
     GENERATOR),
    ("time-mlp-odd-time-dim", lambda: diffusion.TimeMLP(time_dim=3), ValueError, "even"),
    ("train-ddpm-int-model", lambda: diffusion.train_ddpm(5, X2, SCHEDULE, 1),
     ArgumentTypeError, "model must be a torch.nn.Module"),
    ("ddpm-sample-generator", lambda: diffusion.ddpm_sample(TIME_MLP, SCHEDULE, X2,
                                                            generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("ddpm-sample-int-model", lambda: diffusion.ddpm_sample(5, SCHEDULE, X2),
     ArgumentTypeError, "model must be callable"),
    ("ddpm-huge-trajectory", lambda: diffusion.ddpm_sample(
        TIME_MLP, diffusion.linear_beta_schedule(10**6), torch.zeros(100, 2), trajectory=True),
     ValueError, MEMORY + " the number of samples"),
    ("ddim-too-many-steps", lambda: diffusion.ddim_sample(TIME_MLP, SCHEDULE, X2, n_steps=200),
     ValueError, "at most T"),
    ("q-sample-float-t", lambda: diffusion.q_sample(X2, 1.5, Y2, SCHEDULE), ValueError,
     "integer time step"),
    ("ddpm-loss-int-model", lambda: diffusion.ddpm_loss(5, X2, SCHEDULE), ArgumentTypeError,
     "model must be callable"),
    ("train-ddpm-ema", lambda: diffusion.train_ddpm(TIME_MLP, X2, SCHEDULE, 1, ema_decay=1.5),
     ValueError, "ema_decay"),
    # ---- anomaly ----------------------------------------------------------------------------
    ("autoencoder-generator", lambda: anomaly.Autoencoder(2, generator=NP_RNG),
     ArgumentTypeError, GENERATOR),
    ("autoencoder-int-hidden", lambda: anomaly.Autoencoder(4, hidden=64), ValueError,
     "list of layer widths"),
    ("train-autoencoder-int", lambda: anomaly.train_autoencoder(5, X2), ArgumentTypeError,
     "model must be a torch.nn.Module"),
    ("scores-table-int", lambda: anomaly.scores_table(5, X2, Y2), ArgumentTypeError,
     "scorers must be a dict"),
    ("scores-table-int-scorer", lambda: anomaly.scores_table({"a": 5}, X2, Y2),
     ArgumentTypeError, r"scorers\['a'\]"),
    ("threshold-fpr", lambda: anomaly.threshold_at_fpr([0.1, 0.2], 1.5), ValueError, "fpr"),
    ("scores-strings", lambda: anomaly.to_scores(["high"]), ValueError,
     "vector of numbers"),
    ("gaussian-huge-covariance", lambda: anomaly.fit_gaussian(torch.randn(3, 20_000)),
     ValueError, MEMORY + " the number of features"),
    ("format-table-int", lambda: anomaly.format_table(5), ArgumentTypeError,
     "results must be"),
    ("gaussian-nll-string-cov", lambda: anomaly.gaussian_nll(X2, [0.0, 0.0], "identity"),
     ValueError, "mean and cov"),
    # ---- widgets (entry points) -------------------------------------------------------------
    ("gibbs-figure-float-step", lambda: widgets.gibbs_chain_figure(torch.zeros(3, 2, 4), 1.5,
                                                                   (2, 2)),
     ValueError, "step must be a whole number"),
    ("cd-grid-hidden", lambda: widgets.cd_ll_grid(BIN, BIN, n_hidden=30), ValueError,
     "n_hidden must be at most 25"),
    ("langevin-run-chains", lambda: widgets.langevin_run(n_chains=2.5), ValueError, "n_chains"),
    ("threshold-explorer-fpr", lambda: widgets.threshold_explorer([0.1, 0.2], [0.5], fpr=0.8,
                                                                  max_fpr=0.5),
     ValueError, "fpr must be in"),
    ("noise-figure-sigma", lambda: widgets.noise_level_figure(sigma=0), ValueError, "sigma"),
    ("recall-figure-seed", lambda: widgets.hopfield_recall_figure(HOP, (3, 3), seed=-1),
     ValueError, "seed"),
    ("temperature-figure", lambda: widgets.temperature_figure("double well", -1), ValueError,
     "temperature"),
]


def test_there_are_at_least_a_hundred_cases_covering_every_module():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("call, error, match", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_input_fails_early_and_clearly(call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. the drop-in's warnings on the way to the error
        with pytest.raises(error, match=match) as info:
            call()
    # raised by the package (or the test's own stand-in), not from deep inside torch/NumPy
    origin = Path(str(info.traceback[-1].path)).resolve()
    assert origin.is_relative_to(PACKAGE) or origin == Path(__file__).resolve(), origin


def test_wrong_kinds_are_both_type_and_value_errors():
    with pytest.raises(TypeError):
        rbm.RBM(6, 3, generator=NP_RNG)
    with pytest.raises(ValueError):
        rbm.RBM(6, 3, generator=NP_RNG)


# --------------------------------------------------------------------------------------------
# What used to fail deep inside torch now works: conversion at the boundary
# --------------------------------------------------------------------------------------------


def test_numpy_float64_data_meet_float32_networks():
    x64 = np.random.default_rng(0).normal(size=(32, 2))  # NumPy's default dtype: float64
    assert ENERGY_NET(x64).dtype == torch.float32
    assert CLASSIFIER(x64).shape == (32, 3)
    assert SCORE_NET(torch.as_tensor(x64)).shape == (32, 2)
    assert NCSN(torch.as_tensor(x64), 0.5).shape == (32, 2)
    assert TIME_MLP(torch.as_tensor(x64), torch.ones(32, dtype=torch.long)).shape == (32, 2)
    assert AE(x64).dtype == torch.float32
    assert ebm.ConvEnergy((4, 4), (2, 2), generator=_g(0))(np.zeros((3, 16))).shape == (3,)
    net = ebm.MLPEnergy(2, (8,), generator=_g(1))
    hist = ebm.train_ebm(net, x64, 2, batch_size=8, n_langevin=2, buffer_size=16,
                         generator=_g(2), progress=False, log_every=1)
    assert len(hist["loss"]) == 2
    assert len(ebm.train_jem(ebm.MLPClassifier(2, 3, (8,), generator=_g(3)), x64,
                             np.arange(32) % 3, 2, batch_size=8, n_langevin=1, buffer_size=16,
                             generator=_g(4), progress=False, log_every=1)["loss"]) == 2
    assert len(anomaly.train_autoencoder(anomaly.Autoencoder(2, generator=_g(5)), x64, epochs=1,
                                         generator=_g(6), progress=False)) == 1
    samples = diffusion.ddpm_sample(TIME_MLP, SCHEDULE, torch.as_tensor(x64), _g(7))
    assert samples.shape == (32, 2) and torch.isfinite(samples).all()


def test_half_precision_is_computed_in_float32():
    x, y = X2.half(), Y2.half()
    assert math.isfinite(metrics.mmd(x, y)) and math.isfinite(metrics.energy_distance(x, y))
    chain = samplers.langevin(_quadratic, x, 3, 0.01, generator=_g(0))
    assert chain.x.dtype == torch.float32


# --------------------------------------------------------------------------------------------
# The scikit-learn drop-in keeps scikit-learn's behaviour, but warns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sparse", [False, True])
def test_sklearn_drop_in_warns_on_data_outside_the_unit_interval(sparse):
    x = BIN.numpy().astype(np.float64) * 16  # pixel intensities 0–16, not rescaled
    x = sp.csr_matrix(x) if sparse else x
    with pytest.warns(UserWarning, match=r"values in \[0, 16\].*MinMaxScaler"):
        BernoulliRBM(3, n_iter=1, random_state=0).fit(x)
    with pytest.warns(UserWarning, match="outside|values in"):
        BernoulliRBM(3, random_state=0).partial_fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # data in [0, 1]: no warning
        BernoulliRBM(3, n_iter=1, random_state=0).fit(BIN.numpy())


def test_sklearn_drop_in_warns_once_when_weights_run_away():
    x = BIN.numpy().astype(np.float64)
    with pytest.warns(RuntimeWarning, match=r"diverging: max \|W\|.*learning_rate = 10000"):
        m = BernoulliRBM(3, learning_rate=1e4, n_iter=3, random_state=0).fit(x)
    assert np.isfinite(m.components_).all()  # scikit-learn's behaviour: no exception
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.partial_fit(x)  # already warned for this estimator


# --------------------------------------------------------------------------------------------
# Closed forms at extreme temperatures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1e-320, 1e-300, 1e-200, 1e-5, 1e5, 1e200, 1e300])
def test_discrete_statistics_at_extreme_temperatures(t):
    """No ZeroDivisionError/OverflowError: T² underflows to 0 and overflows to inf in floats."""
    s = energies.boltzmann_stats_discrete([0.0, 1.0, 1.0, 2.0], t)
    assert all(math.isfinite(v) for v in (s.mean_energy, s.entropy, s.heat_capacity,
                                          s.free_energy))
    assert 0 <= s.heat_capacity and 0 <= s.entropy <= math.log(4) + 1e-12
    if t < 1e-3:  # ground state: U = E_0, S = ln g_0, C = 0
        assert s.mean_energy == 0.0 and s.entropy == 0.0 and s.heat_capacity == 0.0
    if t > 1e3:  # uniform: S = ln 4
        assert s.entropy == pytest.approx(math.log(4), abs=1e-4)
    ising = energies.IsingModel(2).exact(t)
    assert all(math.isfinite(v) for k, v in ising.items() if k != "log_z")


@pytest.mark.parametrize("t", [1e-200, 1e-12, 1e12, 1e300])
def test_quadrature_statistics_at_extreme_temperatures_refuse_clearly(t):
    try:
        s = energies.boltzmann_stats_1d(energies.DoubleWell1D().raw_energy, t)
    except ValueError as err:
        assert "too narrow" in str(err) or "integrat" in str(err)
    else:
        assert math.isfinite(s.heat_capacity) and math.isfinite(s.free_energy)


@pytest.mark.parametrize("t", [1e-300, 1e300])
def test_samplers_and_dynamics_at_extreme_temperatures(t):
    x = hopfield.stochastic_recall(HOP_W, HOP, 2, t, _g(0)).s
    assert torch.isin(x, torch.tensor([-1.0, 1.0])).all()
    s = samplers.ising_sweeps(ISING, SPINS, 2, t, _g(1), method="metropolis").x
    assert torch.isin(s, torch.tensor([-1.0, 1.0])).all()
    chain = samplers.metropolis(_quadratic, X2, 5, 0.1, temperature=t, generator=_g(2))
    assert torch.isfinite(chain.x).all()
    p, log_z, entropy = widgets.boltzmann_on_grid(np.linspace(0, 4, 50), t, 0.1)
    assert np.isfinite(p).all() and math.isfinite(entropy) and math.isfinite(log_z)
