"""The ``doctor`` datasource: host failures posted to ``/v1/event``."""
