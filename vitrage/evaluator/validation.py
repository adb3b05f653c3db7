"""Validating and loading templates: the entry points.

:func:`validate` answers what ``POST /v1/template`` reports for one
template (code, message, description) and, for a valid one, the template
as ``PUT /v1/template`` stores it. :func:`load` turns a template into the
model the evaluator runs.

Order (templates.md section 9, rest-api-v1.md 4.15): scalars are
normalised to strings; the effective type is resolved (66); equivalence
templates are not validated ("No Validation"); ``metadata`` (62) and
``metadata.version`` (63) pick the version's pipeline. A template with
parameters goes through its pipeline up to the parameters step, is
resolved, then validated again in full.
"""
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Union

from vitrage.evaluator import equivalence
from vitrage.evaluator import loader_v2
from vitrage.evaluator import loader_v3
from vitrage.evaluator import model
from vitrage.evaluator import parameters
from vitrage.evaluator import status
from vitrage.evaluator.status import TemplateValidationError
from vitrage.evaluator.status import ValidationResult
from vitrage.evaluator import template_yaml

# How includes find definition templates: name -> template dict (or
# None), or a mapping of them. Only ACTIVE/LOADING ones should be visible.
Definitions = Union[Callable[[str], Mapping[str, Any] | None],
                    Mapping[str, Mapping[str, Any]], None]

Loaded = Union[model.TemplateDef, model.EquivalenceDef]


def resolve_type(template: Any, requested: str | None) -> str:
    """The effective template type (rest-api-v1.md 4.15).

    ``metadata.type`` wins; the request's ``template_type`` is the
    fallback; when both are given they must agree.

    :param template: the normalised template.
    :param requested: the request's ``template_type`` (None or '' if not
        given).
    :raises TemplateValidationError: 66, types conflict or none is known.
    """
    metadata = template.get('metadata') if isinstance(template, dict) \
        else None
    own = metadata.get('type') if isinstance(metadata, dict) else None
    own = own or None
    requested = requested or None
    if own and requested and own != requested:
        raise TemplateValidationError(
            66, 'metadata type %r differs from requested type %r'
            % (own, requested))
    effective = own or requested
    if not effective:
        raise TemplateValidationError(66, 'no template type given')
    if own is None and effective not in status.TEMPLATE_TYPES:
        raise TemplateValidationError(66, repr(effective))
    return effective


def template_version(template: Mapping[str, Any]) -> str:
    """``metadata.version`` (``"1"`` when missing).

    :raises TemplateValidationError: 62 (no metadata), 4 (metadata is not
        a mapping), 63 (unsupported version).
    """
    if 'metadata' not in template:
        raise TemplateValidationError(62)
    metadata = template['metadata']
    if not isinstance(metadata, dict):
        raise TemplateValidationError(4, "expected a mapping @ "
                                         "data['metadata']")
    version = metadata.get('version') or status.DEFAULT_VERSION
    if version not in status.VERSIONS:
        raise TemplateValidationError(63, 'version %r' % version)
    return version


def _lookup(definitions: Definitions
            ) -> Callable[[str], Mapping[str, Any] | None]:
    def find(name: str) -> Mapping[str, Any] | None:
        if definitions is None:
            return None
        found = definitions(name) if callable(definitions) \
            else definitions.get(name)
        return None if found is None else template_yaml.stringify(found)
    return find


def _run(template: Mapping[str, Any], version: str, template_type: str,
         params: Mapping[str, Any] | None, definitions: Definitions,
         defer: bool) -> model.TemplateDef | None:
    if version == '3':
        return loader_v3.load(template, params, defer)
    if version == '1' and template_type not in status.TEMPLATE_TYPES:
        raise TemplateValidationError(66, repr(template_type))
    return loader_v2.load(template, version, template_type, params,
                          _lookup(definitions), defer)


def _process(template: Any, template_type: str | None,
             params: Mapping[str, Any] | None,
             definitions: Definitions
             ) -> tuple[dict[str, Any], str, Loaded | None]:
    """(stored form, effective type, loaded model or None if equivalence
    loading is not asked for).
    """
    template = template_yaml.stringify(template)
    params = template_yaml.stringify(dict(params or {}))
    if not isinstance(template, dict):
        raise TemplateValidationError(4, 'a template must be a mapping',
                                      status.DESCRIPTION_SYNTAX)
    effective = resolve_type(template, template_type)
    if effective == status.TYPE_EQUIVALENCE:
        return template, effective, None
    with status.syntax_stage():
        version = template_version(template)
    parametrised = version != '1' and parameters.has_parameters(template)
    loaded = _run(template, version, effective, params, definitions,
                  defer=parametrised)
    if parametrised:
        template = parameters.resolve(template, params)
        loaded = _run(template, version, effective, None, definitions,
                      defer=False)
    return template, effective, loaded


def validate(template: Any, template_type: str | None = None,
             params: Mapping[str, Any] | None = None,
             definitions: Definitions = None) -> ValidationResult:
    """Validate one template, as ``POST /v1/template`` does.

    :param template: the template (a dict, as sent by the client).
    :param template_type: the request's ``template_type``.
    :param params: the request's parameter values.
    :param definitions: definition templates visible to ``includes``.
    :returns: code 0 with the stored form of the template (parameters
        resolved) or the first failure's code and message.
    """
    try:
        stored, effective, _loaded = _process(template, template_type,
                                              params, definitions)
    except TemplateValidationError as e:
        return e.result()
    if effective == status.TYPE_EQUIVALENCE:
        return status.unvalidated_result(stored, effective)
    return status.ok_result(stored, effective)


def validate_text(text: str, template_type: str | None = None,
                  params: Mapping[str, Any] | None = None,
                  definitions: Definitions = None) -> ValidationResult:
    """:func:`validate` for YAML text; invalid YAML gives code 5."""
    try:
        template = template_yaml.load_text(text)
    except template_yaml.TemplateYAMLError as e:
        return TemplateValidationError(
            5, _yaml_details(e), status.DESCRIPTION_SYNTAX).result()
    return validate(template, template_type, params, definitions)


def load(template: Any, template_type: str | None = None,
         params: Mapping[str, Any] | None = None,
         definitions: Definitions = None) -> Loaded:
    """Load a template into the evaluator's model.

    Same arguments as :func:`validate`. Standard and definition
    templates give a :class:`~.model.TemplateDef`, equivalence templates
    an :class:`~.model.EquivalenceDef`.

    :raises TemplateValidationError: the template is invalid (its
        ``code`` and ``message`` are those :func:`validate` reports).
    """
    stored, effective, loaded = _process(template, template_type, params,
                                         definitions)
    if effective == status.TYPE_EQUIVALENCE:
        return equivalence.load_equivalence(stored)
    return loaded


def load_text(text: str, template_type: str | None = None,
              params: Mapping[str, Any] | None = None,
              definitions: Definitions = None) -> Loaded:
    """:func:`load` for YAML text.

    :raises TemplateValidationError: code 5 for invalid YAML, else as
        :func:`load`.
    """
    try:
        template = template_yaml.load_text(text)
    except template_yaml.TemplateYAMLError as e:
        raise TemplateValidationError(
            5, _yaml_details(e), status.DESCRIPTION_SYNTAX) from e
    return load(template, template_type, params, definitions)


def _yaml_details(error: template_yaml.TemplateYAMLError) -> str:
    return ' '.join(str(error.__cause__ or error).split())
