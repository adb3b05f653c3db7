"""The template operations of the API: validate, add, list, show, delete.

:class:`TemplateCatalog` implements rest-api-v1.md 4.12-4.17 on a
:class:`~vitrage.storage.templates.TemplateStore`; the active
vitrage-graph puts what it stores in force
(:mod:`vitrage.graph.templates`). It also seeds an empty store from a
directory of template files (``[evaluator] templates_dir``).
"""
from collections.abc import Callable
from collections.abc import Iterable
import datetime
import logging
import os
import time
from typing import Any

from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError
from vitrage.evaluator import template_yaml
from vitrage.evaluator import validation
from vitrage.storage import templates as store_mod

LOG = logging.getLogger(__name__)

UNKNOWN_TYPE = 'Unknown template type'
DUPLICATE_NAME = 'Duplicate template name'

# (file path or None, template document) as the client sends them.
Submitted = tuple[str | None, Any]


class TemplateError(Exception):
    """A template operation failed as a whole (not one template)."""


def template_name(template: Any, path: str | None = None) -> str:
    """``metadata.name`` of a template, else its file name, else ''."""
    if isinstance(template, dict):
        metadata = template.get('metadata')
        if isinstance(metadata, dict):
            for key in ('name', 'id'):
                if metadata.get(key) not in (None, ''):
                    return str(metadata[key])
    if path:
        return os.path.splitext(os.path.basename(path))[0]
    return ''


def _now_text() -> str:
    return str(datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None))


def _unstored(name: str, template_type: str | None,
              details: str) -> dict[str, Any]:
    return {'uuid': '', 'name': name, 'status': store_mod.ERROR,
            'status details': details, 'date': _now_text(),
            'type': template_type}


