"""Defaults the command line, the app and the core share, without importing torch.

The command line builds its help texts and the app its settings before torch is loaded
(``import torch`` alone takes about 1.7 s), so the numbers live here, once.
"""

from __future__ import annotations

DEFAULT_STEPS = 30
"""Inversion refinement steps on the latent after the encoder's guess; then
:data:`DEFAULT_TUNE_STEPS` of pivotal tuning. Chosen with ``benchmarks/bench_inversion.py``
on the 64 px default model (40 held-out faces; PSNR, the judge's attribute agreement, edit
success on the inverted faces for hair colour / hair length / eye colour): 100 steps and no
tuning 20.8 dB, 0.932, 0.80 / 0.65 / 0.23; 50 + 50 tuned 24.5 dB, 0.964, 0.80 / 0.65 / 0.20;
30 + 70 tuned 24.9 dB, 0.961, 0.80 / 0.65 / 0.20. On 2 CPU threads (10 faces) 30 + 70 took
4.7 s (5.5 s in the report's run), 30 + 55 4.1 s for 0.7 dB less: the default, with room
under 5 s on a busy machine."""

DEFAULT_TUNE_STEPS = 110
"""Pivotal tuning steps after the latent is found (:func:`nfe_core.inversion.tune`, learning
rate 1e-3, every synthesis layer: tuning only the layers from 16 px up gave 23.9 dB, a
learning rate of 3e-4 22.8 dB, 2e-3 24.8 dB, with no better edits). Its feature loss weighs
0.2 against the pixel loss (:class:`nfe_core.inversion.TuningOptions`): 1.4 dB more than at
1, with edits and attribute agreement as they were. 55 steps were enough from the refined
W+ (26.7 dB on the report's 200 held-out faces, GAN of step 90,051); from its one-w pivot
(``TuningOptions.spread`` 0), which edits like a sampled face, 55 steps gave 24.0 dB and 110
gave 26.3 dB (see the README's inversion section for the edits it buys). Fewer steps with a
higher learning rate fit the picture as well but edit it worse: on 60 held-out faces (model
and encoder as shipped; PSNR, seconds on 2 threads, inverted-face edits summed over seven
attributes) 30 + 110 at 1e-3 gave 26.68 dB, 5.45 s, 4.92; 20 + 90 at 2e-3 26.97 dB, 4.57 s,
4.53 (eye colour 0.70 -> 0.55, blush 0.68 -> 0.55), with the locality weight at 0.1 26.77
dB, 4.42 s, 4.70; 20 + 90 at 1.5e-3 26.64 dB, 4.10 s, 4.75 (eye colour 0.58); 30 + 90 at
1e-3 26.08 dB, 4.52 s, 4.82."""

DEFAULT_TRUNCATION = 0.7
"""How far generated faces are pulled towards the mean face (1: not at all)."""
