"""The store: schema, migrations and SQL, the same for SQLite and PostgreSQL where it can be."""
