"""The agent's side of the agent API (``/api/agent``, docs/agents.md): three calls, with the
server's refusals and a missing server translated into two errors the agent acts on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from infradex import __version__
from infradex.errors import InfradexError

__all__ = ["AgentClient", "Assignments", "Refused", "Unreachable"]

TIMEOUT = 10.0  # seconds per request


class Unreachable(InfradexError):
    """The server did not answer (network, timeout, 5xx): keep the results, try again."""


class Refused(InfradexError):
    """The server answered no (4xx). ``permanent``: sending the same again cannot help (a batch
    it cannot read); otherwise (a token problem) it may once the operator fixes it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.status not in (401, 403, 429)


@dataclass(frozen=True, slots=True)
class Assignments:
    etag: str
    checks: list[dict[str, Any]]  # {id, owner, title, check}


class AgentClient:
    def __init__(
        self,
        server: str,
        token: str,
        location: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.location = location
        self._http = httpx.AsyncClient(
            base_url=server.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"infradex-agent/{__version__}",
            },
            timeout=TIMEOUT,
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def assignments(self, etag: str | None) -> Assignments | None:
        """The location's checks, or None when unchanged since ``etag``."""
        headers = {"If-None-Match": etag} if etag else {}
        answer = await self._request(
            "GET", "/api/agent/assignments", params={"location": self.location}, headers=headers
        )
        if answer.status_code == 304:
            return None
        body = answer.json()
        return Assignments(answer.headers.get("etag", ""), list(body["checks"]))

    async def send(self, results: list[dict[str, Any]], dropped: int) -> dict[str, Any]:
        """Push one batch; the server's answer (stored, refused)."""
        answer = await self._request(
            "POST",
            "/api/agent/results",
            json={"location": self.location, "dropped": dropped, "results": results},
        )
        body: dict[str, Any] = answer.json()
        return body

    async def heartbeat(self, sent_at: datetime) -> dict[str, Any]:
        answer = await self._request(
            "POST",
            "/api/agent/heartbeat",
            json={
                "location": self.location,
                "version": __version__,
                "sent_at": sent_at.isoformat(),
            },
        )
        body: dict[str, Any] = answer.json()
        return body

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        if answer.status_code >= 500:
            raise Unreachable(f"{method} {path}: the server answered {answer.status_code}")
        if answer.status_code >= 400:
            try:
                reason = answer.json().get("error", answer.text)
            except ValueError:
                reason = answer.text
            raise Refused(f"{method} {path}: {answer.status_code}: {reason}", answer.status_code)
        return answer
