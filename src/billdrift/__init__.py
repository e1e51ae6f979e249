"""billdrift: does the access your app grants match what your billing provider says?"""

__version__ = "0.1.0"
