"""The application: what the CLI, and any other front-end, asks billdrift to do.

Each use case takes settings and returns data (a Report, a recorded run, deliveries);
none prints or exits, so a web app, a webhook listener or an agent server calls the
same functions the CLI does."""
