"""vitrage-api: the REST API (Flask), one controller module per resource.

:func:`vitrage.api.app.build_app` assembles the WSGI application.
"""
