"""Provides the dashboard's screens: today, trend, sessions, live, patient, log entry, help."""
