"""Template regexes run in linear time (issue 16): RE2 instead of ``re``,
without refusing the regexes templates use.
"""
import os
import re
import select
import subprocess
import sys
import textwrap

import pytest

from vitrage import evaluator
from vitrage.evaluator import regex
from vitrage.evaluator import template_yaml
from vitrage.tests.unit.evaluator.test_examples import SAMPLE_FILES
from vitrage.tests.unit.evaluator.test_examples import SAMPLES

# The directory holding the vitrage package under test.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    evaluator.__file__))))

# Regexes of the shapes templates use (the samples, templates.md's
# examples, the retired project's docs), and texts to match them with.
USED = [
    '(?i).*high cpu', 'host .*down', 'cmp-[0-9]', 'cmp-7$', 'x.*',
    r'compute-\d+$', r'.*(ERROR|CRITICAL).*', r'Interface [a-zA-Z0-9_]+ '
    'down on {HOST.NAME}', r'[^\]]+', r'\S+\s\S+', r'(?P<host>[^ ]+) down',
    r'vm-[0-9]{1,3}$', r'a{,2}$', r'disk\.(full|almost_full)', r'\bcpu\b',
    r'(?i:CPU) load', r'[\w.-]+@example\.com', r'^nova', r'x\Z', 'a|b|',
    r'\u00e9t\N{LATIN SMALL LETTER E WITH ACUTE}', r'\101\0', r'a+?b',
    r'(?s)a.b', r'(?u)abc', r'\x41',
]
TEXTS = [
    'HIGH CPU on cmp-1', 'host cmp-7 down', 'cmp-7', 'cmp-77', 'x', '',
    'compute-12', 'compute-12a', 'ok ERROR here',
    'Interface eth0 down on {HOST.NAME}', 'ab]', 'ab cd', 'h1 down',
    'vm-12', 'vm-1234', 'aa', 'aaa', 'disk.full', 'cpu load', 'CPU load',
    'cpus', 'ops@example.com', 'nova-compute', 'x\n', 'b', 'été', 'A\0',
    'aab', 'a\nb', 'abc', 'A',
]


@pytest.mark.parametrize('pattern', USED)
def test_used_regexes_match_as_python_does(pattern):
    compiled = regex.compile_pattern(pattern)
    for text in TEXTS:
        assert bool(compiled.match(text)) == bool(
            re.match(pattern, text)), text


def test_matching_asks_re2_directly_and_agrees_with_its_match():
    for pattern in USED:
        compiled = regex.compile_pattern(pattern)
        assert compiled.direct, pattern
        public = regex.LinearPattern(pattern, compiled._compiled)
        public._direct = None      # google-re2's own match objects
        for text in TEXTS + ['\ud800', 'ééé ' * 50]:
            assert compiled.match(text) is public.match(text), (pattern,
                                                                text)


@pytest.mark.parametrize('name', SAMPLE_FILES)
def test_sample_templates_regexes_compile(name):
    with open(os.path.join(SAMPLES, name)) as stream:
        template = template_yaml.load_text(stream.read())
    for constraints in template.get('entities', {}).values():
        for key, pattern in (constraints or {}).items():
            if key.endswith('.regex'):
                regex.compile_pattern(pattern)


@pytest.mark.parametrize('pattern, construct', [
    (r'(a)\1', r'backreference \1'),
    (r'(?P<x>a)(?P=x)', 'backreference (?P=name)'),
    (r'cpu(?=\d)', 'lookahead (?=...)'),
    (r'cpu(?!\d)', 'negative lookahead (?!...)'),
    (r'(?<=x)cpu', 'lookbehind (?<=...)'),
    (r'(?<!x)cpu', 'negative lookbehind (?<!...)'),
    (r'(?>a+)b', 'atomic group (?>...)'),
    (r'(a)?(?(1)b|c)', 'conditional group (?(...)...)'),
    (r'a++', 'possessive repetition ++'),
    (r'a{2,3}+', 'possessive repetition {2,3}+'),
    (r'(?x) a b', 'inline flag x'),
])
def test_constructs_that_need_backtracking_are_named(pattern, construct):
    with pytest.raises(regex.TemplateRegexError) as info:
        regex.compile_pattern(pattern)
    assert info.value.construct == construct
    assert str(info.value).startswith(construct + ' is not supported: ')


