"""Token & Credit Usage Dashboard for ComusThumbz licence holders."""

__version__ = "0.1.0"
