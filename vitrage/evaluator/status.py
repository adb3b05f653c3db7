"""Validation status codes, their messages and the validation result.

The codes are the compatibility contract of templates.md section 10; the
messages are the human text the API returns next to them. A message may
carry details, appended as ``"<message> - <details>"``.
"""
from collections.abc import Iterator
import contextlib
import dataclasses
from typing import Any

from vitrage.common import exceptions

# Values of the API's result dicts (rest-api-v1.md 4.15).
STATUS_OK = 'validation OK'
STATUS_FAILED = 'validation failed'
DESCRIPTION_SYNTAX = 'Template syntax validation'
DESCRIPTION_CONTENT = 'Template content validation'
DESCRIPTION_VALIDATION = 'Template validation'

OK = 0
NO_VALIDATION_MESSAGE = 'No Validation'
# The API's ``status code`` of a template that is not validated
# (equivalence templates), as the retired project answered.
NO_VALIDATION_CODE = ''

TYPE_STANDARD = 'standard'
TYPE_DEFINITION = 'definition'
TYPE_EQUIVALENCE = 'equivalence'
TEMPLATE_TYPES = (TYPE_STANDARD, TYPE_DEFINITION, TYPE_EQUIVALENCE)

VERSIONS = ('1', '2', '3')
CURRENT_VERSION = '3'
DEFAULT_VERSION = '1'

# GET /v1/template/versions
TEMPLATE_VERSIONS = (
    {'version': 'v1', 'status': 'SUPPORTED'},
    {'version': 'v2', 'status': 'SUPPORTED'},
    {'version': 'v3', 'status': 'CURRENT'},
)

ACTION_RAISE_ALARM = 'raise_alarm'
ACTION_SET_STATE = 'set_state'
ACTION_ADD_CAUSAL_RELATIONSHIP = 'add_causal_relationship'
ACTION_MARK_DOWN = 'mark_down'
ACTION_EXECUTE_MISTRAL = 'execute_mistral'
ACTION_TYPES = (ACTION_RAISE_ALARM, ACTION_SET_STATE,
                ACTION_ADD_CAUSAL_RELATIONSHIP, ACTION_MARK_DOWN,
                ACTION_EXECUTE_MISTRAL)

_TYPES_TEXT = ', '.join(TEMPLATE_TYPES)

MESSAGES: dict[int, str] = {
    0: 'Template validation is OK',
    1: 'template_id field contains incorrect string value',
    2: 'Duplicate template_id definition',
    3: 'template_id does not appear in the definition block',
    4: 'Syntax error',
    5: 'Invalid YAML file',
    20: 'definitions section must contain entities field',
    21: 'definitions is a mandatory section',
    41: 'Entity definition must contain template_id field',
    42: 'Entity definition must contain category field',
    43: 'At least one entity must be defined',
    45: 'Invalid entity category. Category must be one of: ALARM, RESOURCE',
    46: 'entity field is required',
    47: 'Invalid regular expression',
    60: 'metadata section must contain id field',
    62: 'metadata is a mandatory section',
    63: 'Unsupported version. Version must be one of: ' + ', '.join(VERSIONS),
    64: 'metadata section must contain a valid type field. Type must be '
        'one of: ' + _TYPES_TEXT,
    65: 'Invalid template type. Type must be one of: ' + _TYPES_TEXT,
    66: 'Unknown template type',
    80: 'scenarios is a mandatory section',
    81: 'At least one scenario must be defined',
    82: 'scenario field is required',
    83: 'Scenario definition must contain condition field',
    84: 'Scenario definition must contain actions field',
    85: 'Failed to convert condition',
    86: 'Not operator can be used only on relationships',
    100: 'Relationship definition must contain a valid relationship_type '
         'field',
    101: 'relationship field is required',
    102: 'Relationship definition must contain source field',
    103: 'Relationship definition must contain target field',
    104: 'Relationship definition must contain template_id field',
    120: 'Invalid action type. Action type must be one of: '
         + ', '.join(ACTION_TYPES),
    121: 'At least one action must be defined',
    122: 'action field is required',
    123: 'Action definition must contain action_type field',
    124: 'Action definition must contain action_target field',
    125: 'raise_alarm action must contain alarm_name field in properties '
         'block',
    126: 'raise_alarm action must contain severity field',
    127: 'raise_alarm action must contain target field in action_target '
         'block',
    128: 'set_state action must contain state field',
    129: 'set_state action must contain target field in action_target block',
    130: 'add_causal_relationship action must contain source and target '
         'fields in action_target block',
    131: 'mark_down action must contain target field in action_target block',
    132: 'add_causal_relationship action requires source and target to be '
         'ALARM entities',
    133: 'execute_mistral action must contain workflow field in properties '
         'block',
    134: "Condition can not contain only 'not' clauses",
    135: "Condition must contain a common entity for all 'or' clauses",
    136: 'Input parameters of the Mistral workflow in an execute_mistral '
         "action must be placed under an 'input' block",
    137: 'Functions are supported only from version 2',
    138: 'Input parameters of the Mistral workflow in an execute_mistral '
         "action can not contain '(', ')' or ',' unless they are a "
         'function call',
    140: 'At least one template must be included',
    141: 'Name field is unspecified for include',
    142: 'Trying to include a template that does not exist',
    143: "A definition template cannot contain 'includes' or 'scenarios' "
         'blocks',
    160: 'Parameters are supported only from version 2',
    161: "get_param called for a parameter that is not defined in the "
         "'parameters' block",
    162: 'Failed to resolve parameter: malformed get_param call',
    163: 'Failed to resolve parameter',
    10000: 'Template must contain an entities section',
    10100: 'Action must contain a target field',
    10101: 'Action target is not an entity key',
    10102: 'Action must contain a source field',
    10103: 'Action source is not an entity key',
    10104: 'raise_alarm action must contain alarm_name field',
    10105: 'execute_mistral action must contain workflow field',
    10107: 'causing_alarm is not an entity key',
    10200: 'Condition refers to an entity that is not defined',
}

