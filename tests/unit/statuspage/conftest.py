"""The small catalog with status-page components that the status page's unit tests use.

::

    provider:fastly (CDN, component "Content Delivery Network", check edge)
    provider:do ── datacenter:nyc1 ── host:web1, host:web2
    service:pypi     frontedBy fastly, hostedOn web1 + web2; checks home, simple   [PyPI]
    service:files    frontedBy fastly; check files                                 [PyPI]
    service:docs     hostedOn web1; dependsOn backend (hard), search (soft)        [Python.org]
    service:search   hostedOn web2; check query; public: false                     [Python.org]
    service:backend  hostedOn web2; check api; no component
    service:mail     check smtp; onlyShowIfDegraded                                [Mail]
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.catalog import Catalog
from infradex.lint import load

CATALOG = {
    "all.yaml": """\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: fastly, title: Fastly}
    spec:
      type: cdn
      checks: [{name: edge, url: "http://127.0.0.1:9/edge"}]
      statusPage: {name: Content Delivery Network, order: 50}
    ---
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: do, title: DigitalOcean}
    spec: {type: iaas}
    ---
    apiVersion: infradex/v1
    kind: Datacenter
    metadata: {name: nyc1}
    spec: {provider: do}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: web1}
    spec: {datacenter: nyc1}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: web2}
    spec: {datacenter: nyc1}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: pypi, title: PyPI}
    spec:
      frontedBy: [provider:fastly]
      hostedOn: [host:web1, host:web2]
      checks:
        - {name: home, url: "http://127.0.0.1:9/"}
        - {name: simple, url: "http://127.0.0.1:9/simple/"}
      status: {group: Python Package Index, name: pypi.org, order: 1, description: The index}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: files}
    spec:
      frontedBy: [provider:fastly]
      checks: [{name: files, url: "http://127.0.0.1:9/files"}]
      status: {group: Python Package Index, name: files.pythonhosted.org, order: 2}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: docs, title: docs.python.org}
    spec:
      hostedOn: [host:web1]
      dependsOn: [service:backend, {ref: service:search, effect: degraded}]
      status: {group: Python.org}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: search}
    spec:
      hostedOn: [host:web2]
      checks: [{name: query, url: "http://127.0.0.1:9/q"}]
      status: {group: Python.org, name: Search, public: false}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: backend}
    spec:
      hostedOn: [host:web2]
      checks: [{name: api, url: "http://127.0.0.1:9/api"}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: mail}
    spec:
      checks: [{name: smtp, url: "tcp://127.0.0.1:25"}]
      status: {group: Mail, name: Mailing lists, onlyShowIfDegraded: true}
    """
}


@pytest.fixture
def catalog(tmp_path: Path, write_catalog) -> Catalog:  # type: ignore[no-untyped-def]
    loaded = load(write_catalog(tmp_path, CATALOG))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog
