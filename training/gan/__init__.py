"""GAN training: losses, the training loop, checkpoints, `nfe-train gan`."""
