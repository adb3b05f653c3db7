"""Console scripts: each builds its configuration with
:func:`vitrage.service.prepare_service` and runs one ServiceManager."""
