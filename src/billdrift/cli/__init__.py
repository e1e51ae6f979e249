"""The command line: click commands only.

Each command parses its input, calls the use cases (:mod:`billdrift.usecases`)
and presents the result; :mod:`billdrift.cli.exits` turns failures into exit
codes, in one place. ``app`` holds the command group and the list of commands.
"""
