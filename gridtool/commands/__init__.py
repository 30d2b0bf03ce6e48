"""Sub-commands of the ``gridtool`` command line, one module each.

Each module has ``register(subparsers)`` which adds its parser(s) and sets
``func`` (called with the parsed arguments; returns the exit code).
"""
