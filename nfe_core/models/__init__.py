"""Neural networks: StyleGAN2 generator and discriminator (later: encoder, classifier)."""

from nfe_core.models.rosinality import CheckpointError, ImportedGenerator, import_rosinality
from nfe_core.models.stylegan2 import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)

__all__ = [
    "CheckpointError",
    "Discriminator",
    "DiscriminatorConfig",
    "Generator",
    "GeneratorConfig",
    "ImportedGenerator",
    "import_rosinality",
]
