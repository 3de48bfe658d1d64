"""apiforge: a production kit for FastAPI services, a reference shop built on it, and the
bench that measures both."""

__version__ = "0.1.0"
