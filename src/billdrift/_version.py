"""billdrift's version, in a module of its own so every layer can name it without
importing the package's public face (which sits above them all)."""

__version__ = "0.1.0"
