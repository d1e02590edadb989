"""TRKV support hub: settings and the `trkv` command line."""

__version__ = "0.1.0"
