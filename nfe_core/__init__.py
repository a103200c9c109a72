"""Neural Face Editor core: models, bundle I/O, editing, inversion, images; never Qt."""

__version__ = "0.1.0"
