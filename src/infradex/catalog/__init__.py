"""The catalog: load, validate, relate and query (pure; no store, web or monitor here)."""

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.loading import LoadedCatalog, load
from infradex.catalog.problems import Problem
from infradex.catalog.refs import KINDS, Ref, parse_ref

__all__ = ["KINDS", "Catalog", "Entity", "LoadedCatalog", "Problem", "Ref", "load", "parse_ref"]
