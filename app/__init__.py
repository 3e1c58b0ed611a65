"""tieout: financial-statement PDFs to verified, structured data."""

__version__ = "0.1.0"
