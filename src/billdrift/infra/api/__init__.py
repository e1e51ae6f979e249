"""HTTP access to billing provider APIs: pacing, retries and errors shared by providers."""
