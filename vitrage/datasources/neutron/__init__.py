"""Neutron entities: networks and the ports of compute instances."""
