"""Provides the PMD control-point dialogue (polar-ble-sdk's BlePMDClient): SDK mode, start, stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bleak import BleakClient

from loadmon.errors import DeviceError
from loadmon.profiles import DeviceProfile
from loadmon.sensor.dialogue import Session
from loadmon.sensor.families.polar_pmd import decode as pmd
from loadmon.sensor.stream import StreamOptions

#: Seconds to wait for a control-point reply.
CP_TIMEOUT_S = 5.0


class PolarSession(Session):
    """The PMD control-point dialogue, as polar-ble-sdk's BlePMDClient holds it.

    Whether this session switched SDK mode on survives reconnects (the sensor keeps it: the
    mode is the device's, not the link's), so it is stopped at close however many times the
    link dropped. A start answered ALREADY_IN_STATE (the measurement survived a drop) is
    stopped and started again so the FACTOR is known. Replies are matched to their request
    by opcode and measurement type; unsolicited "measurement stopped" indications (`01 …`)
    are recorded in `stopped_by_sensor`.
    """

    #: Whether this session switched the sensor to SDK mode (to stop it again at close).
    sdk = False

    def __init__(self, profile: DeviceProfile, opts: StreamOptions) -> None:
        super().__init__(profile, opts)
        # FACTOR comes from the start response (none → 1.0, as the SDK), not the profile.
        self.settings = replace(self.settings, acc_factor=None, gyro_factor=None)
        #: Measurement types the sensor said it stopped by itself (indications `01 types…`).
        self.stopped_by_sensor: list[int] = []
        #: Replies that answered no pending request (stale, or for another command).
        self.unmatched_replies = 0
        self.started: frozenset[int] = frozenset()

    def storage_steps(self) -> tuple[float, float]:
        """FACTOR in g for 0x80 frames; whole mG when no FACTOR came (raw and 0x81 frames)."""
        from loadmon import storage

        acc = self.settings.acc_factor if self.settings.acc_factor is not None else 0.001
        gyro = self.settings.gyro_factor or storage.DEFAULT_GYRO_SCALE_DPS
        return acc, gyro

    def _on_control(self, data: bytes) -> None:
        if data[:1] == bytes([pmd.OP_GET_SETTINGS]):
            # `01 <type…>`: the sensor stopped these online measurements by itself.
            self.stopped_by_sensor.extend(b & 0x3F for b in data[1:])
            return
        self.control.put_nowait(data)

    async def start(self, client: BleakClient, on_data: Callable[[Any, bytearray], None]) -> None:
        g, p = self.profile.gatt, self.profile.params
        self.control = asyncio.Queue()
        # Both subscriptions before the first control-point write (as the SDK insists).
        await client.start_notify(g.control, lambda _c, d: self._on_control(bytes(d)))
        await client.start_notify(g.data, on_data)
        features = pmd.parse_features(bytes(await client.read_gatt_char(g.control)))
        types = [(int(p["acc_type"]), "ACC", self.settings.acc_range)]
        if self.use_gyro:
            types.append((int(p["gyro_type"]), "GYRO", self.settings.gyro_range))
        factors: dict[int, float | None] = {}
        for mtype, label, rng in types:
            offered = await self._offered(client, mtype)
            if not self._fits(offered, rng) and "SDK_MODE" in features:
                # Rates and ranges beyond the defaults need SDK mode (SdkModeExplained.md).
                # After a reconnect it may still be on: ALREADY_IN_STATE is then success.
                await self._command(client, bytes([pmd.OP_START, pmd.SDK_MODE]), "SDK mode",
                                    ok=(0, 6))
                self.sdk = True
                offered = await self._offered(client, mtype)
            rates = [int(r) for r in offered.get(pmd.SAMPLE_RATE, [])]
            ranges = [int(r) for r in offered.get(pmd.RANGE, [])]
            if rates and self.rate not in rates:
                raise DeviceError(
                    f"{self.profile.name} offers {label} at {rates} Hz, not {self.rate} Hz"
                )
            if ranges and rng not in ranges:
                raise DeviceError(
                    f"{self.profile.name} offers {label} ranges {ranges}, not ±{rng}"
                )
            req = {pmd.SAMPLE_RATE: self.rate, pmd.RESOLUTION: int(p["resolution_bits"])}
            req[pmd.RANGE] = int(rng or 0)
            if pmd.CHANNELS in offered:
                req[pmd.CHANNELS] = int(p["channels"])
            start_req = pmd.build_start_request(mtype, req)
            resp = await self._command(client, start_req, label, ok=(0, 6))
            if resp.status == 6:
                # Still running from before a drop: restart it to learn its FACTOR.
                await self._command(client, pmd.build_stop_request(mtype), label)
                resp = await self._command(client, start_req, label)
            factors[mtype] = pmd.start_factor(resp)
        self.started = frozenset(t for t, _, _ in types)
        self.settings = replace(
            self.settings,
            acc_factor=factors.get(int(p["acc_type"])),
            gyro_factor=factors.get(int(p.get("gyro_type", -1))),
            started=self.started,
        )

    async def _offered(self, client: BleakClient, mtype: int) -> dict[int, list[float]]:
        resp = await self._command(client, pmd.build_settings_request(mtype))
        return pmd.parse_settings(resp.params)

    def _fits(self, offered: dict[int, list[float]], rng: int | None) -> bool:
        rates = [int(r) for r in offered.get(pmd.SAMPLE_RATE, [])]
        ranges = [int(r) for r in offered.get(pmd.RANGE, [])]
        return (not rates or self.rate in rates) and (not ranges or rng in ranges)

    async def _command(
        self, client: BleakClient, req: bytes, label: str = "", ok: tuple[int, ...] = (0,)
    ) -> pmd.CpResponse:
        """Write `req` and wait for the reply with its opcode and measurement type."""
        await client.write_gatt_char(self.profile.gatt.control, req, response=True)
        params = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CP_TIMEOUT_S
        while True:
            try:
                raw = await asyncio.wait_for(self.control.get(), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise DeviceError(
                    f"{self.profile.name} did not answer control-point command {req.hex(' ')}"
                ) from None
            if raw[:1] != b"\xf0":
                continue
            resp = pmd.parse_cp_response(raw)
            if resp.opcode != req[0] or resp.measurement_type != req[1] & 0x3F:
                self.unmatched_replies += 1  # a late reply to an earlier request
                params = b""
                continue
            params += resp.params
            if not resp.more:
                break
        if resp.status not in ok:
            what = {1: "settings request", 2: "start", 3: "stop"}.get(req[0], "command")
            mname = pmd.MEASUREMENT_TYPES.get(req[1] & 0x3F, str(req[1])).replace("_", " ")
            hint = " (the link's ATT MTU is below 232)" if resp.status == 10 else ""
            raise DeviceError(
                f"{self.profile.name} refused {mname} {what}: control-point error "
                f"{resp.status} {resp.status_name}{hint}"
            )
        return pmd.CpResponse(resp.opcode, resp.measurement_type, resp.status, False, params)

    async def stop(self, client: BleakClient) -> None:
        """Stop what was started and, if this session switched it on, SDK mode (`03 09`)."""
        types = sorted(self.started) + ([pmd.SDK_MODE] if self.sdk else [])
        for mtype in types:
            with contextlib.suppress(Exception):
                await self._command(client, pmd.build_stop_request(mtype), ok=(0, 6))
        self.started = frozenset()


Dialogue = PolarSession
