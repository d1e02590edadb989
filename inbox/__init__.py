"""The web inbox and the HTTP API: a FastAPI app over the support workflows.

`inbox.app.create_app(settings)` builds it; `trkv web` serves it with uvicorn.
"""
