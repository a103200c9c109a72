"""Defaults the command line, the app and the core share, without importing torch.

The command line builds its help texts and the app its settings before torch is loaded
(``import torch`` alone takes about 1.7 s), so the numbers live here, once.
"""

from __future__ import annotations

DEFAULT_STEPS = 100
"""Inversion refinement steps after the encoder: the best quality that fits a few seconds on
2 CPU cores with the 64 px default model (``benchmarks/bench_inversion.py``, 20 held-out
faces: 60 steps 18.0 dB, 100 steps 19.1 dB, 150 steps 19.5 dB, at about 32 ms a step)."""

DEFAULT_TUNE_STEPS = 100
"""Pivotal tuning steps after the latent is found (:func:`nfe_core.inversion.tune`)."""

DEFAULT_TRUNCATION = 0.7
"""How far generated faces are pulled towards the mean face (1: not at all)."""
