"""Values the stock client writes as JSON or as Python literals."""
import ast
import json
from typing import Any


def json_or_literal(text: str) -> Any:
    """The value of ``text``, written as JSON or as a Python literal
    (python-vitrageclient sends ``str()`` of dicts and lists).

    :raises ValueError: when it is neither.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError,
            RecursionError) as exc:
        raise ValueError('neither JSON nor a Python literal: %r'
                         % text) from exc
