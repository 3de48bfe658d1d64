"""Just enough of Docker's syntax to check deploy/Dockerfile without an engine: its
instructions by stage, and which repository files the root .dockerignore lets into the build
context (Docker's rules: patterns in order, the last match wins, `!` re-includes, a pattern
matching a directory matches everything under it)."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array form (`["a", "b"]`); fails on the shell form."""
        words = json.loads(self.arguments)
        assert isinstance(words, list), f"{self.keyword} must be an exec-form JSON array"
        return [str(word) for word in words]

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        flags: dict[str, str] = {}
        words = self.arguments.split()
        while words and words[0].startswith("--"):
            name, _, value = words.pop(0)[2:].partition("=")
            flags[name] = value
        return flags, words


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def instructions(text: str) -> list[Instruction]:
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not pending):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    result = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
    return result


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults (before the first FROM) and the stages in order."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=words[0], name=name))
        elif not result:
            if instruction.keyword == "ARG":
                name, _, default = instruction.arguments.partition("=")
                args[name] = default
        else:
            result[-1].instructions.append(instruction)
    return args, result


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out += pattern[index : end + 1]
            index = end + 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return re.compile(out)


@dataclass(frozen=True)
class DockerIgnore:
    rules: list[tuple[re.Pattern[str], bool]]

    @classmethod
    def parse(cls, text: str) -> "DockerIgnore":
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            rules.append((_pattern_regex(pattern), include))
        return cls(rules)

    def included(self, relative: str) -> bool:
        parts = relative.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        keep = True
        for regex, include in self.rules:
            if any(regex.fullmatch(candidate) for candidate in candidates):
                keep = include
        return keep

    def files_in_context(self, root: Path, source: str) -> list[str]:
        """The files under `source` (a file or directory, relative to `root`) that reach the
        build context."""
        path = root / source
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        relative = [str(p.relative_to(root)) for p in files]
        return [name for name in relative if self.included(name)]
