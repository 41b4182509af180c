"""Provides the dashboard's reusable widgets: load gauges, trend chart, alert list, rep counter."""
