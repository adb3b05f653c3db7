"""Typed errors. Each names the bad input so an operator can fix it."""


class VitrageError(Exception):
    """Base of every error Vitrage raises on purpose."""


class ConfigError(VitrageError):
    """The configuration is unusable (unknown datasource, bad value...)."""


class DatasourceLoadError(ConfigError):
    """A datasource plugin could not be loaded or declares bad capabilities."""


class MalformedEvent(VitrageError):
    """An entity event lacks a key or holds a value the transformer rejects."""


class NotFound(VitrageError):
    """A vertex, template or other object does not exist."""


class BadRequest(VitrageError):
    """A request (query, parameter) is malformed."""


class GraphNotReady(VitrageError):
    """The graph is still initialising."""
