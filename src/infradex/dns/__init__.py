"""DNS as code: the catalog's zones planned against, applied to and compared with their live
DNS providers through octoDNS, each change annotated with what the catalog knows about the
names it touches (docs/dns.md).

``providers`` builds the octoDNS provider of a catalog Provider (I/O: imports, secrets, the
address policy); ``desired`` turns a zone's records into octoDNS's model; ``plan`` computes
and fingerprints plans (I/O: reads the live zone); ``annotate`` says which services, owners
and on-call people each change touches and how risky it is (pure); ``render`` shows a plan as
a table, Markdown or JSON (pure); ``apply`` applies exactly a planned checksum; ``drift``
compares one zone for the monitor's ``dns-drift`` probe (the monitor builds it into the
probe's request). The package imports no ``monitor``, which imports it; the books of an apply
(maintenance windows, audit) are ``infradex.runtime.dns_changes``.
"""
