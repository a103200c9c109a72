"""NFE's shipped resources (icons, the default model bundle), installed as ``nfe_resources``.

Data only: find files through ``nfe_core.resources.resource_path``, never by importing.
"""
