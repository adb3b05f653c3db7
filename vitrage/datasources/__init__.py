"""Datasource plugins: a driver (collector side) and a transformer (graph
side) per datasource, registered in the ``vitrage.datasources`` entry-point
group and switched on by ``[datasources] types``."""
from vitrage.datasources.base import DriverBase
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import TransformerBase

__all__ = ['DriverBase', 'EntityUpdate', 'Neighbor', 'TransformerBase']
