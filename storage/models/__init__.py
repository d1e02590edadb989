"""The hub's tables, as SQLAlchemy 2 typed models, one module per domain.

A new domain adds a module here (and its Alembic revision); `base.all_metadata()`
imports every module, for Alembic and the schema checks.
"""
