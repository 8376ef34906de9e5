"""
A griffe extension for the API reference: render reST roles in docstrings as code.

The docstrings use Sphinx roles (``:class:`~airflow_provider_ld.exceptions.LaunchDarklyError```,
``:meth:`stop```). mkdocstrings reads the ``:param x:`` fields but would print the roles verbatim, so
each role becomes a code span, linked to the object's reference entry when the site documents it
(an optional cross-reference: a target outside the reference stays plain code, without a warning).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj|const):`(?P<short>~?)(?P<target>[^`]+)`"
)


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """
        Replace the roles in the docstrings of ``pkg`` and everything it defines.

        :param pkg: the loaded package.
        """
        for obj in _defined_objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)


def _defined_objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _defined_objects(member)


def _rewrite(obj: griffe.Object, text: str) -> str:
    return ROLE.sub(lambda match: _render(obj, match), text)


def _render(obj: griffe.Object, match: re.Match[str]) -> str:
    target = match["target"]
    title = target.rsplit(".", 1)[-1] if match["short"] else target
    head, _, rest = target.partition(".")
    try:
        identifier = obj.resolve(head) + (f".{rest}" if rest else "")
    except griffe.NameResolutionError:
        identifier = target
    return f'<autoref identifier="{html.escape(identifier)}" optional><code>{html.escape(title)}</code></autoref>'
