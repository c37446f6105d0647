"""``python -m infradex`` runs the command line."""

from infradex.cli.main import main

main()
