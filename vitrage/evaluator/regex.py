"""Template regular expressions (``<property>.regex``), in linear time.

Every template regex is compiled here, by the validator and for the
matcher alike: :func:`compile_pattern`. Patterns are written in Python's
syntax (templates.md section 2) but run on RE2 (the ``google-re2``
package), whose matching time is linear in the length of the text: a
pattern with catastrophic backtracking under Python's engine, such as
``(a+)+$``, cannot stall the graph whatever the names of the alarms it
is matched against.

RE2 runs every construct of the regexes templates use (classes,
alternation, repetition, groups, named groups, non-greedy repetition,
anchors, ``(?i)``-style flags). It cannot run the constructs that need
backtracking: backreferences, lookahead and lookbehind, atomic groups,
possessive repetition and conditional groups. A pattern using one is
refused with an error that names it (code 47 in validation), never run.

Differences that remain: ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII
(Python's are Unicode); ``$`` matches at the very end only (Python's also
before a final newline); repetition counts are at most 1000. Python's
``\\Z`` is read as RE2's ``\\z`` (the same meaning).
"""
import dataclasses
import functools
import re
from typing import Any
from typing import Protocol
import unicodedata
import warnings

import re2

# Compiled patterns kept for reuse: templates repeat patterns (each
# equivalence copy of a scenario compiles its entities again).
_CACHE_SIZE = 4096


class Pattern(Protocol):
    """What the matcher needs of a compiled pattern."""

    pattern: str

    def match(self, text: str) -> Any:
        """Whether the pattern matches at the start of ``text``
        (truthy or falsy).
        """


_ANCHOR_START = re2._Anchor.ANCHOR_START
_NO_SPAN = (-1, -1)


class LinearPattern:
    """A template regex compiled by RE2; :meth:`match` answers a bool.

    google-re2's ``match`` builds a match object with every group's
    position in characters, which costs ten times the matching itself
    for the short names templates look at; the evaluator only needs
    yes or no, so the compiled RE2 object is asked directly when the
    package exposes it (it does since 1.0), through the public ``match``
    otherwise.
    """

    __slots__ = ('pattern', '_compiled', '_direct')

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._compiled = compiled
        direct = getattr(compiled, '_regexp', None)
        self._direct = direct if callable(
            getattr(direct, 'Match', None)) else None

    @property
    def direct(self) -> bool:
        """Whether matching skips the package's match objects."""
        return self._direct is not None

    def match(self, text: str) -> bool:
        """Whether the pattern matches at the start of ``text``."""
        # A lone surrogate (possible in text decoded from JSON) has no
        # UTF-8 form: it is matched as '?'.
        data = text.encode('utf-8', 'replace')
        if self._direct is None:
            return self._compiled.match(data.decode('utf-8')) is not None
        spans = self._direct.Match(_ANCHOR_START, data, 0, len(data))
        return spans[0] != _NO_SPAN

    def __repr__(self) -> str:
        return 'LinearPattern(%r)' % self.pattern

    def __reduce__(self) -> tuple:
        # RE2 objects do not pickle: compile again on the other side.
        return compile_pattern, (self.pattern,)


class TemplateRegexError(ValueError):
    """A template regex cannot be compiled.

    :ivar pattern: the pattern.
    :ivar construct: the construct RE2 cannot run (e.g. ``lookahead
        (?=...)``), or None when the pattern is not a valid regex at all.
    """

    def __init__(self, pattern: str, message: str,
                 construct: str | None = None) -> None:
        self.pattern = pattern
        self.construct = construct
        super().__init__(message)


@dataclasses.dataclass(frozen=True, slots=True)
class _Scan:
    """The pattern for RE2, or the first construct RE2 cannot run."""

    translated: str
    unsupported: str | None
    why: str = 'template regexes run in linear time, without backtracking'


_NO_FLAG = 'the linear-time regex engine knows the flags i, m and s only'


_GROUP_OPENERS = (
    ('(?<=', 'lookbehind (?<=...)'),
    ('(?<!', 'negative lookbehind (?<!...)'),
    ('(?=', 'lookahead (?=...)'),
    ('(?!', 'negative lookahead (?!...)'),
    ('(?P=', 'backreference (?P=name)'),
    ('(?>', 'atomic group (?>...)'),
    ('(?(', 'conditional group (?(...)...)'),
)
_COUNTED = re.compile(r'\{(\d*)(,\d*)?\}')
# Inline flags: RE2 knows i, m and s (Python's u is its default anyway).
_FLAGS = re.compile(r'\(\?([aiLmsux]+)(?:-[imsx]+)?[:)]'
                    r'|\(\?-([imsx]+)[:)]')


_CODE_POINT = re.compile(r'\\(?:u(?P<u>[0-9a-fA-F]{4})'
                         r'|U(?P<U>[0-9a-fA-F]{8})'
                         r'|N\{(?P<N>[^}]+)\}'
                         r'|(?P<octal>0[0-7]{0,2}|[0-3][0-7]{2}))')


# In a class every \<digits> is octal (there are no backreferences).
_CLASS_OCTAL = re.compile(r'\\(?P<octal>[0-7]{1,3})')


