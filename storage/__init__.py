"""Persistence: the engine, typed models, queries and Alembic migrations."""
