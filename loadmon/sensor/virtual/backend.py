"""Provides a bleak backend on Bumble's in-process virtual link (no kernel Bluetooth needed).

`VirtualRadio.current()` holds one `bumble.link.LocalLink` per event loop with a central
`Device`; emulated sensors join the same link. `VirtualBleakScanner` and `VirtualBleakClient`
are bleak backend classes: pass them as `backend=` to `BleakScanner` / `BleakClient` (or to
bleak-retry-connector's `establish_connection`) and the rest of the code uses plain bleak.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, cast

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import att, core
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

#: The ATT MTU the virtual central asks for (what BlueZ and Android request).
CENTRAL_MTU = 517

_PROPS = {
    0x02: "read",
    0x04: "write-without-response",
    0x08: "write",
    0x10: "notify",
    0x20: "indicate",
}


def uuid_str(u: core.UUID) -> str:
    """A bumble UUID as bleak's lower-case 128-bit string."""
    h = u.to_bytes(force_128=True)[::-1].hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class VirtualRadio:
    """The virtual air of one event loop: a LocalLink, a central, and the emulated sensors."""

    _by_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, VirtualRadio]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self._addresses = itertools.count(1)
        self._central: Device | None = None
        self._central_lock = asyncio.Lock()
        self._scanners = 0
        self._transport: Any = None
        self.peripherals: list[Any] = []

    @classmethod
    def current(cls) -> VirtualRadio:
        loop = asyncio.get_running_loop()
        radio = cls._by_loop.get(loop)
        if radio is None:
            radio = cls._by_loop[loop] = cls()
        return radio

    def new_device(self, name: str) -> Device:
        """A bumble Device with its own controller on this link (static random address)."""
        n = next(self._addresses)
        addr = f"C0:4C:00:00:{n >> 8 & 0xFF:02X}:{n & 0xFF:02X}"
        ctrl = Controller(name, link=self.link, public_address=addr)
        return Device(name=name, address=Address(addr), host=Host(ctrl, AsyncPipeSink(ctrl)))

    async def central(self) -> Device:
        async with self._central_lock:
            if self._central is None:
                if self._transport is not None:
                    t = self._transport
                    dev = Device(
                        name="loadmon-central",
                        address=Address("C0:4C:00:00:FF:FE"),
                        host=Host(t.source, t.sink),
                    )
                else:
                    dev = self.new_device("loadmon-central")
                await dev.power_on()
                self._central = dev
            return self._central

    async def use_hci_transport(self, spec: str) -> None:
        """Drive the central over an HCI transport (e.g. `tcp-client:127.0.0.1:9001`) whose
        controller lives in another process (`serve_central`), as a real radio chip would."""
        from bumble.transport import open_transport

        self._transport = await open_transport(spec)

    async def serve_central(self, spec: str) -> Any:
        """Put a controller for a remote central on this link, reachable over `spec`
        (e.g. `tcp-server:127.0.0.1:9001`); returns the transport (close it when done)."""
        from bumble.transport import open_transport

        transport = await open_transport(spec)
        Controller(
            "remote-central",
            host_source=transport.source,
            host_sink=transport.sink,
            link=self.link,
            public_address="C0:4C:00:00:FF:FE",
        )
        return transport

    async def start_scanning(self) -> Device:
        dev = await self.central()
        self._scanners += 1
        if not dev.scanning:
            await dev.start_scanning(active=True, filter_duplicates=False)
        return dev

    async def stop_scanning(self) -> None:
        self._scanners = max(0, self._scanners - 1)
        dev = self._central
        if dev is not None and self._scanners == 0 and dev.scanning:
            await dev.stop_scanning()

    def find_address(self, address: str) -> Address | None:
        for p in self.peripherals:
            if p.address_string.lower() == address.lower():
                return p.device.random_address  # type: ignore[no-any-return]
        return None


