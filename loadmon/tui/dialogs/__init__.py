"""Provides the dashboard's modal dialogs: error and confirm."""
