"""Shared pytest setup."""

import os

# Keras 3 runs on the torch backend here (TensorFlow is not a dependency).
os.environ.setdefault("KERAS_BACKEND", "torch")
