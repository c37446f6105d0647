"""One module per way of telling people, all behind :class:`~.base.Notifier`."""
