"""Scenario templates and their evaluation.

Public surface: validate / load templates (any version) into the typed
model, plus the constants the API needs for its result dicts.
"""
from vitrage.evaluator.equivalence import EquivalenceConflict
from vitrage.evaluator.functions import evaluate
from vitrage.evaluator.functions import GetAttr
from vitrage.evaluator.model import ActionSpec
from vitrage.evaluator.model import And
from vitrage.evaluator.model import Atom
from vitrage.evaluator.model import Clause
from vitrage.evaluator.model import EntitySpec
from vitrage.evaluator.model import EquivalenceDef
from vitrage.evaluator.model import Not
from vitrage.evaluator.model import Or
from vitrage.evaluator.model import RelationshipSpec
from vitrage.evaluator.model import Scenario
from vitrage.evaluator.model import TemplateDef
from vitrage.evaluator.status import ACTION_TYPES
from vitrage.evaluator.status import DESCRIPTION_CONTENT
from vitrage.evaluator.status import DESCRIPTION_SYNTAX
from vitrage.evaluator.status import DESCRIPTION_VALIDATION
from vitrage.evaluator.status import MESSAGES
from vitrage.evaluator.status import STATUS_FAILED
from vitrage.evaluator.status import STATUS_OK
from vitrage.evaluator.status import TEMPLATE_TYPES
from vitrage.evaluator.status import TEMPLATE_VERSIONS
from vitrage.evaluator.status import TemplateValidationError
from vitrage.evaluator.status import ValidationResult
from vitrage.evaluator.template_yaml import load_text as parse_yaml
from vitrage.evaluator.template_yaml import TemplateYAMLError
from vitrage.evaluator.validation import load
from vitrage.evaluator.validation import load_text
from vitrage.evaluator.validation import validate
from vitrage.evaluator.validation import validate_text

__all__ = [
    'ACTION_TYPES', 'ActionSpec', 'And', 'Atom', 'Clause',
    'DESCRIPTION_CONTENT', 'DESCRIPTION_SYNTAX', 'DESCRIPTION_VALIDATION',
    'EntitySpec', 'EquivalenceConflict', 'EquivalenceDef', 'GetAttr',
    'MESSAGES', 'Not', 'Or', 'RelationshipSpec', 'STATUS_FAILED',
    'STATUS_OK', 'Scenario', 'TEMPLATE_TYPES', 'TEMPLATE_VERSIONS',
    'TemplateDef', 'TemplateValidationError', 'TemplateYAMLError',
    'ValidationResult', 'evaluate', 'load', 'load_text', 'parse_yaml',
    'validate', 'validate_text',
]
