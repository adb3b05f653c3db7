"""vitrage-collector: runs datasource drivers for vitrage-graph."""