class TemplateCatalog:
    """Template operations over the template store.

    :param store: the template store.
    """

    def __init__(self, store: store_mod.TemplateStore) -> None:
        self.store = store

    # -- reading --------------------------------------------------------
    def definitions(self) -> Callable[[str], Any]:
        """How ``includes`` find definition templates: those in force.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        found = {t.name: t.content for t in self.store.rows(
            store_mod.IN_FORCE)
            if t.template_type == status.TYPE_DEFINITION}
        return found.get

    def list_all(self) -> list[dict[str, Any]]:
        """``GET /v1/template``: every template, in creation order.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        return [t.to_api_dict() for t in self.store.rows()]

    def show(self, uuid_or_name: str) -> Any:
        """``GET /v1/template/<id>``: the stored document, or None.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        found = self.store.get(uuid_or_name)
        return None if found is None else found.content

    # -- validating and adding -------------------------------------------
    def validate(self, templates: Iterable[Submitted],
                 template_type: str | None = None,
                 params: dict | None = None) -> list[dict[str, Any]]:
        """``POST /v1/template``: one result per template, nothing stored.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        definitions = self.definitions()
        return [validation.validate(t, template_type, params,
                                    definitions).to_api_dict(path)
                for path, t in templates]

    def add(self, templates: Iterable[Submitted],
            template_type: str | None = None, params: dict | None = None,
            overwrite: bool = False,
            wait: Callable[[list[str]], bool] | None = None
            ) -> list[dict[str, Any]]:
        """``PUT /v1/template``: validate and store each template.

        :param overwrite: delete the templates of the same names first.
        :param wait: called with the uuids being deleted by an overwrite;
            returns whether they are gone (default: poll the store).
        :returns: one row per template (rest-api-v1.md 4.16).
        :raises TemplateError: the templates an overwrite replaces were not
            deleted in time.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        templates = [(path, template_yaml.stringify(t))
                     for path, t in templates]
        definitions = self.definitions()
        checked = [self._check(path, t, template_type, params, definitions)
                   for path, t in templates]
        if overwrite:
            names = {name for name, _result in checked}
            replaced = [t for t in self.store.rows() if t.name in names]
            pending = self._delete(replaced)
            if pending and not (wait or self.wait_deleted)(pending):
                raise TemplateError(
                    'templates %s were not deleted in time'
                    % ', '.join(sorted(pending)))
        in_use = self.store.names_in_use()
        return [self._store(path, template, template_type, name, result,
                            in_use)
                for (path, template), (name, result) in zip(templates,
                                                            checked)]

    @staticmethod
    def _check(path: str | None, template: Any,
               template_type: str | None, params: dict | None,
               definitions: Callable[[str], Any]
               ) -> tuple[str, Any]:
        """(name, validation result or None for an unknown type)."""
        name = template_name(template, path)
        try:
            validation.resolve_type(template, template_type)
        except TemplateValidationError:
            return name, None
        result = validation.validate(template, template_type, params,
                                     definitions)
        return (result.name or name if result.is_valid else name), result

    def _store(self, path: str | None, template: Any,
               template_type: str | None, name: str,
               result: Any, in_use: set[str]) -> dict[str, Any]:
        if result is None:
            return _unstored(name, template_type, UNKNOWN_TYPE)
        if name in in_use:
            return _unstored(name, template_type, DUPLICATE_NAME)
        if result.is_valid:
            stored = self.store.add(name, result.template_type,
                                    store_mod.LOADING, result.message,
                                    result.template)
        else:
            metadata = template.get('metadata') \
                if isinstance(template, dict) else None
            own = metadata.get('type') if isinstance(metadata, dict) \
                else None
            stored = self.store.add(name, own or template_type,
                                    store_mod.ERROR, result.message,
                                    template)
        in_use.add(stored.name)
        LOG.info('template %s (%s) stored as %s: %s', stored.name,
                 stored.uuid, stored.status, stored.status_details)
        return stored.to_api_dict()

    # -- deleting -------------------------------------------------------
    def delete(self, ids: Iterable[str]) -> list[str]:
        """``DELETE /v1/template``: ERROR templates go at once, the others
        move to DELETING for the graph to unload. Unknown ids are ignored.

        :param ids: uuids or names.
        :returns: the uuids now DELETING.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        wanted = set(ids)
        found = [t for t in self.store.rows()
                 if t.uuid in wanted or t.name in wanted]
        return self._delete(found)

    def _delete(self, found: Iterable[store_mod.StoredTemplate]
                ) -> list[str]:
        pending = []
        for template in found:
            if template.status == store_mod.ERROR:
                self.store.remove(template.uuid)
                continue
            if template.status != store_mod.DELETING:
                self.store.set_status(template.uuid, store_mod.DELETING)
            pending.append(template.uuid)
        return pending

    def wait_deleted(self, uuids: list[str], timeout: float = 30.0,
                     interval: float = 0.1) -> bool:
        """Poll until none of ``uuids`` is stored any more.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = {t.uuid for t in self.store.rows()} & set(uuids)
            if not left:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # -- seeding --------------------------------------------------------
    def seed(self, directory: str) -> list[dict[str, Any]]:
        """Add every ``*.yaml`` / ``*.yml`` file of ``directory`` when the
        store holds no template at all (a first start).

        :returns: the rows added (none when the store was not empty).
        :raises oslo_db.exception.DBError: when the database fails.
        """
        if not directory or self.store.count():
            return []
        rows = self.add(read_directory(directory))
        LOG.info('seeded the template store with %d templates from %s',
                 len(rows), directory)
        return rows


def read_directory(directory: str) -> list[Submitted]:
    """The template files of a directory as (path, document) pairs.

    A file that is not valid YAML gives a document of None, which
    validates as a syntax error naming the problem (logged here too).
    """
    found = []
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        LOG.error('cannot read the templates directory %s: %s',
                  directory, exc)
        return []
    for name in names:
        if not name.endswith(('.yaml', '.yml')):
            continue
        path = os.path.join(directory, name)
        try:
            document = template_yaml.load_file(path)
        except (OSError, template_yaml.TemplateYAMLError) as exc:
            LOG.error('template file %s is unreadable: %s', path, exc)
            document = None
        found.append((path, document))
    return found
