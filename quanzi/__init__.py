"""Quanzi (圈子): an open-source social e-commerce engine."""

__version__ = "0.1.0"
