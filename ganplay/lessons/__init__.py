"""Lessons built on the rest of ganplay.

`ganplay.lessons.gallery`: the failure gallery, seeded demonstrations of how GANs fail, each with the metric
that shows it and its fix (`python -m ganplay.lessons.gallery` measures them all); `ganplay.lessons.metrics`:
those metrics.
"""
