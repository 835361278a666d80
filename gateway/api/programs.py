"""/v1/programs: what the caller can reach and what each program's provider can do."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from gateway.api.auth import caller_of
from gateway.api.openapi import API_KEY, problems
from gateway.api.state import connector_for, services
from gateway.domain.models import ProgramHealth, ProgramInfo, ProgramList


class ProgramController(Controller):
    path = "/v1/programs"
    tags = ["programs"]
    security = API_KEY

    @get(
        "/", summary="List the programs visible to the caller", responses=problems("list_programs")
    )
    async def list_programs(self, request: Request[Any, Any, Any]) -> ProgramList:
        directory = services(request).directory
        return ProgramList(data=[directory.info(c) for c in directory.visible(caller_of(request))])

    @get(
        "/{program:str}",
        summary="One program with its capabilities",
        responses=problems("get_program"),
    )
    async def get_program(
        self, request: Request[Any, Any, Any], program: FromPath[str]
    ) -> ProgramInfo:
        directory = services(request).directory
        return directory.info(connector_for(request, program))

    @get(
        "/{program:str}/health",
        summary="Upstream reachability and latency of a program",
        responses=problems("program_health"),
    )
    async def program_health(
        self, request: Request[Any, Any, Any], program: FromPath[str]
    ) -> ProgramHealth:
        return await services(request).reads.health(connector_for(request, program))
