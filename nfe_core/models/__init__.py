"""Neural networks: StyleGAN2 generator and discriminator (later: encoder, classifier)."""
