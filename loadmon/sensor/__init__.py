"""Provides BLE acquisition (the only package that imports bleak); submodules load lazily.

`loadmon.sensor.stream` streams decoded samples from a sensor, `loadmon.sensor.record` stores
them, `loadmon.sensor.scan` finds sensors, and `loadmon.sensor.virtual` emulates them.
"""
