"""Read a GitLab CODEOWNERS file and answer "which sections own this path?".

GitLab's rules, as far as this repository uses them: ``[Name]``, ``^[Name]`` (optional)
and ``[Name][N]`` (N approvals) start a section, optionally followed by default owners;
an entry is a path pattern and its owners (the section's defaults when it names none);
inside a section the last matching entry wins, and every section applies on its own.
Patterns: a leading ``/`` anchors at the repository root (otherwise any depth), a
trailing ``/`` means everything below, ``*`` stays within one folder, ``**`` crosses
folders. A malformed line is an error naming its line, as GitLab reports it.

``batchops gitlab configure`` reads the groups from here (sharing them with the project,
protecting environments for the release managers), and the CI tests check that every file
of the repository has an owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from batchops.errors import ConfigError

_HEADER = re.compile(
    r"^(?P<optional>\^)?\[(?P<name>[^\[\]]+)\](?:\[(?P<approvals>\d+)\])?(?P<owners>.*)$"
)
_OWNER = re.compile(r"^(@@?[\w.-]+(/[\w.-]+)*|[^@\s]+@[^@\s]+\.\w+)$")


class CodeownersError(ConfigError):
    """A CODEOWNERS line GitLab would reject or ignore."""


@dataclass(frozen=True)
class Entry:
    pattern: str
    owners: tuple[str, ...]
    line: int

    def matches(self, path: str) -> bool:
        return _compile(self.pattern).fullmatch(path.lstrip("/")) is not None


@dataclass
class Section:
    name: str
    optional: bool = False
    approvals: int = 1
    default_owners: tuple[str, ...] = ()
    entries: list[Entry] = field(default_factory=list)

    def owners_of(self, path: str) -> tuple[str, ...]:
        """Owners of ``path`` in this section (last matching entry), or () if none."""
        for entry in reversed(self.entries):
            if entry.matches(path):
                return entry.owners
        return ()


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    regex = ""
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif body.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif body[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif body[index] == "?":
            regex, index = regex + "[^/]", index + 1
        else:
            regex, index = regex + re.escape(body[index]), index + 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{regex}(?:/.*)?")


def _owners(words: list[str], number: int, source: str) -> tuple[str, ...]:
    for word in words:
        if not _OWNER.match(word):
            raise CodeownersError(
                f"{source}:{number}: '{word}' is not an owner (expected @user, @group/sub "
                "or an e-mail address)"
            )
    return tuple(words)


def parse(text: str, source: str = "CODEOWNERS") -> list[Section]:
    """Sections in file order; entries before the first header form an unnamed section."""
    sections = [Section(name="")]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("[", "^[")):
            header = _HEADER.match(line)
            if not header:
                raise CodeownersError(
                    f"{source}:{number}: malformed section header {line!r} "
                    "(expected [Name], ^[Name] or [Name][N] followed by owners)"
                )
            approvals = int(header["approvals"] or 1)
            if approvals < 1:
                raise CodeownersError(f"{source}:{number}: approvals must be 1 or more")
            sections.append(
                Section(
                    name=header["name"].strip(),
                    optional=bool(header["optional"]),
                    approvals=approvals,
                    default_owners=_owners(header["owners"].split(), number, source),
                )
            )
            continue
        pattern, *owners = line.split()
        section = sections[-1]
        resolved = _owners(owners, number, source) or section.default_owners
        if not resolved:
            raise CodeownersError(
                f"{source}:{number}: {pattern} has no owner and section "
                f"[{section.name}] has no default owners"
            )
        section.entries.append(Entry(pattern=pattern, owners=resolved, line=number))
    return [section for section in sections if section.name or section.entries]


def owning_sections(sections: list[Section], path: str) -> dict[str, tuple[str, ...]]:
    """Every section that owns ``path`` -> its owners there."""
    found = {}
    for section in sections:
        owners = section.owners_of(path)
        if owners:
            found[section.name] = owners
    return found


def section_named(sections: list[Section], name: str, source: str = "CODEOWNERS") -> Section:
    """The section called ``name`` (case-insensitive, as GitLab compares them)."""
    for section in sections:
        if section.name.lower() == name.lower():
            return section
    names = ", ".join(f"[{s.name}]" for s in sections if s.name)
    raise CodeownersError(f"{source}: no [{name}] section (found {names})")
