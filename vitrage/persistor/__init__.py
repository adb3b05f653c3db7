"""vitrage-persistor: the graph's handled events and history into the DB.

The wire format is in :mod:`vitrage.persistor.batch`; the service in
:mod:`vitrage.persistor.service`.
"""
