"""The support workflows: where connectors, triage and storage meet.

The web app, the CLI and the Celery tasks all call these functions.
"""
