"""infradex: the living overview of a volunteer-run organisation's infrastructure."""

__version__ = "0.1.0"
__all__ = ["__version__"]
