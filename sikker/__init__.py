"""sikker: a self-hostable IP reputation and threat-intelligence server."""

__version__ = "0.1.0"
