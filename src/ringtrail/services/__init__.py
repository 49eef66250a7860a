"""The service layer: use cases shared by the API, the dashboard, the CLI and jobs."""
