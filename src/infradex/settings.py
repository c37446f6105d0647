"""Settings from the environment, in one typed place. Nothing is read at import time.

| variable | meaning | default |
|---|---|---|
| ``INFRADEX_CATALOG`` | the catalog directory (or file) | the embedded PSF example |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["EMBEDDED_EXAMPLE", "Settings", "embedded_example"]

EMBEDDED_EXAMPLE = "psf"


def embedded_example(name: str = EMBEDDED_EXAMPLE) -> Path:
    """The directory of an example catalog shipped inside the package."""
    return Path(str(resources.files("infradex") / "examples" / name))


@dataclass(frozen=True, slots=True)
class Settings:
    catalog: Path
    catalog_is_embedded: bool

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, catalog: str | Path | None = None
    ) -> Settings:
        """``catalog`` (from ``--catalog``) wins over ``INFRADEX_CATALOG``, which wins over
        the embedded PSF example."""
        environ = os.environ if environ is None else environ
        chosen = catalog or environ.get("INFRADEX_CATALOG") or None
        if chosen:
            return cls(Path(chosen).expanduser(), False)
        return cls(embedded_example(), True)
