"""Reading CSV files: the shared pieces both sides' CSV readers use."""
