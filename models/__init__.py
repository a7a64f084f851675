"""Tiny generative models trained end to end: data, VAE, GAN, score model, figures.

Nothing is imported or computed here; import the submodules (``models.data``, ``models.vae``,
...) directly.
"""
