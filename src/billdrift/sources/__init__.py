"""Sources: the edge where files, databases and APIs become canonical relations."""
