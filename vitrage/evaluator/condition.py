"""Parsing scenario conditions and rewriting them in DNF.

Grammar (templates.md section 3; precedence NOT > AND > OR)::

    or_expr  := and_expr { OR and_expr }
    and_expr := unary { AND unary }
    unary    := [ NOT ] primary
    primary  := term | "(" or_expr ")"
    term     := KEY | KEY WS "[" LABEL "]" WS KEY     (v3)
    term     := TEMPLATE_ID                            (v1, v2)

v3 operators are ``AND OR NOT`` or ``and or not``; v1/v2 ones are lower
case only. Any other word is a term. Errors carry their status code:
85 for a condition that does not parse, 10200 (v3) or 3 (v1/v2) for a
term naming nothing defined.
"""
from collections.abc import Collection
import dataclasses
import itertools
import re

from vitrage.evaluator import model
from vitrage.evaluator.status import TemplateValidationError

# A condition whose DNF has more clauses than this is refused (code 85):
# distribution is exponential and no real template comes near it.
MAX_CLAUSES = 256

_V3_OPERATORS = {'AND': 'and', 'and': 'and', 'OR': 'or', 'or': 'or',
                 'NOT': 'not', 'not': 'not'}
_V2_OPERATORS = {'and': 'and', 'or': 'or', 'not': 'not'}

_V3_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<label>\[\s*(?P<label_text>[^\[\]\s()]+)\s*\])
  | (?P<word>\w+)
""", re.VERBOSE)
_V2_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<word>[^\s()]+)
""", re.VERBOSE)


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str            # 'lparen', 'rparen', 'label', 'word', 'op'
    text: str
    space_before: bool
    space_after: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedCondition:
    """A parsed condition and the v3 relationships its terms define."""

    expr: model.Expr
    relationships: dict[str, model.RelationshipSpec]


def _tokenize(text: str, pattern: re.Pattern, operators: dict) -> list:
    tokens = []
    pos = 0
    space = True
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None:
            raise TemplateValidationError(
                85, 'unexpected character %r at position %d in %r'
                % (text[pos], pos, text))
        pos = match.end()
        kind = match.lastgroup     # the outer group: 'label', not its text
        if kind == 'ws':
            space = True
            if tokens:
                tokens[-1] = dataclasses.replace(tokens[-1],
                                                 space_after=True)
            continue
        value = match.group('label_text') if kind == 'label' \
            else match.group(0)
        if kind == 'word' and value in operators:
            kind, value = 'op', operators[value]
        tokens.append(_Token(kind, value, space))
        space = False
    if tokens and pos == len(text):
        tokens[-1] = dataclasses.replace(tokens[-1], space_after=True)
    return tokens


class _Parser:
    """Recursive descent over the token list."""

    def __init__(self, text: str, tokens: list, version3: bool) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.version3 = version3
        self.relationships: dict[str, model.RelationshipSpec] = {}

    def fail(self, what: str) -> TemplateValidationError:
        if self.pos < len(self.tokens):
            found = repr(self.tokens[self.pos].text)
        else:
            found = 'the end'
        return TemplateValidationError(
            85, '%s expected, found %s in %r' % (what, found, self.text))

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        token = self.tokens[self.pos]
        return token.kind == kind and (text is None or token.text == text)

    def parse(self) -> model.Expr:
        if not self.tokens:
            raise TemplateValidationError(85, 'the condition is empty')
        expr = self.or_expr()
        if self.pos != len(self.tokens):
            raise self.fail('an operator')
        return expr

    def or_expr(self) -> model.Expr:
        operands = [self.and_expr()]
        while self.peek('op', 'or'):
            self.pos += 1
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else model.Or(
            tuple(operands))

    def and_expr(self) -> model.Expr:
        operands = [self.unary()]
        while self.peek('op', 'and'):
            self.pos += 1
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else model.And(
            tuple(operands))

    def unary(self) -> model.Expr:
        if self.peek('op', 'not'):
            self.pos += 1
            return model.Not(self.primary())
        return self.primary()

    def primary(self) -> model.Expr:
        if self.peek('lparen'):
            self.pos += 1
            expr = self.or_expr()
            if not self.peek('rparen'):
                raise self.fail("')'")
            self.pos += 1
            return expr
        if not self.peek('word'):
            raise self.fail('a term')
        first = self.tokens[self.pos]
        self.pos += 1
        if not self.version3 or not self.peek('label'):
            return model.Atom(first.text)
        label = self.tokens[self.pos]
        if not label.space_before or not label.space_after:
            raise TemplateValidationError(
                85, 'spaces are required around [%s] in %r'
                % (label.text, self.text))
        self.pos += 1
        if not self.peek('word'):
            raise self.fail('the target entity of [%s]' % label.text)
        target = self.tokens[self.pos]
        self.pos += 1
        key = model.relationship_key(first.text, label.text, target.text)
        self.relationships[key] = model.RelationshipSpec(
            key, first.text, target.text, label.text)
        return model.Atom(key)


