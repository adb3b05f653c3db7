"""Vitrage: root cause analysis for clouds."""
from vitrage.common import memory_transport

# ``kombu+vitrage-memory:////`` works in every process that imports us.
memory_transport.register()
