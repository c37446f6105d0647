"""IRC: a message to a channel (``#python-infra`` on Libera.Chat) or to one person's nick.

The target's address is an IRC URL (draft-butcher-irc-url), or ``env:NAME`` to read it from
the server's environment:

* ``ircs://irc.libera.chat/python-infra``: the channel ``#python-infra`` over TLS (port 6697
  unless the URL says otherwise; ``irc://`` is plain text, port 6667). ``%23python-infra``
  means the same; a name starting with another channel prefix (``&``, ``+``, ``!``) is kept.
* ``ircs://irc.libera.chat/ewdurbin,isnick``: a private message to the nick ``ewdurbin``.
* ``ircs://nick:password@host/...``: connect as ``nick`` instead of the notifier's nick and
  send ``password`` as the server password (``PASS``). Only ``PASS`` is supported: no SASL and
  no NickServ identification yet, so a channel that admits only registered nicks (``+r``)
  refuses infradex.

Each message is one connection: ``NICK``/``USER`` (a nick in use is retried with ``_``
appended, three times), ``JOIN`` for a channel (most channels refuse messages from outside,
``+n``), at most :data:`MAX_LINES` ``PRIVMSG`` lines (:func:`irc_lines`), then a ``PING``: the
server handles one client's lines in order, so its ``PONG`` means every line was handled and
any refusal has already arrived. Then ``QUIT``. The whole exchange runs under one timeout.
IRC has no way to drop a duplicate, so the delivery id is not sent: a crash between the
``PONG`` and the outbox recording it posts the message once more.

The server's refusals quote its own text: cannot join (471 full, 473 invite-only, 474 banned,
475 key, 477 registered nicks only), no such nick or channel (401, 403), cannot send (404),
a bad nick (432), a wrong or missing password (464, or an ``ERROR`` naming the password
before registration: ngIRCd sends no 464) and a ban from the server (465) are permanent. A
refused or reset connection, a timeout, a TLS failure, a server that closes early and every
nick in use are transient: the outbox tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import ssl
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal
from urllib.parse import unquote, urlsplit

from pydantic import model_validator

from infradex.channels.base import Message, Notifier, NotifyError, Target, expand_secret
from infradex.channels.config import ChannelConfig, ChannelSpec, check_url_field
from infradex.errors import UsageError

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = ["MAX_LINE", "MAX_LINES", "IrcAddress", "IrcChannel", "IrcNotifier", "irc_lines"]

MAX_LINE = 512  # RFC 2812 2.3: bytes in one line, the relayed prefix and CR LF included
MAX_LINES = 4  # PRIVMSG lines per message: subject, text, links
_PORTS = {"irc": 6667, "ircs": 6697}
_CHANNEL_PREFIXES = "#&+!"
_USER = "infradex"  # USER's user name; a server may show it as ~infradex
_HOST_ROOM = 63  # the longest host name the server may put in the prefix it relays
_NICK_RETRIES = 3
_QUIT_GRACE = 1.0  # seconds to wait for the server to close after a refusal
_LINKS = (("acknowledge", "Acknowledge"), ("resolve", "Resolve"), ("incident", "Incident"))
_SEPARATOR = " · "
_COLOURS = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?")
_LINE_BREAKS = "\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
_IN_USE = frozenset({"433", "436", "437"})  # nick in use, collision, temporarily held
_REFUSALS = {
    "432": "the nick is not valid on this server; set another nick in the URL "
    "(irc://nick@host/...)",
    "464": "check the server password in the URL (irc://nick:password@host/...)",
    "465": "this server has banned infradex's address; ask its operators",
}
_JOIN_REFUSALS = {
    "403": "check the channel name in the URL",
    "405": "infradex joined too many channels; this is a bug, please report it",
    "470": "the channel forwards to another one; put that channel in the URL",
    "471": "the channel is full (+l); ask a channel operator to raise the limit",
    "473": "the channel is invite-only (+i); ask a channel operator to add an invite "
    "exception for the nick (MODE {channel} +I {nick}!*@*) or remove +i",
    "474": "the nick is banned from the channel (+b); ask a channel operator to lift the ban",
    "475": "the channel needs a key (+k), which infradex cannot send; remove the key",
    "476": "check the channel name in the URL",
    "477": "the channel admits only nicks identified with services, which infradex cannot "
    "do yet; ask a channel operator to add an exception for the nick",
    "489": "the channel admits only TLS connections; use ircs://",
    "479": "check the channel name in the URL",
}
_SEND_REFUSALS = {
    "401": "check the nick or channel in the URL, or whether that person is online",
    "403": "check the channel name in the URL",
    "404": "the channel does not let infradex speak (moderated +m, or a ban); ask a channel "
    "operator to voice the nick (MODE {channel} +v {nick})",
    "477": "the recipient accepts messages only from identified nicks; infradex cannot "
    "identify with services yet",
    "716": "the recipient ignores messages from unknown nicks (+g); ask them to allow it",
}


@dataclass(frozen=True, slots=True)
class IrcAddress:
    """Where an IRC message goes, read from an ``irc://`` or ``ircs://`` URL."""

    host: str
    port: int
    tls: bool
    target: str  # "#python-infra", or a nick
    is_nick: bool = False
    nick: str | None = None  # the URL's user part: connect under this nick
    password: str | None = None  # the server password, sent as PASS

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> IrcAddress:
        """``url`` read; a URL infradex cannot use raises a permanent :class:`NotifyError`."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:  # e.g. an unclosed [ of an IPv6 address
            raise _bad_url(url, "cannot be read as a URL") from None
        shown = url.replace(f":{parts.password}@", ":***@") if parts.password else url
        if parts.scheme not in _PORTS or not parts.hostname:
            raise _bad_url(shown, "is not an IRC URL")
        try:
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            raise _bad_url(shown, "has a port that is not a number from 1 to 65535") from None
        if parts.query:
            raise _bad_url(shown, "has a query (a channel key?); channel keys are not supported")
        entity = unquote(parts.path.removeprefix("/"))
        if not entity and parts.fragment:  # irc://host/#channel: the # began a fragment
            entity = "#" + unquote(parts.fragment)
        name, *flags = entity.split(",")
        unknown = set(flags) - {"isnick", "ischannel"}
        if unknown:
            raise _bad_url(
                shown,
                f"has the flag(s) {', '.join(sorted(unknown))}; only ,isnick "
                "(a private message) and ,ischannel are understood",
            )
        if not name:
            raise _bad_url(shown, "names no channel or nick")
        is_nick = "isnick" in flags
        nick = unquote(parts.username) if parts.username else None
        for what, value in (("channel or nick", name), ("nick", nick)):
            if value is not None and not _is_name(value):
                raise _bad_url(shown, f"has the {what} {value!r}, which IRC cannot carry")
        if not is_nick and name[0] not in _CHANNEL_PREFIXES:
            name = "#" + name
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "ircs",
            target=name,
            is_nick=is_nick,
            nick=nick,
            password=unquote(parts.password) if parts.password else None,
        )


def _bad_url(shown: str, problem: str) -> NotifyError:
    return NotifyError(
        f"the IRC URL {shown!r} {problem}; write e.g. ircs://irc.libera.chat/python-infra "
        "for #python-infra, or ircs://irc.libera.chat/ewdurbin,isnick for a private message",
        permanent=True,
    )


def _is_name(value: str) -> bool:
    """A nick or channel IRC can carry: no space, comma, colon start or control character."""
    return (
        bool(value)
        and not value.startswith(":")
        and not any(char in " ," or unicodedata.category(char) == "Cc" for char in value)
    )


def _clean(text: str) -> str:
    """``text`` as one line that cannot end the IRC line early or smuggle formatting: line
    breaks and tabs become spaces, other control characters (NUL, CTCP's \\x01, IRC's bold,
    colour and reset codes) go, runs of spaces become one."""
    text = _COLOURS.sub("", text)
    kept = (
        " " if char in _LINE_BREAKS else char
        for char in text
        if char in _LINE_BREAKS or unicodedata.category(char) != "Cc"
    )
    return " ".join("".join(kept).split())


def _fit(text: str, room: int) -> str:
    """``text`` in at most ``room`` UTF-8 bytes, cut at a character and ending with "…"."""
    data = text.encode()
    if len(data) <= room:
        return text
    return data[: room - 3].decode(errors="ignore").rstrip() + "…"


def irc_lines(message: Message, nick: str, target: str) -> list[str]:
    """What ``message`` says as at most :data:`MAX_LINES` PRIVMSG texts: the subject, the
    first lines of the text (the last one ends with "…" if lines were left out), then the
    acknowledge, resolve and incident links. Each fits :data:`MAX_LINE` with the prefix the
    server puts in front when it relays the line (``:nick!~user@host PRIVMSG target :``)."""
    relayed = f":{nick}!~{_USER}@{'h' * _HOST_ROOM} PRIVMSG {target} :\r\n"
    room = MAX_LINE - len(relayed.encode())
    links: list[str] = []
    used = 0
    for key, label in _LINKS:
        link = f"{label}: {_clean(message.links.get(key, ''))}"
        if link.endswith(": ") or used + len(_SEPARATOR) + len(link.encode()) > room:
            continue  # a link cannot be cut, and one this long is not worth sending
        links.append(link)
        used += len(_SEPARATOR) + len(link.encode())
    text = [line for line in map(_clean, message.text.splitlines()) if line]
    shown = text[: MAX_LINES - 1 - bool(links)]
    if shown and len(text) > len(shown):
        shown[-1] += " …"
    lines = [_clean(message.subject) or "infradex notification", *shown]
    if links:
        lines.append(_SEPARATOR.join(links))
    return [_fit(line, room) for line in lines]


@dataclass(frozen=True, slots=True)
class _Line:
    """One line from the server: who sent it (a nick or server name), command, parameters."""

    source: str
    command: str
    params: list[str]

    @property
    def text(self) -> str:
        return self.params[-1] if self.params else ""

    @classmethod
    def parse(cls, raw: str) -> _Line | None:
        line = raw.rstrip("\r\n")
        if line.startswith("@"):  # IRCv3 message tags
            line = line.partition(" ")[2]
        source = ""
        if line.startswith(":"):
            prefix, _, line = line.partition(" ")
            source = prefix[1:].split("!", 1)[0]
        head, colon, trailing = line.partition(" :")
        params = head.split()
        if not params:
            return None
        command = params.pop(0).upper()
        return cls(source, command, [*params, trailing] if colon else params)


def _irc_lower(name: str) -> str:
    """RFC 1459 case folding: nicks and channels compare equal in it."""
    return name.lower().translate(str.maketrans("[]\\~", "{}|^"))


class _Session:
    """One connection to an IRC server, answering its PINGs while we wait for an answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.registered = False

    async def send(self, *lines: str) -> None:
        self.writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
        await self.writer.drain()

    async def read(self, where: str, doing: str) -> _Line:
        while True:
            try:
                raw = await self.reader.readline()
            except ValueError:  # longer than the reader's limit (64 KiB): not IRC
                raise NotifyError(f"{where} sent a line too long for IRC while {doing}") from None
            if not raw:
                raise NotifyError(f"{where} closed the connection while {doing}")
            line = _Line.parse(raw.decode(errors="replace"))
            if line is None:
                continue
            if line.command == "PING":
                await self.send(f"PONG :{line.text}")
                continue
            if line.command == "ERROR":
                # ngIRCd answers a wrong or missing PASS with only this ERROR, no 464
                password = not self.registered and "password" in line.text.lower()
                raise NotifyError(
                    f"{where} closed the connection while {doing}: {line.text}"
                    + ("; " + _REFUSALS["464"] if password else ""),
                    permanent=password,
                )
            return line

    async def quit(self) -> None:
        """Say goodbye and wait until the server closes (or this call is cancelled)."""
        with contextlib.suppress(OSError, ValueError):
            await self.send("QUIT :infradex")
            while await self.reader.readline():
                pass

    async def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            self.writer.close()
            async with asyncio.timeout(1):
                await self.writer.wait_closed()