def parse(text: str, version: str, known: Collection[str]) -> ParsedCondition:
    """Parse a condition.

    :param text: the condition.
    :param version: template version, ``'1'``, ``'2'`` or ``'3'``.
    :param known: v3: the entity keys; v1/v2: every entity and
        relationship template_id.
    :raises TemplateValidationError: 85 (cannot parse), 10200 (v3,
        unknown word) or 3 (v1/v2, unknown template_id).
    """
    version3 = version == '3'
    if version3:
        tokens = _tokenize(text, _V3_TOKEN, _V3_OPERATORS)
    else:
        tokens = _tokenize(text, _V2_TOKEN, _V2_OPERATORS)
    for token in tokens:
        if token.kind == 'word' and token.text not in known:
            if version3:
                raise TemplateValidationError(
                    10200, '%r in condition %r' % (token.text, text))
            raise TemplateValidationError(
                3, '%r in condition %r' % (token.text, text))
    parser = _Parser(text, tokens, version3)
    expr = parser.parse()
    return ParsedCondition(expr, parser.relationships)


def rename(expr: model.Expr, names: dict[str, str]) -> model.Expr:
    """``expr`` with atom refs replaced as ``names`` says (others kept)."""
    if isinstance(expr, model.Atom):
        return model.Atom(names.get(expr.ref, expr.ref))
    if isinstance(expr, model.Not):
        return model.Not(rename(expr.operand, names))
    return type(expr)(tuple(rename(o, names) for o in expr.operands))


# -- disjunctive normal form -------------------------------------------------

Literal = tuple[str, bool]          # (ref, positive)


def to_dnf(expr: model.Expr) -> list[list[Literal]]:
    """``expr`` as OR of AND-clauses of (possibly negated) atoms.

    Negations are pushed to the atoms (De Morgan, double negation),
    AND is distributed over OR; duplicate literals and clauses go.

    :raises TemplateValidationError: 85, more than MAX_CLAUSES clauses.
    """
    clauses = _dnf(expr, False)
    unique = []
    seen = set()
    for clause in clauses:
        frozen = frozenset(clause)
        if frozen not in seen:
            seen.add(frozen)
            unique.append(clause)
    return unique


def _dnf(expr: model.Expr, negated: bool) -> list[list[Literal]]:
    if isinstance(expr, model.Atom):
        return [[(expr.ref, not negated)]]
    if isinstance(expr, model.Not):
        return _dnf(expr.operand, not negated)
    parts = [_dnf(o, negated) for o in expr.operands]
    conjunction = isinstance(expr, model.And) != negated
    if not conjunction:
        return [clause for part in parts for clause in part]
    size = 1
    for part in parts:
        size *= len(part)
    if size > MAX_CLAUSES:
        raise TemplateValidationError(
            85, 'the condition has more than %d clauses in disjunctive '
            'normal form' % MAX_CLAUSES)
    result = []
    for combination in itertools.product(*parts):
        clause = []
        for literal in itertools.chain.from_iterable(combination):
            if literal not in clause:
                clause.append(literal)
        result.append(clause)
    return result


def build_clauses(dnf: list[list[Literal]],
                  relationships: dict[str, model.RelationshipSpec],
                  text: str) -> tuple[model.Clause, ...]:
    """Typed clauses of a DNF; enforces the NOT rules.

    :param dnf: the result of :func:`to_dnf`.
    :param relationships: every relationship key -> spec; any other ref
        is an entity.
    :param text: the condition, for error details.
    :raises TemplateValidationError: 86 (a negated entity), 134 (a
        condition of one clause without a positive term). A clause
        without a positive term among several (``NOT a [on] h OR NOT b
        [on] h``) is left to the trial load, which reports 135 (no
        common entity) as the retired validator did.
    """
    for clause in dnf:
        for ref, positive in clause:
            if not positive and ref not in relationships:
                raise TemplateValidationError(
                    86, '%r is not a relationship in condition %r'
                    % (ref, text))
    result = []
    for clause in dnf:
        if len(dnf) == 1 and not any(positive for _ref, positive
                                     in clause):
            raise TemplateValidationError(134, 'in condition %r' % text)
        entities: list[str] = []
        rels = []
        negative = []
        for ref, positive in clause:
            if not positive:
                negative.append(ref)
            elif ref in relationships:
                rels.append(ref)
                rel = relationships[ref]
                for end in (rel.source, rel.target):
                    if end not in entities:
                        entities.append(end)
            elif ref not in entities:
                entities.append(ref)
        negative_only = []
        for ref in negative:
            rel = relationships[ref]
            for end in (rel.source, rel.target):
                if end not in entities and end not in negative_only:
                    negative_only.append(end)
        result.append(model.Clause(tuple(entities), tuple(rels),
                                   tuple(negative), tuple(negative_only)))
    return tuple(result)


def common_entities(clauses: tuple[model.Clause, ...]) -> list[str]:
    """Entities bound by every clause, in first-clause order."""
    if not clauses:
        return []
    rest = [set(c.entities) for c in clauses[1:]]
    return [e for e in clauses[0].entities if all(e in r for r in rest)]
