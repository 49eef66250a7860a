"""Dashboard: server-rendered pages for people (login, projects, reports later)."""
