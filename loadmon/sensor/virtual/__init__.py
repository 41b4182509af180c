"""Provides virtual sensors: a bleak backend on Bumble's in-process link plus emulated GATT servers.

Use `VirtualRadio` (one per event loop) to add emulated sensors, then pass
`backend=VirtualBleakScanner` / `backend=VirtualBleakClient` to the real bleak API.
"""
