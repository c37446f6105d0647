"""The public status page (docs/status-page.md): components from the catalog, their states
derived from the monitor's check states, impact and public maintenance (``derive``, pure),
operator overrides (``overrides``, the store), and Statuspage's v2 JSON (``v2``, pure)."""
