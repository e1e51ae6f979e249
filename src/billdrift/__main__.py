"""`python -m billdrift` runs the CLI."""

from billdrift.cli import main

main()
