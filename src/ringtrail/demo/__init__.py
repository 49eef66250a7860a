"""Demo data: a realistic project with 90 days of visits, calls, costs and deals."""
