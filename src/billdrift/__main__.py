"""`python -m billdrift` runs the CLI."""

from billdrift.cli.entry import main

main()
