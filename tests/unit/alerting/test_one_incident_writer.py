"""One module writes the incidents table: every status change passes its state machine there
(``alerting/incident_store.py``), so no other module may insert, update or delete its rows."""

from __future__ import annotations

import re
from pathlib import Path

import infradex

SRC = Path(infradex.__file__).resolve().parent
WRITE = re.compile(
    r"\b(?:insert|update|delete)\(\s*incidents\s*\)|\bincidents\.(?:insert|update|delete)\("
)


def test_only_the_incident_store_writes_incidents() -> None:
    writers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if WRITE.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["alerting/incident_store.py"]
