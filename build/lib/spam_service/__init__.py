"""Spam/ham SMS classification service."""

__version__ = "0.1.0"
