"""Find the commands a CI job runs, so tests can check each one exists.

Job scripts here are short shell: one command per line, sometimes ``&&``/``||``/``;``,
a ``for`` loop, ``[ ... ]`` tests and redirections. This splits such text into argv lists
of the commands at command position (not a full shell parser: enough for our files, and a
construct it does not know makes the policy test fail loudly rather than pass quietly).

``${VAR:+word}`` is expanded both ways (variable set / unset), so
``batchops deploy --env staging ${MODEL_PACKAGE_ARN:+--model-package-arn "$MODEL_PACKAGE_ARN"}``
yields two invocations and both must parse.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

_CONDITIONAL = re.compile(r"\$\{(\w+):\+([^}]*)\}")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;"})
_OPENERS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "{", "}"})
_CLOSERS = frozenset({"fi", "done", "esac"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", ">&", "<&", ">|"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def expansions(text: str) -> list[str]:
    """``text`` with every ``${VAR:+word}`` replaced by ``word`` and by nothing."""
    match = _CONDITIONAL.search(text)
    if not match:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    return [
        variant
        for replacement in (match.group(2), "")
        for variant in expansions(head + replacement + tail)
    ]


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _split_segments(tokens: list[str]) -> Iterator[list[str]]:
    segment: list[str] = []
    for token in tokens:
        if token in _SEPARATORS:
            if segment:
                yield segment
            segment = []
        else:
            segment.append(token)
    if segment:
        yield segment


def _strip_redirections(words: list[str]) -> list[str]:
    kept: list[str] = []
    skip_next = False
    for index, word in enumerate(words):
        if skip_next:
            skip_next = False
            continue
        if word in _REDIRECTS:
            skip_next = True
            if kept and kept[-1].isdigit() and index > 0:
                kept.pop()  # the "2" of "2>"
            continue
        kept.append(word)
    return kept


def _command_of(segment: list[str]) -> list[str] | None:
    words = _strip_redirections(segment)
    while words and (words[0] in _OPENERS or _ASSIGNMENT.match(words[0])):
        words = words[1:]
    if not words or words[0] in _CLOSERS:
        return None
    if words[0] == "for":
        return None  # "for x in a b" until "; do": the loop body holds the commands
    return words


def commands(script: str) -> list[list[str]]:
    """argv of every command in a script section (each ``${V:+w}`` variant included)."""
    found: list[list[str]] = []
    text = script.replace("\\\n", " ")
    for variant in expansions(text):
        for line in variant.splitlines():
            for segment in _split_segments(_tokens(line)):
                argv = _command_of(segment)
                if argv and argv not in found:
                    found.append(argv)
    return found


def make_targets_called(argv: list[str]) -> list[str]:
    """Targets of a ``make`` argv (options and VAR=value assignments left out)."""
    return [word for word in argv[1:] if not word.startswith("-") and not _ASSIGNMENT.match(word)]


def with_placeholders(argv: list[str]) -> list[str]:
    """Replace ``$VAR`` words by a plausible value so argparse can parse them."""
    return [
        re.sub(r"\$\{?(\w+)\}?", lambda m: f"placeholder-{m.group(1).lower()}", w) for w in argv
    ]
