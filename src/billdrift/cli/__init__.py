"""The command line: click commands only. Each parses its input, calls the use cases
(:mod:`billdrift.usecases`) and presents the result; failures become exit codes in one place."""
