"""What runs: the live catalog, the loops in the background, and one assembly of monitor,
alerter and heartbeat shared by ``infradex serve`` and ``infradex monitor``."""
