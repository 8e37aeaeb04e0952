"""The rest of tensorflow's op surface: ``tf.math``, ``tf.nn``, ``tf.image``, ``tf.linalg``, ``tf.signal``, array ops,
segment/scatter/gather families and Keras layers that ``specs`` does not already declare
for several frameworks. Entries only call ``table.op()``; each gives every keyword of its call
a small domain (variants) and each dtype the op accepts.
"""
from __future__ import annotations

from .table import T, V, X, fn, op  # noqa: F401
