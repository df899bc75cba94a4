"""The review dashboard's files, and what every HTTP route shares below the routes themselves.

``static/`` holds the page, its one script and its style sheet (vanilla JavaScript, no build
step), ``templates/`` the page, login and docs shells (the Swagger UI and ReDoc files come from
the ``fastapi-offline`` package); ``security`` is the guard (bearer token or session cookie, no
cross-site writes, loopback Hosts) and ``responses`` the JSON bodies and one-line errors. The
routes that serve them are ``vidgen.api``'s (``dashboard_routes``): the page reads and acts only
through the JSON API, which calls ``vidgen.service`` like the CLI does, so the page and
``vidgen videos``/``status`` always agree. Imported only by ``vidgen.api``, never at CLI start-up.
"""
