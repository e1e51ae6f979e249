"""Running the check in CI: the Python side of the repository's GitHub Action
(``action.yml``): the report's facts as step outputs and job summary, one pull-request
comment kept up to date, and the state a scheduled run restores when the cache is gone.

Here rather than in the action's shell steps so that it is tested like the rest of
billdrift (tests/usecases/ci run it against a local fake of GitHub's REST API)."""
