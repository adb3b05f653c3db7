"""Sphinx configuration of the Vitrage release notes (reno)."""

project = 'Vitrage Release Notes'
copyright = '2026, The Vitrage developers'
author = 'The Vitrage developers'

extensions = [
    'reno.sphinxext',
]

templates_path = []
exclude_patterns = []
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'

html_theme = 'alabaster'
html_static_path = []
