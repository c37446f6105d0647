"""The ``infradex`` command line: thin commands wiring the core to the terminal."""
