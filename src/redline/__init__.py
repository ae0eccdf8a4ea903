"""redline: a pre-release safety gate for ML models and the applications built on them."""

__version__ = "0.1.0"
