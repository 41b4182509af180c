"""Provides `python -m loadmon`, the same as the `loadmon` command."""

from loadmon.cli import main

main()
