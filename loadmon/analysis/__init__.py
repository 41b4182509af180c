"""Provides the detectors: samples → posture, sitting bouts, bridges, holds, RDLs, hops, sets."""
