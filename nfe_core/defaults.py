"""Defaults the command line, the app and the core share, without importing torch.

The command line builds its help texts and the app its settings before torch is loaded
(``import torch`` alone takes about 1.7 s), so the numbers live here, once.
"""

from __future__ import annotations

DEFAULT_STEPS = 20
"""Inversion refinement steps on the latent after the encoder's guess; then
:data:`DEFAULT_TUNE_STEPS` of pivotal tuning. With tuning at a one-w pivot (the default),
the steps refine that one w (:func:`nfe_core.inversion.hybrid`). Chosen with
``benchmarks/bench_inversion.py`` on the 64 px default model (GAN of step 90,051), 40
held-out faces; PSNR, the judge's attribute agreement, inverted-face edits summed over seven
attributes, seconds per picture on 2 CPU threads: one-w refinement + tuning 10 + 110 steps
27.05 dB, 0.968, 4.97, 4.86 s; 20 + 100 27.12 dB, 0.971, 5.05, 4.77 s; 20 + 85 (the
default) 26.77 dB, 0.971, 5.12, 4.16 s; 15 + 90 26.73 dB, 0.968, 4.88, 4.48 s; 30 + 75 26.57
dB, 0.964, 4.93, 4.05 s; no refinement + 120 26.42 dB, 0.957, 4.97, 4.20 s. The W+
refinement pulled to its mean afterwards, 30 + 110 steps (the earlier default), gave 26.57
dB, 0.975, 4.88, 5.60 s. Before pivotal tuning (tuning at the refined W+; 40 faces; hair
colour / hair length / eye colour edits): 100 steps and no tuning 20.8 dB, 0.932, 0.80 /
0.65 / 0.23; 50 + 50 tuned 24.5 dB, 0.964, 0.80 / 0.65 / 0.20."""

DEFAULT_TUNE_STEPS = 85
"""Pivotal tuning steps after the latent is found (:func:`nfe_core.inversion.tune`, learning
rate 1e-3, every synthesis layer: tuning only the layers from 16 px up gave 23.9 dB, a
learning rate of 3e-4 22.8 dB, 2e-3 24.8 dB, with no better edits). Its feature loss weighs
0.2 against the pixel loss (:class:`nfe_core.inversion.TuningOptions`): 1.4 dB more than at
1, with edits and attribute agreement as they were. From the mean of a refined W+ (the
one-w pivot, ``TuningOptions.spread`` 0, which edits like a sampled face) 55 steps gave
24.0 dB and 110 26.3 dB; from a refined one w, 85 steps give 26.8 dB (see
:data:`DEFAULT_STEPS`). Fewer steps with a higher learning rate fit the picture as well but
edit it worse: on 60 held-out faces (W+ refinement; PSNR, seconds on 2 threads,
inverted-face edits summed over seven attributes) 30 + 110 at 1e-3 gave 26.68 dB, 5.45 s,
4.92; 20 + 90 at 2e-3 26.97 dB, 4.57 s, 4.53 (eye colour 0.70 -> 0.55, blush 0.68 -> 0.55),
with the locality weight at 0.1 26.77 dB, 4.42 s, 4.70; 20 + 90 at 1.5e-3 26.64 dB, 4.10 s,
4.75 (eye colour 0.58); 30 + 90 at 1e-3 26.08 dB, 4.52 s, 4.82."""

DEFAULT_TRUNCATION = 0.7
"""How far generated faces are pulled towards the mean face (1: not at all)."""