def _code_point(match: re.Match) -> int:
    found = match.groupdict()
    if found.get('u') or found.get('U'):
        return int(found.get('u') or found['U'], 16)
    if found.get('N'):
        return ord(unicodedata.lookup(found['N']))
    return int(found['octal'], 8)


def _scan(pattern: str) -> _Scan:
    """Walk a (valid) pattern once: find what RE2 cannot run, and
    rewrite ``\\Z`` as ``\\z``. Character classes and escapes are
    skipped over, so ``[(?=]`` or ``\\(?=`` are not taken for a
    lookahead.
    """
    out = []
    i = 0
    n = len(pattern)
    in_class = False
    class_start = 0
    # The last token was a repetition (``*``, ``+``, ``?``, ``{m,n}``):
    # a ``+`` after it makes it possessive, a ``?`` lazy.
    repeated = False
    last = ''
    while i < n:
        c = pattern[i]
        if c == '\\' and i + 1 < n:
            code = (_CLASS_OCTAL if in_class else _CODE_POINT).match(
                pattern, i) or _CODE_POINT.match(pattern, i)
            if code is not None:
                # Python's \uXXXX, \UXXXXXXXX, \N{name} and octal
                # escapes, which RE2 spells \x{...}.
                out.append('\\x{%x}' % _code_point(code))
                i = code.end()
                repeated = False
                continue
            nxt = pattern[i + 1]
            if not in_class and nxt in '123456789':
                j = i + 2
                if j < n and pattern[j].isdigit():
                    j += 1
                return _Scan(pattern, 'backreference %s' % pattern[i:j])
            out.append('\\z' if nxt == 'Z' and not in_class
                       else pattern[i:i + 2])
            i += 2
            repeated = False
            continue
        if in_class:
            # A ']' right after '[' or '[^' is a literal.
            if c == ']' and i > class_start:
                in_class = False
            out.append(c)
            i += 1
            continue
        step = 1
        now_repeated = False
        if c == '[':
            in_class = True
            class_start = i + 1
            if pattern.startswith('^', class_start):
                class_start += 1
        elif c == '(':
            for opener, name in _GROUP_OPENERS:
                if pattern.startswith(opener, i):
                    return _Scan(pattern, name)
            flags = _FLAGS.match(pattern, i)
            if flags is not None:
                unknown = sorted(set((flags.group(1) or '')
                                     + (flags.group(2) or '')) - set('ims'))
                if unknown == ['u']:
                    # Python's default for text: nothing to ask RE2.
                    token = flags.group(0).replace('u', '')
                    out.append('(?:' if token in ('(?:', '(?)') else token)
                    if token == '(?)':
                        out.append(')')
                    i = flags.end()
                    repeated = False
                    continue
                if unknown:
                    return _Scan(pattern, 'inline flag %s'
                                 % ''.join(unknown), _NO_FLAG)
            if pattern.startswith('(?', i):
                step = 2
        elif c in '*+?':
            if repeated and c == '+':
                return _Scan(pattern, 'possessive repetition %s+' % last)
            # After a repetition, '?' makes it lazy and ends it.
            now_repeated = not repeated
        elif c == '{':
            counted = _COUNTED.match(pattern, i)
            if counted is not None and counted.group(0) != '{}':
                step = counted.end() - i
                now_repeated = True
                if not counted.group(1) and counted.group(2):
                    # Python's {,n} is {0,n}; RE2 would take it as text.
                    out.append('{0%s}' % counted.group(2))
                    last = pattern[i:i + step]
                    i += step
                    repeated = True
                    continue
        out.append(pattern[i:i + step])
        last = pattern[i:i + step]
        i += step
        repeated = now_repeated
    return _Scan(''.join(out), None)


def _options() -> re2.Options:
    options = re2.Options()
    # Errors are raised to the caller, who reports them; RE2's own log
    # line on stderr would only repeat them.
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile_pattern(pattern: str) -> Pattern:
    """Compile a template regex for matching in linear time.

    :param pattern: a regular expression in Python's syntax.
    :returns: a compiled pattern whose ``match(text)`` says whether it
        matches at the start of ``text`` (like :func:`re.match`).
    :raises TemplateRegexError: the pattern is not a valid regular
        expression, or uses a construct that needs backtracking (the
        message names it).
    """
    if not isinstance(pattern, str):
        raise TemplateRegexError(str(pattern), 'a regex must be a string, '
                                 'not %s' % type(pattern).__name__)
    try:
        with warnings.catch_warnings():
            # e.g. "possible nested set": advice, not an error.
            warnings.simplefilter('ignore', FutureWarning)
            re.compile(pattern)      # Python's syntax is the reference
    except re.error as e:
        raise TemplateRegexError(pattern, str(e)) from e
    scan = _scan(pattern)
    if scan.unsupported is not None:
        raise TemplateRegexError(
            pattern, '%s is not supported: %s' % (scan.unsupported,
                                                  scan.why),
            scan.unsupported)
    try:
        return LinearPattern(pattern, re2.compile(scan.translated,
                                                  _options()))
    except re2.error as e:
        detail = e.args[0] if e.args else e
        if isinstance(detail, bytes):
            detail = detail.decode('utf-8', 'replace')
        raise TemplateRegexError(
            pattern, '%s: not supported by the linear-time regex engine'
            % detail, str(detail)) from e