def test_escapes_and_classes_are_not_taken_for_constructs():
    for pattern in (r'\(?=x', r'[(?=]x', r'[\1]', r'a}+', r'\\(a)'):
        if pattern == r'[\1]':
            # An octal escape in a class: RE2 spells it \x{1}.
            assert regex.compile_pattern(pattern).match('\x01')
            continue
        regex.compile_pattern(pattern)


def test_invalid_regex_is_reported_as_python_says():
    with pytest.raises(regex.TemplateRegexError) as info:
        regex.compile_pattern('cpu[0-')
    assert info.value.construct is None
    assert str(info.value) == str(_re_error('cpu[0-'))


def _re_error(pattern):
    try:
        re.compile(pattern)
    except re.error as e:
        return e
    raise AssertionError('%r compiles' % pattern)


def _v3(name_regex):
    return '''
metadata: {version: 3, name: t, type: standard}
entities:
  alarm: {category: ALARM, name.regex: '%s'}
  host: {category: RESOURCE, type: nova.host}
scenarios:
  - condition: alarm [on] host
    actions:
      - set_state: {target: host, state: ERROR}
''' % name_regex


def test_validation_names_the_construct_with_code_47():
    result = evaluator.validate_text(_v3(r'cpu(?=\d)'))
    assert (result.status_code, result.message) == (
        47, "Invalid regular expression - name.regex of entity 'alarm': "
        'lookahead (?=...) is not supported: template regexes run in '
        'linear time, without backtracking')


def test_catastrophic_regex_is_accepted():
    # Backtracking is the engine's problem, not the template's.
    assert evaluator.validate_text(_v3('(a+)+$')).status_code == 0


# The graph, with a '(a+)+$' template, gets an alarm whose name makes a
# backtracking engine take 2**40 steps, then one that matches.
_STALL = textwrap.dedent('''
    import sys
    import re
    from vitrage.evaluator import regex
    if sys.argv[1] == 're':
        regex.compile_pattern = re.compile
    from vitrage.common.constants import Prop
    from vitrage.tests.unit.evaluator.test_engine_world import HOST
    from vitrage.tests.unit.evaluator.test_engine_world import World
    from vitrage.tests.unit.evaluator.test_engine_world import world_event
    world = World(sys.stdin.read())
    world.feed(world_event('host', 'cmp-7'))
    print('ready', flush=True)
    world.feed(world_event('alarm', 'evil', name='a' * 40 + '!',
                           host='cmp-7'))
    print(world.vertex(HOST, 'cmp-7').get(Prop.VITRAGE_STATE), flush=True)
    world.feed(world_event('alarm', 'good', name='aaaa', host='cmp-7'))
    print(world.vertex(HOST, 'cmp-7').get(Prop.VITRAGE_STATE), flush=True)
''')


def _run_graph(engine, timeout):
    """Lines the child printed after 'ready', or None if it did not end
    within ``timeout`` seconds of being ready (it is then killed).
    """
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.Popen(
        [sys.executable, '-c', _STALL, engine], cwd=ROOT, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    try:
        child.stdin.write(_v3('(a+)+$'))
        child.stdin.close()
        # Starting the interpreter and the imports: bounded too.
        ready, _w, _x = select.select([child.stdout], [], [], 120)
        assert ready and child.stdout.readline() == 'ready\n'
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        assert child.returncode == 0
        return child.stdout.read().split()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def test_backtracking_name_does_not_stall_the_graph():
    assert _run_graph('re2', timeout=60) == ['None', 'ERROR']


def test_the_same_stalls_with_pythons_engine():
    # The control: with re the graph is still matching after 3 s.
    assert _run_graph('re', timeout=3) is None


def test_equivalence_member_regex_that_needs_backtracking_is_47():
    text = '''
metadata: {version: 2, type: equivalence, name: eq}
equivalences:
  - equivalence:
      - entity: {category: ALARM, type: nagios, name.regex: '(a)\\1'}
      - entity: {category: ALARM, type: zabbix, name: disk}
'''
    with pytest.raises(evaluator.TemplateValidationError) as info:
        evaluator.load_text(text)
    assert info.value.code == 47
    assert 'backreference \\1 is not supported' in str(info.value)
