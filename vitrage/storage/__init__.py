"""The Vitrage database: models, migrations, event log, terms, history.

Other packages use :mod:`connection` (``from_conf``), :mod:`eventlog`
(``EventLog``, ``get_event_log``), :mod:`terms` (``TermStore``),
:mod:`history` and :mod:`purge`.
"""
