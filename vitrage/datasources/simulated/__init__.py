"""A deterministic simulated OpenStack cloud, for demos and benchmarks."""
