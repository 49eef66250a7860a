"""Storage adapter: SQLAlchemy models, engine and session handling, Alembic migrations."""
