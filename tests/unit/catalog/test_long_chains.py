"""A dependency chain thousands long: no recursion limit in impact or in the diagrams."""

from __future__ import annotations

from pathlib import Path

from infradex.catalog import Ref
from infradex.catalog.queries import graph, impact
from infradex.docs.diagram import to_svg
from infradex.lint import load

LENGTH = 3000


def test_impact_and_diagram_of_a_very_long_chain(tmp_path: Path) -> None:
    documents = [
        "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cloud}\nspec: {type: iaas}\n"
    ]
    for n in range(LENGTH):
        needs = f"dependsOn: [service:s{n + 1}]" if n + 1 < LENGTH else "hostedOn: [provider:cloud]"
        documents.append(
            f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: s{n}}}\n"
            f"spec: {{lifecycle: experimental, {needs}}}\n"
        )
    (tmp_path / "chain.yaml").write_text("---\n".join(documents), encoding="utf-8")
    loaded = load(tmp_path)
    assert loaded.catalog is not None, loaded.errors[:3]
    result = impact(loaded.catalog, Ref("provider", "cloud"))
    assert len(result.affected) == LENGTH
    assert all(a.effect == "down" for a in result.affected)
    assert len(result.affected[-1].path) == LENGTH + 1
    svg = to_svg(loaded.catalog, graph(loaded.catalog, Ref("service", "s0")))
    assert svg.count("<rect") > LENGTH
