"""The entity graph, the processor that feeds it, and the graph service."""
from vitrage.graph.driver import EntityGraph

__all__ = ['EntityGraph']
