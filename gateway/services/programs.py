"""Which programs exist, which a caller may see, and their connectors."""

from __future__ import annotations

from gateway.connectors.base import Connector, capabilities_of
from gateway.connectors.registry import build_connector
from gateway.domain.errors import ProgramNotFound
from gateway.domain.models import PointsValue, ProgramInfo
from gateway.infra.store import Store
from gateway.settings import ClientSettings, Settings


class ProgramDirectory:
    """One connector per configured program, built once at start-up."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.connectors = {p.id: build_connector(p, store) for p in settings.programs}

    async def aclose(self) -> None:
        for connector in self.connectors.values():
            await connector.aclose()

    def connector(self, caller: ClientSettings, program_id: str) -> Connector:
        """The program's connector; a program outside the caller's list does not exist for it."""
        connector = self.find(caller, program_id)
        if connector is None:
            raise ProgramNotFound(f"No program {program_id!r} is available to this client.")
        return connector

    def find(self, caller: ClientSettings, program_id: str) -> Connector | None:
        """``connector``, with None where that raises."""
        if not caller.allows_program(program_id):
            return None
        return self.connectors.get(program_id)

    def visible(self, caller: ClientSettings) -> list[Connector]:
        return [c for pid, c in self.connectors.items() if caller.allows_program(pid)]

    @staticmethod
    def info(connector: Connector) -> ProgramInfo:
        program = connector.program
        caps = capabilities_of(connector)
        value = program.points_value
        return ProgramInfo(
            id=program.id,
            name=program.name,
            provider=connector.provider,
            capabilities=caps,
            lookup_by=list(connector.lookup_keys) if "lookup" in caps else [],
            points_value=PointsValue(value.points_per_unit, value.currency) if value else None,
        )