# Codes raised outside the syntax and content stages.
_GENERAL_CODES = frozenset({0, 66, 163})


def description_of(code: int) -> str:
    """The API ``description`` of a code raised outside the syntax stage."""
    if code in _GENERAL_CODES:
        return DESCRIPTION_VALIDATION
    return DESCRIPTION_CONTENT


def message_of(code: int, details: str | None = None) -> str:
    """The message of ``code`` with ``details`` appended after ``' - '``."""
    message = MESSAGES[code]
    return '%s - %s' % (message, details) if details else message


class TemplateValidationError(exceptions.VitrageError):
    """A template breaks a rule; ``code`` is its templates.md status code.

    Raised inside the validation pipeline and by :func:`load` on an
    invalid template. ``str()`` gives the full message. ``description``
    says which stage failed (see :func:`syntax_stage`); by default
    the content stage.
    """

    def __init__(self, code: int, details: str | None = None,
                 description: str | None = None) -> None:
        self.code = code
        self.details = details
        self.description = description or description_of(code)
        super().__init__(message_of(code, details))

    @property
    def message(self) -> str:
        return message_of(self.code, self.details)

    def result(self) -> 'ValidationResult':
        return ValidationResult(self.code, self.message, self.description)


@contextlib.contextmanager
def syntax_stage() -> Iterator[None]:
    """Errors raised inside are reported as syntax errors."""
    try:
        yield
    except TemplateValidationError as e:
        e.description = DESCRIPTION_SYNTAX
        raise


@dataclasses.dataclass(frozen=True, slots=True)
class ValidationResult:
    """The outcome of validating one template.

    ``template`` is the normalised template as it would be stored (all
    scalars strings, parameters resolved, no ``parameters`` section);
    ``template_type`` the effective type. Both are None when the
    template is invalid. ``validated`` is False for a template accepted
    without validation (an equivalence template): the API then answers
    an empty ``status code``.
    """

    status_code: int
    message: str
    description: str
    template: dict | None = dataclasses.field(default=None, compare=False,
                                              repr=False)
    template_type: str | None = None
    validated: bool = True

    @property
    def is_valid(self) -> bool:
        return self.status_code == OK

    @property
    def name(self) -> str | None:
        """``metadata.name`` of the (resolved) template, when valid."""
        if self.template is None:
            return None
        return self.template.get('metadata', {}).get('name')

    def to_api_dict(self, file_path: str | None) -> dict[str, Any]:
        """One entry of ``POST /v1/template`` results.

        :param file_path: the path the client sent with the template.
        """
        return {
            'file path': file_path,
            'status': STATUS_OK if self.is_valid else STATUS_FAILED,
            'description': self.description,
            'message': self.message,
            'status code': self.status_code if self.validated
            else NO_VALIDATION_CODE,
        }


def ok_result(template: dict, template_type: str) -> ValidationResult:
    """A template that passed validation (code 0)."""
    return ValidationResult(OK, MESSAGES[OK], DESCRIPTION_VALIDATION,
                            template, template_type)


def unvalidated_result(template: dict,
                       template_type: str) -> ValidationResult:
    """A template accepted without validation (equivalence templates):
    message ``No Validation``, empty ``status code`` in the API.
    """
    return ValidationResult(OK, NO_VALIDATION_MESSAGE,
                            DESCRIPTION_VALIDATION, template, template_type,
                            validated=False)
