"""The IRC notifier against a real ngIRCd (Debian's ``ngircd``) on 127.0.0.1.

A listener, a tiny IRC client written here, joins each channel before the notifier (so it is
the channel's operator and can set ``+i``, ``+b`` or ``+m``) and records every line the
server relays to it: the tests check what reached the channel, not what the notifier meant to
send. ``ircs://`` is tested on the same server's TLS port with a trustme certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from infradex.channels.base import Message, NotifyError, Target
from infradex.channels.irc import MAX_LINE, IrcAddress, IrcNotifier, irc_lines
from system_tools import require_tool

PASSWORD = "sekrit-pass"
LINKS = {
    "incident": "http://127.0.0.1:8000/incidents/7",
    "acknowledge": "http://127.0.0.1:8000/a/7/ack?token=abc",
    "resolve": "http://127.0.0.1:8000/a/7/resolve?token=def",
}
LINKS_LINE = (
    "Acknowledge: http://127.0.0.1:8000/a/7/ack?token=abc · "
    "Resolve: http://127.0.0.1:8000/a/7/resolve?token=def · "
    "Incident: http://127.0.0.1:8000/incidents/7"
)


def message(subject: str = "[infradex] DOWN: Fastly", text: str = "", **links: str) -> Message:
    return Message(
        kind="trigger",
        subject=subject,
        text=text or "provider:fastly is down.\nservice:docs is impacted.",
        links=links or LINKS,
    )


# ----------------------------------------------------------------------------- the server
@dataclass(frozen=True)
class IrcServer:
    port: int
    tls_port: int | None = None
    ca_file: str | None = None

    def url(self, path: str, *, userinfo: str = "") -> str:
        return f"irc://{userinfo}127.0.0.1:{self.port}/{path}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@contextlib.contextmanager
def ngircd(
    directory: Path, *, password: str | None = None, tls: bool = False
) -> Iterator[IrcServer]:
    """ngIRCd in the foreground as this test run's child, with its config in ``directory``."""
    ngircd_path = require_tool("ngircd")
    port = _free_port()
    server = IrcServer(port)
    conf = [
        "[Global]",
        "Name = irc.test",
        "Info = infradex test server",
        "Listen = 127.0.0.1",
        f"Ports = {port}",
        "MotdPhrase = infradex tests",
        *([f"Password = {password}"] if password else []),
        "[Limits]",
        "MaxNickLength = 30",
        "MaxConnectionsIP = 0",
        "MaxPenaltyTime = 0",  # ngIRCd's flood penalties would add seconds to every test
        "[Options]",
        "PAM = no",  # PAM would refuse every PASS; the [Global] Password is what we test
        "Ident = no",  # no IDENT or DNS lookups: registration answers at once
        "DNS = no",
    ]
    if tls:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(directory / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
        ca.cert_pem.write_to_path(str(directory / "ca.pem"))
        server = IrcServer(port, _free_port(), str(directory / "ca.pem"))
        conf += [
            "[SSL]",
            f"CertFile = {directory / 'cert.pem'}",
            f"KeyFile = {directory / 'key.pem'}",
            f"Ports = {server.tls_port}",
        ]
    (directory / "ngircd.conf").write_text("\n".join(conf) + "\n")
    with (directory / "ngircd.log").open("wb") as log:
        process = subprocess.Popen(
            [ngircd_path, "-n", "-f", str(directory / "ngircd.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            ports = [p for p in (server.port, server.tls_port) if p is not None]
            while not all(_answers(p) for p in ports):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"ngircd exited with {process.returncode}: "
                        + (directory / "ngircd.log").read_text()[-2000:]
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError("ngircd did not listen within 30 s")
                time.sleep(0.05)
            yield server
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="module")
def irc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrcServer]:
    """ngIRCd with a plain and a TLS port, no server password."""
    with ngircd(tmp_path_factory.mktemp("ngircd"), tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def irc_with_password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrcServer]:
    with ngircd(tmp_path_factory.mktemp("ngircd-pass"), password=PASSWORD) as server:
        yield server


# --------------------------------------------------------------------------- the listener
@dataclass(frozen=True)
class Line:
    raw: bytes
    source: str  # the sender's nick, or the server's name
    command: str
    params: list[str]

    @classmethod
    def parse(cls, raw: bytes) -> Line:
        text = raw.decode().removesuffix("\r\n")
        source = ""
        if text.startswith(":"):
            prefix, _, text = text.partition(" ")
            source = prefix[1:].split("!")[0]
        head, colon, trailing = text.partition(" :")
        command, *params = head.split()
        return cls(raw, source, command, [*params, trailing] if colon else params)


@dataclass
class Listener:
    """An IRC client that records every line the server sends it."""

    nick: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    lines: list[Line] = field(default_factory=list)

    @classmethod
    async def connect(cls, port: int, nick: str, password: str | None = None) -> Listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        listener = cls(nick, reader, writer)
        if password:
            await listener.command(f"PASS {password}")
        await listener.command(f"NICK {nick}", f"USER listener 0 * :{nick}")
        await listener.wait_for(lambda line: line.command == "001")
        return listener

    async def command(self, *lines: str) -> None:
        self.writer.write(b"".join(line.encode() + b"\r\n" for line in lines))
        await self.writer.drain()

    async def wait_for(self, wanted: Callable[[Line], bool]) -> Line:
        async with asyncio.timeout(5):
            while True:
                raw = await self.reader.readline()
                assert raw, f"the server closed {self.nick}'s connection"
                line = Line.parse(raw)
                self.lines.append(line)
                if line.command == "PING":
                    await self.command(f"PONG :{line.params[-1]}")
                if wanted(line):
                    return line

    async def join(self, channel: str, *modes: str) -> None:
        await self.command(f"JOIN {channel}")
        await self.wait_for(lambda line: line.command == "366" and line.params[1] == channel)
        for mode in modes:  # the first to join a channel is its operator
            await self.command(f"MODE {channel} {mode}")
            await self.wait_for(lambda line: line.command == "MODE" and line.params[0] == channel)

    async def sync(self) -> None:
        """Every line the server relayed before now has been read: it answers our PING after
        writing them."""
        await self.command("PING :sync")
        await self.wait_for(lambda line: line.command == "PONG" and line.params[-1] == "sync")

    def said(self, to: str) -> list[tuple[str, str]]:
        """(sender, text) of every PRIVMSG to ``to`` (a channel, or our nick)."""
        return [
            (ln.source, ln.params[1])
            for ln in self.lines
            if ln.command == "PRIVMSG" and ln.params[0] == to
        ]

    def from_nick(self, nick: str) -> list[Line]:
        return [line for line in self.lines if line.source == nick]

    async def close(self) -> None:
        """QUIT, and wait until the server has let the nick go (the next test may take it)."""
        with contextlib.suppress(OSError):
            await self.command("QUIT")
            async with asyncio.timeout(5):
                while await self.reader.readline():
                    pass
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


Listen = Callable[..., Awaitable[Listener]]


@pytest.fixture
async def listen() -> AsyncIterator[Listen]:
    """``await listen(server, nick, "#channel", ...)``: a listener, closed after the test."""
    opened: list[Listener] = []

    async def open_listener(
        server: IrcServer, nick: str, *channels: str, password: str | None = None
    ) -> Listener:
        listener = await Listener.connect(server.port, nick, password)
        opened.append(listener)
        for channel in channels:
            await listener.join(channel)
        return listener

    yield open_listener
    for listener in opened:
        await listener.close()


def notifier(nick: str = "infradex", ca_file: str | None = None) -> IrcNotifier:
    return IrcNotifier(nick, timeout=10, ca_file=ca_file)


# ------------------------------------------------------------------------------ delivery
async def test_posts_the_message_to_the_channel(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee", "#python-infra")

    answer = await notifier().send(Target(irc.url("python-infra")), message(), "1")

    assert answer == f"posted to #python-infra on 127.0.0.1:{irc.port}"
    await listener.sync()
    assert listener.said("#python-infra") == [
        ("infradex", "[infradex] DOWN: Fastly"),
        ("infradex", "provider:fastly is down."),
        ("infradex", "service:docs is impacted."),
        ("infradex", LINKS_LINE),
    ]
    # it joined (a +n channel refuses messages from outside), then left cleanly
    assert [line.command for line in listener.from_nick("infradex")] == [
        "JOIN",
        *["PRIVMSG"] * 4,
        "QUIT",
    ]


async def test_at_most_four_lines_and_the_text_says_it_was_cut(
    irc: IrcServer, listen: Listen
) -> None:
    listener = await listen(irc, "ee", "#four")
    text = "one\n\ntwo\nthree\nfour"

    await notifier().send(Target(irc.url("four")), message(text=text), "2")

    await listener.sync()
    assert [said for _, said in listener.said("#four")] == [
        "[infradex] DOWN: Fastly",
        "one",
        "two …",
        LINKS_LINE,
    ]


async def test_channel_written_percent_23_from_the_environment(
    irc: IrcServer, listen: Listen, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = await listen(irc, "ee", "#from-env")
    monkeypatch.setenv("INFRADEX_TEST_IRC_URL", irc.url("%23from-env"))

    answer = await notifier().send(Target("env:INFRADEX_TEST_IRC_URL"), message(), "3")

    assert answer == f"posted to #from-env on 127.0.0.1:{irc.port}"
    await listener.sync()
    assert len(listener.said("#from-env")) == 4


async def test_private_message_to_a_nick(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ewdurbin")

    answer = await notifier().send(Target(irc.url("ewdurbin,isnick")), message(), "4")

    assert answer == f"sent to ewdurbin on 127.0.0.1:{irc.port}"
    await listener.sync()
    assert [said for _, said in listener.said("ewdurbin")] == [
        "[infradex] DOWN: Fastly",
        "provider:fastly is down.",
        "service:docs is impacted.",
        LINKS_LINE,
    ]


async def test_ircs_with_a_private_ca(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee", "#tls")
    url = f"ircs://127.0.0.1:{irc.tls_port}/tls"

    answer = await notifier(ca_file=irc.ca_file).send(Target(url), message(), "5")

    assert answer == f"posted to #tls on 127.0.0.1:{irc.tls_port}"
    await listener.sync()
    assert len(listener.said("#tls")) == 4


async def test_ircs_with_an_untrusted_certificate_is_transient(irc: IrcServer) -> None:
    url = f"ircs://127.0.0.1:{irc.tls_port}/tls"

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(url), message(), "6")

    assert not caught.value.permanent
    assert "certificate verify failed" in str(caught.value)
    assert "INFRADEX_CA_FILE" in str(caught.value)


# ------------------------------------------------------------------------ what is sent
async def test_control_characters_cannot_inject_commands(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee", "#inject", "#other")
    subject = (
        "Fastly\r\nJOIN #other\r\nPRIVMSG #other :owned\x00\n"
        "\x01ACTION waves\x01 \x02bold\x02 \x0304,12red\x0f"
    )
    text = "line one\x00PRIVMSG #other :x\nline\ttwo\x07"

    await notifier().send(
        Target(irc.url("inject")), message(subject, text, incident="http://h/i\r\nQUIT"), "7"
    )

    await listener.sync()
    assert [said for _, said in listener.said("#inject")] == [
        "Fastly JOIN #other PRIVMSG #other :owned ACTION waves bold red",
        "line onePRIVMSG #other :x",
        "line two",
        "Incident: http://h/i QUIT",
    ]
    assert listener.said("#other") == []
    assert [line.command for line in listener.from_nick("infradex")] == [
        "JOIN",
        *["PRIVMSG"] * 4,
        "QUIT",
    ]
    assert all(line.params[0] == "#inject" for line in listener.from_nick("infradex")[:-1])


async def test_long_lines_fit_in_512_bytes_as_relayed(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee", "#long")
    subject = "é" * 600  # two bytes each: the cut must not split one
    text = "x" * 2000

    await notifier().send(Target(irc.url("long")), message(subject, text), "8")

    await listener.sync()
    relayed = [line for line in listener.lines if line.command == "PRIVMSG"]
    assert len(relayed) == 3  # subject, text, links
    assert all(len(line.raw) <= MAX_LINE for line in relayed)
    assert relayed[0].params[1].endswith("é…")
    assert relayed[1].params[1].endswith("x…")
    assert relayed[2].params[1] == LINKS_LINE


def test_irc_lines_leave_room_for_the_longest_prefix() -> None:
    lines = irc_lines(message("s" * 1000), "infradex", "#python-infra")
    longest = f":infradex!~infradex@{'h' * 63} PRIVMSG #python-infra :"
    assert len(lines) == 4
    assert len(longest) + len(lines[0].encode()) + 2 == MAX_LINE


# ------------------------------------------------------------------------------- nicks
async def test_nick_in_use_falls_back_to_nick_underscore(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "infradex", "#fallback")

    answer = await notifier().send(Target(irc.url("fallback")), message(), "9")

    assert answer == f"posted to #fallback on 127.0.0.1:{irc.port} as infradex_"
    await listener.sync()
    assert {sender for sender, _ in listener.said("#fallback")} == {"infradex_"}


async def test_every_nick_in_use_is_transient(irc: IrcServer, listen: Listen) -> None:
    for taken in ("pager", "pager_", "pager__", "pager___"):
        await listen(irc, taken)

    with pytest.raises(NotifyError) as caught:
        await notifier(nick="pager").send(Target(irc.url("busy")), message(), "10")

    assert not caught.value.permanent
    assert "pager, pager_, pager__, pager___ are all in use" in str(caught.value)


async def test_the_url_names_the_nick(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee", "#named")

    await notifier().send(Target(irc.url("named", userinfo="psf-pager@")), message(), "11")

    await listener.sync()
    assert {sender for sender, _ in listener.said("#named")} == {"psf-pager"}


# ----------------------------------------------------------------------- refusals
async def test_invite_only_channel_is_permanent(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee")
    await listener.join("#locked", "+i")

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(irc.url("locked")), message(), "12")

    assert caught.value.permanent
    assert "Cannot join channel (+i)" in str(caught.value)  # the server's own text
    assert "(473)" in str(caught.value)
    assert "MODE #locked +I infradex!*@*" in str(caught.value)
    await listener.sync()
    assert listener.said("#locked") == []  # +i without +n takes messages from outside


async def test_banned_from_the_channel_is_permanent(irc: IrcServer, listen: Listen) -> None:
    listener = await listen(irc, "ee")
    await listener.join("#banned", "+b infradex!*@*")

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(irc.url("banned")), message(), "13")

    assert caught.value.permanent
    assert "(474)" in str(caught.value)


async def test_a_channel_that_refuses_the_message_is_permanent(
    irc: IrcServer, listen: Listen
) -> None:
    listener = await listen(irc, "ee")
    await listener.join("#quiet", "+m")  # moderated: joining works, speaking does not

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(irc.url("quiet")), message(), "14")

    assert caught.value.permanent
    assert "(404)" in str(caught.value)
    assert "MODE #quiet +v infradex" in str(caught.value)


async def test_no_such_nick_is_permanent(irc: IrcServer) -> None:
    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(irc.url("nobody-here,isnick")), message(), "15")

    assert caught.value.permanent
    assert "No such nick" in str(caught.value)
    assert "(401)" in str(caught.value)


async def test_right_server_password(irc_with_password: IrcServer, listen: Listen) -> None:
    server = irc_with_password
    listener = await listen(server, "ee", password=PASSWORD)
    await listener.join("#private")
    url = server.url("private", userinfo=f"infradex:{PASSWORD}@")

    answer = await notifier().send(Target(url), message(), "16")

    assert answer == f"posted to #private on 127.0.0.1:{server.port}"
    await listener.sync()
    assert len(listener.said("#private")) == 4


@pytest.mark.parametrize("userinfo", ["infradex:not-the-password@", ""])
async def test_wrong_or_missing_server_password_is_permanent(
    irc_with_password: IrcServer, userinfo: str
) -> None:
    url = irc_with_password.url("private", userinfo=userinfo)

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(url), message(), "17")

    assert caught.value.permanent
    assert "Bad password" in str(caught.value)  # ngIRCd's ERROR text
    assert "not-the-password" not in str(caught.value)


# --------------------------------------------------------------------- no answer
async def test_connection_refused_is_transient() -> None:
    port = _free_port()  # nothing listens there

    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(f"irc://127.0.0.1:{port}/x"), message(), "18")

    assert not caught.value.permanent
    assert f"cannot reach 127.0.0.1:{port} while connecting: Connection refused" == str(
        caught.value
    )


async def test_a_silent_server_times_out_transient() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads everything, answers nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(NotifyError) as caught:
            await IrcNotifier(timeout=0.5).send(
                Target(f"irc://127.0.0.1:{port}/x"), message(), "19"
            )

    assert not caught.value.permanent
    assert str(caught.value) == f"127.0.0.1:{port} did not answer within 0.5 s while registering"


async def test_a_server_that_closes_early_is_transient() -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not (await reader.readline()).startswith(b"USER "):
            pass
        writer.close()

    server = await asyncio.start_server(rude, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(NotifyError) as caught:
            await notifier().send(Target(f"irc://127.0.0.1:{port}/x"), message(), "20")

    assert not caught.value.permanent
    assert str(caught.value) == f"127.0.0.1:{port} closed the connection while registering"


async def test_a_server_that_says_error_is_transient() -> None:
    async def full(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"ERROR :Closing Link: 127.0.0.1 (Too many connections)\r\n")
        writer.close()

    server = await asyncio.start_server(full, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(NotifyError) as caught:
            await notifier().send(Target(f"irc://127.0.0.1:{port}/x"), message(), "21")

    assert not caught.value.permanent
    assert str(caught.value) == (
        f"127.0.0.1:{port} closed the connection while registering: "
        "Closing Link: 127.0.0.1 (Too many connections)"
    )


# ----------------------------------------------------------------------- addresses
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "irc://irc.libera.chat/python-infra",
            IrcAddress("irc.libera.chat", 6667, False, "#python-infra"),
        ),
        (
            "ircs://irc.libera.chat/python-infra",
            IrcAddress("irc.libera.chat", 6697, True, "#python-infra"),
        ),
        ("ircs://h:7000/%23python-infra", IrcAddress("h", 7000, True, "#python-infra")),
        ("irc://h/#python-infra", IrcAddress("h", 6667, False, "#python-infra")),
        ("irc://h/&local", IrcAddress("h", 6667, False, "&local")),
        ("irc://h/ops,ischannel", IrcAddress("h", 6667, False, "#ops")),
        ("irc://h/ewdurbin,isnick", IrcAddress("h", 6667, False, "ewdurbin", is_nick=True)),
        ("irc://bot:p%40ss@h/x", IrcAddress("h", 6667, False, "#x", nick="bot", password="p@ss")),
    ],
)
def test_addresses(url: str, expected: IrcAddress) -> None:
    assert IrcAddress.parse(url) == expected


def test_errors_name_host_and_port_only() -> None:
    assert IrcAddress.parse("ircs://bot:secret@[::1]/x").where == "[::1]:6697"
    assert IrcAddress.parse("irc://irc.libera.chat:6665/x").where == "irc.libera.chat:6665"


@pytest.mark.parametrize(
    "url",
    [
        "http://h/x",
        "irc:///x",
        "irc://h",
        "irc://h/",
        "irc://h:99999/x",
        "irc://h/x?key",
        "irc://h/x,isserver",
        "irc://h/a%20b",
        "irc://h/a%0D%0AQUIT",
        "irc://[::1/x",
        "irc://bad%20nick:s3cret@h/x",
    ],
)
async def test_unusable_urls_are_permanent(url: str) -> None:
    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target(url), message(), "21")

    assert caught.value.permanent
    assert "write e.g. ircs://irc.libera.chat/python-infra" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_an_unset_variable_is_transient() -> None:
    with pytest.raises(NotifyError) as caught:
        await notifier().send(Target("env:INFRADEX_TEST_IRC_UNSET"), message(), "22")

    assert not caught.value.permanent
