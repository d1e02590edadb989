"""The web inbox and the HTTP API: a FastAPI app over the support workflows.

`create_app(settings)` builds it; `trkv web` serves it with uvicorn.
"""

from inbox.app import create_app

__all__ = ["create_app"]
