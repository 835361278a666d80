"""Loyalty Gateway: one normalized REST API in front of many loyalty-points providers."""

__version__ = "0.1.0"
