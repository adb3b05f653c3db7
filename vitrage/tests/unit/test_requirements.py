"""requirements.txt declares exactly what the service imports.

The imports of ``vitrage/`` (outside ``vitrage/tests``) are read with
:mod:`ast`, lazy ones inside functions included; each top-level module
that is neither the standard library nor Vitrage is mapped to the
distributions that install it (:func:`importlib.metadata.
packages_distributions`, e.g. ``yaml`` to PyYAML). Each must be declared
in requirements.txt, and each requirement must be imported, so that the
two cannot drift apart again.
"""
import ast
import functools
from importlib import metadata
import pathlib
import re
import sys

from vitrage.tests import helpers

NOT_IMPORTED = {
    'pbr': 'setup.py builds the package with it',
    'PyMySQL': 'SQLAlchemy loads it for the mysql+pymysql:// URLs of '
               '[database] connection',
}
"""Requirements the service needs without importing them, and why."""

OPTIONAL_IMPORTS = {
    'uwsgi': 'exists only inside the uWSGI server; imported under '
             'try/except ImportError (vitrage/api/wsgi.py)',
}
"""Imports that no requirement provides, and why."""


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r'[-_.]+', '-', name).lower()


def requirements(filename: str) -> set[str]:
    """The canonical distribution names a requirements file declares."""
    names = set()
    with open(helpers.repo_path(filename)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line or line.startswith('-'):
                continue
            match = re.match(r'[A-Za-z0-9][A-Za-z0-9._-]*', line)
            assert match, 'unparsable line in %s: %r' % (filename, line)
            names.add(canonical(match.group(0)))
    return names


def imports(root: pathlib.Path, exclude: pathlib.Path | None = None
            ) -> dict[str, set[str]]:
    """Third-party top-level module -> the files under ``root`` that
    import it (``exclude`` and its subdirectories left out).
    """
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob('*.py')):
        if exclude is not None and exclude in path.parents:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or '']
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top and top != 'vitrage' and \
                        top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(
                        str(path.relative_to(root.parent)))
    return found


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    """The canonical names of the distributions installing ``module``."""
    return {canonical(d) for d in _distributions().get(module, [])}


VITRAGE = pathlib.Path(helpers.repo_path('vitrage'))


def service_imports() -> dict[str, set[str]]:
    return imports(VITRAGE, exclude=VITRAGE / 'tests')


def test_every_import_of_the_service_is_declared():
    declared = requirements('requirements.txt')
    missing = []
    for module, files in sorted(service_imports().items()):
        if module in OPTIONAL_IMPORTS:
            continue
        installed_by = distributions_of(module)
        assert installed_by, (
            'no installed distribution provides %s (imported by %s)'
            % (module, ', '.join(sorted(files))))
        if not installed_by & declared:
            missing.append('%s (import %s in %s)' % (
                ' or '.join(sorted(installed_by)), module,
                ', '.join(sorted(files))))
    assert not missing, ('imported but not in requirements.txt: %s'
                         % '; '.join(missing))


def test_every_requirement_is_imported_by_the_service():
    imported = set()
    for module in service_imports():
        imported |= distributions_of(module)
    unused = requirements('requirements.txt') - imported - set(
        canonical(name) for name in NOT_IMPORTED)
    assert not unused, (
        'in requirements.txt but imported nowhere in vitrage/ (outside '
        'vitrage/tests): %s; move test-only ones to test-requirements.txt'
        % ', '.join(sorted(unused)))


def test_every_import_of_the_tests_is_declared():
    declared = (requirements('requirements.txt') |
                requirements('test-requirements.txt'))
    missing = {module: files for module, files in
               imports(VITRAGE / 'tests').items()
               if not distributions_of(module) & declared}
    assert not missing, (
        'imported by the tests but declared nowhere: %s' % missing)


def test_the_contributor_guide_gives_each_dependency_a_reason():
    with open(helpers.repo_path('doc', 'source', 'contributor',
                                'index.rst')) as f:
        text = f.read()
    section = text[text.index('\nDependencies\n'):]
    named = {canonical(word) for word in re.findall(r'[A-Za-z0-9._-]+',
                                                    section)}
    unexplained = requirements('requirements.txt') - named
    assert not unexplained, (
        'doc/source/contributor/index.rst does not say why Vitrage '
        'needs: %s' % ', '.join(sorted(unexplained)))
