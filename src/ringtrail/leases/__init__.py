"""Number leasing: one small interface (`base`), an SQL and a Redis backend, and the factory."""