class VirtualBleakScanner(BaseBleakScanner):
    """bleak scanner backend listening on the virtual link."""

    def __init__(
        self,
        detection_callback: Callable[..., Any] | None,
        service_uuids: list[str] | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio: VirtualRadio | None = None
        self._central: Device | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._radio = VirtualRadio.current()
        self._central = await self._radio.central()
        self._central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._radio.start_scanning()

    async def stop(self) -> None:
        if self._central is not None:
            self._central.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        if self._radio is not None:
            await self._radio.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = adv.data
        name = data.get(core.AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            core.AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids: list[str] = []
        for kind in (
            core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            core.AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            for u in data.get(kind) or []:
                uuids.append(uuid_str(u))
        if not self.is_allowed_uuid(uuids):
            return
        ad = AdvertisementData(
            local_name=str(name) if name else None,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=int(adv.rssi),
            platform_data=(adv,),
        )
        address = adv.address.to_string(False)
        device = self.create_or_update_device(
            address, address, ad.local_name, {"virtual_address": adv.address}, ad
        )
        self.call_detection_callbacks(device, ad)


class VirtualBleakClient(BaseBleakClient):
    """bleak client backend: a bumble central connection + GATT client on the virtual link."""

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=float(kwargs.get("timeout", 10.0)),
        )
        self._device_name: str | None = None
        self._target: Address | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._device_name = address_or_ble_device.name
            details = address_or_ble_device.details
            if isinstance(details, dict):
                self._target = details.get("virtual_address")
        self._conn: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False
        self._subscriptions: dict[int, Callable[[Any], None]] = {}
        #: The ATT MTU to ask for (tests pass `virtual_mtu=23` to play an old phone).
        self._want_mtu = int(kwargs.get("virtual_mtu", CENTRAL_MTU))

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return int(self._conn.att_mtu) if self._conn is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        radio = VirtualRadio.current()
        central = await radio.central()
        target = self._target or radio.find_address(self.address)
        if target is None:
            raise BleakDeviceNotFoundError(
                self.address,
                f"Device with address {self.address} was not found on the virtual radio",
            )
        timeout = float(kwargs.get("timeout", self._timeout))
        try:
            conn = await central.connect(target, timeout=timeout)
        except core.TimeoutError:
            raise TimeoutError(f"virtual connection to {self.address} timed out") from None
        except (core.BaseBumbleError, att.ATT_Error) as e:
            raise BleakError(f"virtual connection to {self.address} failed: {e}") from None
        self._conn = conn
        self._closing = False
        conn.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            self._peer = Peer(conn)
            if self._want_mtu > 23:
                await self._peer.request_mtu(self._want_mtu)
            self.services = await self._discover(self._peer)
        except Exception:
            await self.disconnect()
            raise

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        coll = BleakGATTServiceCollection()
        for sp in await peer.discover_services():
            svc = BleakGATTService(sp, sp.handle, uuid_str(sp.uuid))
            coll.add_service(svc)
            for cp in await sp.discover_characteristics():
                props = [name for bit, name in _PROPS.items() if int(cp.properties) & bit]
                ch = BleakGATTCharacteristic(
                    cp, cp.handle, uuid_str(cp.uuid), cast(Any, props), self._max_wwr, svc
                )
                coll.add_characteristic(ch)
                for dp in await cp.discover_descriptors():
                    coll.add_descriptor(BleakGATTDescriptor(dp, dp.handle, uuid_str(dp.type), ch))
        return coll

    def _max_wwr(self) -> int:
        return self.mtu_size - 3

    def _on_disconnection(self, reason: int) -> None:
        unsolicited = not self._closing
        self._conn = None
        self._peer = None
        self._subscriptions.clear()
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        conn = self._conn
        if conn is None:
            return
        self._closing = True
        with contextlib.suppress(core.BaseBumbleError, asyncio.TimeoutError):
            await conn.disconnect()
        self._conn = None
        self._peer = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    def _need_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._need_peer()
        try:
            return bytearray(await characteristic.obj.read_value())
        except att.ATT_Error as e:
            raise BleakError(f"read of {characteristic.uuid} failed: {e}") from None

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        self._need_peer()
        return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._need_peer()
        try:
            await characteristic.obj.write_value(bytes(data), with_response=response)
        except att.ATT_Error as e:
            raise BleakError(
                f"write to {characteristic.uuid} failed: ATT error {e.error_code:#04x}"
            ) from None

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._need_peer()
        await descriptor.obj.write_value(bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._need_peer()

        def on_value(value: Any) -> None:
            callback(bytearray(value))

        self._subscriptions[characteristic.handle] = on_value
        await peer.gatt_client.subscribe(characteristic.obj, on_value, prefer_notify=True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._need_peer()
        sub = self._subscriptions.pop(characteristic.handle, None)
        await peer.gatt_client.unsubscribe(characteristic.obj, sub)
