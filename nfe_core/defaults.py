"""Defaults the command line, the app and the core share, without importing torch.

The command line builds its help texts and the app its settings before torch is loaded
(``import torch`` alone takes about 1.7 s), so the numbers live here, once.
"""

from __future__ import annotations

DEFAULT_STEPS = 60
"""Inversion refinement steps after the encoder: the best quality that fits about a second
on 2 CPU cores with the interim model (see ``benchmarks/bench_inversion.py``)."""

DEFAULT_TRUNCATION = 0.7
"""How far generated faces are pulled towards the mean face (1: not at all)."""
