"""Nova entities: availability zones, compute hosts and instances."""
