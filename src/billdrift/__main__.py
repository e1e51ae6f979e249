"""`python -m billdrift` runs the CLI."""

from billdrift.entry import main

main()
