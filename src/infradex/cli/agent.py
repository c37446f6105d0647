"""``infradex agent``: the probe agent of one data center (docs/agents.md)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from infradex.cli.app import app, settings_of
from infradex.cli.output import console, err_console

__all__ = ["agent"]


@app.command()
def agent(
    ctx: typer.Context,
    server: Annotated[
        str, typer.Option(help="The infradex server, e.g. https://infra.example.org")
    ],
    location: Annotated[str, typer.Option(help="The data center this agent runs in, e.g. nyc1.")],
    token: Annotated[
        str,
        typer.Option(
            envvar="INFRADEX_AGENT_TOKEN",
            help="The location's agent token (or $INFRADEX_AGENT_TOKEN): "
            "`infradex token create --scope agent --location DC`.",
        ),
    ],
    buffer: Annotated[
        Path | None,
        typer.Option(
            help="Where results wait for the server (default: agent-LOCATION.db in the data "
            "directory)."
        ),
    ] = None,
    buffer_max: Annotated[
        int, typer.Option(min=1, help="Results kept while cut off; then the oldest go.")
    ] = 100_000,
) -> None:
    """Run the checks the server assigns to this location and send it their results, keeping
    them on disk while the server cannot be reached (SIGTERM or Ctrl-C stops)."""
    from infradex.agent.buffer import ResultBuffer
    from infradex.agent.client import AgentClient
    from infradex.agent.service import ProbeAgent
    from infradex.web.logs import configure_logging

    if not server.startswith(("http://", "https://")):
        err_console.print(
            f"error: --server {server!r} is not a URL; give the server's address, e.g. "
            "https://infra.example.org",
            style="red",
            markup=False,
        )
        raise typer.Exit(2)
    settings = settings_of(ctx)
    configure_logging("text")
    path = buffer or settings.data_dir / f"agent-{location}.db"
    results = ResultBuffer(path, max_results=buffer_max)
    probe_agent = ProbeAgent(
        AgentClient(server, token, location),
        results,
        ca_file=settings.ca_file,
        policy=settings.monitor_policy,
    )

    async def run() -> None:
        await probe_agent.start()
        console.print(
            f"infradex agent: {location} reporting to {server}; buffer {path}; Ctrl-C stops",
            style="green",
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await probe_agent.stop()
            results.close()

    asyncio.run(run())
