"""Sphinx configuration of the Vitrage documentation."""
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join('..', '..')))

project = 'Vitrage'
copyright = '2026, The Vitrage developers'
author = 'The Vitrage developers'

extensions = [
    'sphinx.ext.autodoc',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
]

# oslo_config.sphinxconfiggen: generate the sample configuration file from
# the same generator file as ``tox -e genconfig``, at every build, into
# doc/build/generated (ignored by git, out of the source tree);
# configuration/index.rst offers it for download.
config_generator_config_file = os.path.join(
    '..', '..', 'etc', 'vitrage', 'vitrage-config-generator.conf')
sample_config_basename = os.path.join('..', 'build', 'generated', 'vitrage')

templates_path = []
exclude_patterns = []
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'

html_theme = 'alabaster'
html_static_path = []
html_theme_options = {
    'description': 'Root cause analysis for clouds',
    'fixed_sidebar': True,
}
