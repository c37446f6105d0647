"""A small catalog for probe-agent tests: three data centers and checks run from them, aimed
at local targets the test starts (never a real site)."""

from __future__ import annotations

from pathlib import Path

from infradex.catalog import Catalog, load

LOCATIONS = ("ams1", "nyc1", "sfo1")


def agents_catalog(
    root: Path,
    base_url: str,
    *,
    interval: str = "1s",
    timeout: str = "500ms",
    quorum: int = 2,
    with_eu: bool = True,
) -> Path:
    """``service:web/home`` (``base_url/home``, from all three, ``quorum``),
    ``service:web/eu`` (``base_url/eu``, from ams1 only; left out without ``with_eu``) and
    ``service:web/local`` (no locations: the server's own). Thresholds 2 down, 1 up."""
    eu = f"""    - name: eu
      url: "{base_url}/eu"
      interval: {interval}
      timeout: {timeout}
      failureThreshold: 2
      successThreshold: 1
      locations: [datacenter:ams1]
"""
    documents = [
        f"""apiVersion: infradex/v1
kind: Datacenter
metadata: {{name: {name}}}
spec: {{provider: cloud}}
"""
        for name in LOCATIONS
    ]
    documents.append(
        """apiVersion: infradex/v1
kind: Provider
metadata: {name: cloud, title: Cloud}
spec: {type: iaas}
"""
    )
    documents.append(
        f"""apiVersion: infradex/v1
kind: Service
metadata: {{name: web, title: Web}}
spec:
  lifecycle: production
  checks:
    - name: home
      url: "{base_url}/home"
      interval: {interval}
      timeout: {timeout}
      failureThreshold: 2
      successThreshold: 1
      locations: [ams1, nyc1, sfo1]
      quorum: {quorum}
      headers: {{X-Probe-Key: "env:INFRADEX_TEST_PROBE_KEY"}}
{eu if with_eu else ""}    - {{name: local, url: "{base_url}/local", interval: {interval},
       timeout: {timeout}}}
"""
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text("---\n".join(documents), encoding="utf-8")
    return root


def load_agents_catalog(root: Path, base_url: str = "http://127.0.0.1:9", **kw: object) -> Catalog:
    loaded = load(agents_catalog(root, base_url, **kw))  # type: ignore[arg-type]
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog
