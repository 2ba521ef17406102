"""A griffe extension for the API reference: dualgrad's Google-style docstrings, read as
griffe reads the style.

Two habits of the docstrings, both accepted by Sphinx's napoleon, are rewritten before griffe
parses a docstring: a doctest headed ``Example:`` (griffe knows only ``Examples:``, and would
render it as prose), and parameters described together (``stride, dilation: ints.``), which
become one entry per parameter with the shared description.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", flags=re.MULTILINE)
_PARAMETERS = re.compile(r"^(?P<indent>[ \t]*)(Args|Arguments|Parameters):[ \t]*$")
_GROUPED = re.compile(r"^(?P<indent>[ \t]*)(?P<names>\w+(?:, \w+)+): (?P<text>.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _split_grouped_parameters(docstring: str) -> str:
    """One ``name: description`` entry per name where several share one."""
    lines = docstring.splitlines()
    out: list[str] = []
    section_indent = None  # the indent of the Args heading we are under, if any
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip() and section_indent is not None and _indent(line) <= section_indent:
            section_indent = None
        heading = _PARAMETERS.match(line)
        if heading:
            section_indent = len(heading["indent"])
        grouped = _GROUPED.match(line) if section_indent is not None else None
        if grouped is None:
            out.append(line)
            index += 1
            continue
        entry_indent = len(grouped["indent"])
        end = index + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > entry_indent):
            end += 1
        continuation = lines[index + 1 : end]
        for name in grouped["names"].split(", "):
            out.append(f"{grouped['indent']}{name}: {grouped['text']}")
            out.extend(continuation)
        index = end
    return "\n".join(out)


class ExampleSections(griffe.Extension):
    """Rewrite each docstring as described in the module's docstring, before it is parsed."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            value = _EXAMPLE.sub(r"\g<indent>Examples:", obj.docstring.value)
            obj.docstring.value = _split_grouped_parameters(value)
