"""Provides the Textual dashboard (`loadmon tui`); the only package that imports textual."""