def _refused(where: str, line: _Line, doing: str, hint: str, nick: str, target: str) -> NotifyError:
    """A permanent error quoting the server's refusal, with what to do about it."""
    advice = hint.format(nick=nick, channel=target)
    return NotifyError(
        f"{where} refused {doing}: {line.text or '(no text)'} ({line.command}); {advice}",
        permanent=True,
    )


class IrcChannel(ChannelConfig):
    """``type: irc``: ``url``, ``irc(s)://[nick[:password]@]host[:port]/channel-or-nick``."""

    type: Literal["irc"]
    url: str | None = None

    #: the URL is redacted (it may hold a server password), but is not always a secret
    secrets: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _has_url(self) -> IrcChannel:
        check_url_field(
            "irc", self.url, ("irc://", "ircs://"), "ircs://irc.libera.chat:6697/python-infra"
        )
        return self

    def spec(self, default_email: str | None) -> ChannelSpec:
        return ChannelSpec("irc", self.url or "")

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        return IrcNotifier(ca_file=settings.ca_file)


class IrcNotifier:
    channel: ClassVar[str] = "irc"

    def __init__(
        self, nick: str = "infradex", timeout: float = 15.0, ca_file: str | None = None
    ) -> None:
        if not _is_name(nick) or nick[0] in _CHANNEL_PREFIXES:
            raise UsageError(f"{nick!r} cannot be an IRC nick; use letters, digits and -_[]")
        self.nick = nick
        self.timeout = timeout
        self.ca_file = ca_file

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        address = IrcAddress.parse(expand_secret(target.address, "the IRC URL"))
        where = address.where
        doing = "connecting"
        session: _Session | None = None
        nick = ""
        delivered = False
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                context = ssl.create_default_context(cafile=self.ca_file) if address.tls else None
                reader, writer = await asyncio.open_connection(
                    address.host, address.port, ssl=context
                )
                session = _Session(reader, writer)
                doing = "registering"
                nick = await self._register(session, address, where)
                if not address.is_nick:
                    doing = f"joining {address.target}"
                    await self._join(session, address.target, nick, where)
                doing = f"sending to {address.target}"
                lines = irc_lines(message, nick, address.target)
                await self._post(session, lines, address.target, nick, where)
                delivered = True
                await session.quit()
        except NotifyError:
            if session is not None:  # a refusal: say goodbye, so that the nick is free at once
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_QUIT_GRACE):
                        await session.quit()
            raise
        except TimeoutError:
            if not delivered:
                raise NotifyError(
                    f"{where} did not answer within {self.timeout:g} s while {doing}"
                ) from None
        except ssl.SSLError as exc:  # before OSError: an SSLError is an OSError
            raise NotifyError(
                f"TLS with {where} failed while {doing}: {_ssl_reason(exc)}"
            ) from None
        except OSError as exc:
            raise NotifyError(f"cannot reach {where} while {doing}: {_os_reason(exc)}") from None
        finally:
            if session is not None:
                await session.close()
        verb = "sent to" if address.is_nick else "posted to"
        wanted = address.nick or self.nick
        alias = f" as {nick}" if _irc_lower(nick) != _irc_lower(wanted) else ""
        return f"{verb} {address.target} on {where}{alias}"

    async def _register(self, session: _Session, address: IrcAddress, where: str) -> str:
        """Log in; returns the nick the server accepted."""
        wanted = address.nick or self.nick
        nicks = [wanted + "_" * n for n in range(_NICK_RETRIES + 1)]
        password = address.password
        if password is not None:
            await session.send(f"PASS :{password}" if " " in password else f"PASS {password}")
        await session.send(f"NICK {nicks[0]}", f"USER {_USER} 0 * :infradex notifier")
        tried = 1
        while True:
            line = await session.read(where, "registering")
            if line.command == "001":
                session.registered = True
                return line.params[0] if line.params else nicks[tried - 1]
            if line.command in _IN_USE:
                if tried == len(nicks):
                    raise NotifyError(
                        f"the nicks {', '.join(nicks)} are all in use on {where}; it is tried "
                        "again later, or set another nick in the URL (irc://nick@host/...)"
                    )
                await session.send(f"NICK {nicks[tried]}")
                tried += 1
            elif line.command in _REFUSALS:
                nick = nicks[tried - 1]
                hint = _REFUSALS[line.command]
                raise _refused(where, line, f"the login as {nick}", hint, nick, address.target)

    async def _join(self, session: _Session, channel: str, nick: str, where: str) -> None:
        await session.send(f"JOIN {channel}")
        while True:
            line = await session.read(where, f"joining {channel}")
            if line.command == "JOIN" and _irc_lower(line.source) == _irc_lower(nick):
                return
            if line.command in _JOIN_REFUSALS:
                hint = _JOIN_REFUSALS[line.command]
                raise _refused(where, line, f"{nick} joining {channel}", hint, nick, channel)

    async def _post(
        self, session: _Session, lines: list[str], target: str, nick: str, where: str
    ) -> None:
        token = f"infradex-{secrets.token_hex(8)}"
        await session.send(*(f"PRIVMSG {target} :{line}" for line in lines), f"PING :{token}")
        while True:
            line = await session.read(where, f"sending to {target}")
            if line.command == "PONG" and line.text == token:
                return
            if line.command in _SEND_REFUSALS:
                hint = _SEND_REFUSALS[line.command]
                raise _refused(where, line, f"a message to {target}", hint, nick, target)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror) or not exc.errno:
        return exc.strerror or str(exc)
    return os.strerror(exc.errno)  # asyncio's text for a refused connection is less clear


def _ssl_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"certificate verify failed: {exc.verify_message}; if the server's certificate "
            "comes from a private CA, set INFRADEX_CA_FILE to that CA's PEM file"
        )
    return f"{exc.reason or exc}; check that the port speaks TLS (ircs://, usually 6697)"
