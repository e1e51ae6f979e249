"""The pure core: canonical relations, the rules and the engine that runs them, the Report.

Nothing here prints, exits, reads a file or opens a socket: sources hand it Arrow
relations and renderers take its immutable Report."""
