"""The review dashboard served by ``vidgen serve`` at ``/``, and the offline API docs.

Everything it needs ships in the package: ``static/`` holds the page, its one script and its
style sheet (vanilla JavaScript, no build step); the Swagger UI and ReDoc files come from the
``fastapi-offline`` package. The page reads and acts only through the JSON API, which calls
``vidgen.service`` like the CLI does, so the page and ``vidgen videos``/``status`` always agree.
Imported only by ``vidgen.api``, never at CLI start-up.
"""
