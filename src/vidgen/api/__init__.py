"""The HTTP face (FastAPI, extra ``http``): ``app.create_app`` and one route module per resource.

Imported only by ``vidgen serve`` (and tests), never at CLI start-up.
"""
