"""A griffe extension for the docs build: a module-level `Name.__doc__ = "..."` gives `Name` its
docstring, as it does for `help()`. The kit documents its `Annotated` aliases (`WriteSession`,
`IdPk`, ...) that way, and griffe's static analysis reads only a string right after the name.
Not for: anything but the docs build (mkdocs.yml loads it by path)."""

import ast
from inspect import cleandoc
from typing import Any

from griffe import Alias, Docstring, Extension, Module, Visitor


def _doc_assignment(statement: ast.stmt) -> tuple[str, ast.Constant] | None:
    """(Name, the string) for `Name.__doc__ = "..."`, else None."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target, value = statement.targets[0], statement.value
    if not (isinstance(target, ast.Attribute) and target.attr == "__doc__"):
        return None
    if not (
        isinstance(target.value, ast.Name) and isinstance(value, ast.Constant)
    ):
        return None
    return (target.value.id, value) if isinstance(value.value, str) else None


class DocAssignments(Extension):
    def on_module_members(
        self, *, node: Any, mod: Module, agent: Any, **kwargs: Any
    ) -> None:
        if not (isinstance(node, ast.Module) and isinstance(agent, Visitor)):
            return  # dynamic analysis reads `__doc__` itself
        for statement in node.body:
            found = _doc_assignment(statement)
            if found is None or found[0] not in mod.members:
                continue
            member = mod.members[found[0]]
            if isinstance(member, Alias) or member.docstring is not None:
                continue
            text = found[1]
            member.docstring = Docstring(
                cleandoc(str(text.value)),
                lineno=text.lineno,
                endlineno=text.end_lineno,
                parent=member,
                parser=agent.docstring_parser,
                parser_options=agent.docstring_options,
            )
