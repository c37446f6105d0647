"""The monitor: checks from the catalog, run on a schedule, judged, turned into state and
history. Pure parts (``checks``, ``evaluate``, ``maintenance``, ``rollups``) are functions of
their inputs; ``scheduler`` and ``service`` are the asyncio edges."""
