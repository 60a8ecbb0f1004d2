"""Test-session setup shared by every test module."""

import os

# Keras 3 is a peer in these tests, always through its torch backend.
os.environ.setdefault("KERAS_BACKEND", "torch")
