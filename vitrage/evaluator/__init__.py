"""Scenario templates and their evaluation.

Public surface: validate / load templates (any version) into the typed
model, plus the constants the API needs for its result dicts; the
scenario evaluator (:class:`ScenarioEvaluator`, :func:`settle`) and the
transformer of its action events (:class:`EvaluatorTransformer`).
"""
from vitrage.evaluator.engine import EvaluationLoopError
from vitrage.evaluator.engine import ScenarioEvaluator
from vitrage.evaluator.engine import settle
from vitrage.evaluator.equivalence import EquivalenceConflict
from vitrage.evaluator.events import ActionEvent
from vitrage.evaluator.events import deduced_alarm_key
from vitrage.evaluator.events import ExternalAction
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
from vitrage.evaluator.transformer import EvaluatorTransformer
from vitrage.evaluator.validation import load
from vitrage.evaluator.validation import load_text
from vitrage.evaluator.validation import validate
from vitrage.evaluator.validation import validate_text

__all__ = [
    'ACTION_TYPES', 'ActionEvent', 'ActionSpec', 'And', 'Atom', 'Clause',
    'DESCRIPTION_CONTENT', 'DESCRIPTION_SYNTAX', 'DESCRIPTION_VALIDATION',
    'EntitySpec', 'EquivalenceConflict', 'EquivalenceDef',
    'EvaluationLoopError', 'EvaluatorTransformer', 'ExternalAction',
    'GetAttr', 'MESSAGES', 'Not', 'Or', 'RelationshipSpec', 'STATUS_FAILED',
    'STATUS_OK', 'Scenario', 'ScenarioEvaluator', 'TEMPLATE_TYPES',
    'TEMPLATE_VERSIONS', 'TemplateDef', 'TemplateValidationError',
    'TemplateYAMLError', 'ValidationResult', 'deduced_alarm_key',
    'evaluate', 'load', 'load_text', 'parse_yaml', 'settle', 'validate',
    'validate_text',
]
