"""regtui: watch PyTorch regularization and normalization experiments in the terminal."""

__version__ = "0.1.0"
