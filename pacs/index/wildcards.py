"""Wildcard patterns ("*", "?") as SQL, case-sensitive on every dialect.

A pattern is a LIKE pattern ("*" → "%", "?" → "_") with "!" as the explicit ESCAPE for a
literal "%", "_" or "!". SQLite's LIKE ignores ASCII case, which C-FIND must not, so on SQLite
the pattern runs as GLOB instead (a literal "[" written "[[]"). On an indexed column a literal
prefix lets either dialect search the index: PostgreSQL derives the range from the LIKE itself
(given a text_pattern_ops index), SQLite gets it written out (`_compile_glob` says why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["ESCAPE", "glob_pattern", "like_pattern", "literal_prefix", "wildcard_match"]

ESCAPE = "!"
_LIKE = str.maketrans({"*": "%", "?": "_", "%": "!%", "_": "!_", "!": "!!"})
# The share of rows SQLite's planner is told each bound of a name prefix keeps (`_compile_glob`).
# Without ANALYZE its choices depend on the query alone; these values come from its plans for
# name, name + study date and name + modality queries at each level. A prefix of 2+ characters
# leads the query from the name indexes. One character selects so many names that another
# index (a study date range) leads when there is one; else still the name indexes at PATIENT
# and STUDY level, an id-order scan at SERIES and IMAGE level.
_PREFIX, _SHORT_PREFIX = 0.01, 0.5


def like_pattern(pattern: str) -> str:
    """A wildcard pattern as LIKE ... ESCAPE '!'."""
    return pattern.translate(_LIKE)


def glob_pattern(pattern: str) -> str:
    """A wildcard pattern as SQLite GLOB: "*" and "?" mean the same; "[" must be a class."""
    return pattern.replace("[", "[[]")


class _Wildcard(FunctionElement[bool]):
    """``subject`` matches a wildcard pattern, case-sensitively on every dialect. On an indexed
    column, further clauses bound the pattern's literal prefix for SQLite: the likelihood of
    each bound, the low bound and, when there is one, the high bound."""

    type = Boolean()
    name = "wildcard"
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition already: no "= 1" on SQLite, which hides it


@compiles(_Wildcard)
def _compile_like(element: _Wildcard, compiler: SQLCompiler, **kw: Any) -> str:
    subject, like, _glob, *_range = element.clauses
    pattern = compiler.process(like, **kw)
    return f"({compiler.process(subject, **kw)} LIKE {pattern} ESCAPE '{ESCAPE}')"


@compiles(_Wildcard, "sqlite")
def _compile_glob(element: _Wildcard, compiler: SQLCompiler, **kw: Any) -> str:
    """The GLOB, behind an explicit range on the prefix. SQLite derives such a range from the
    GLOB itself, but prices it at a sixteenth of the table: three of them (one per name group)
    then lose to reading every study in id order, which spares the sort. The likelihood (a
    planner hint, no test) gives the range the selectivity of a name prefix."""
    subject, _like, glob, *prefix_range = element.clauses
    column = compiler.process(subject, **kw)
    tests = [f"{column} GLOB {compiler.process(glob, **kw)}"]
    if prefix_range:
        likelihood, *bounds = (compiler.process(clause, **kw) for clause in prefix_range)
        tests[:0] = [
            f"likelihood({column} {operator} {bound}, {likelihood})"
            for operator, bound in zip((">=", "<"), bounds, strict=False)
        ]
    return f"({' AND '.join(tests)})"


def wildcard_match(
    subject: ColumnElement[Any], pattern: str, *, indexed: bool = False
) -> ColumnElement[bool]:
    """``subject`` matches ``pattern``. ``indexed``: ``subject`` has an index, so bounding it
    by the pattern's literal prefix lets SQLite search that index."""
    like, glob = literal(like_pattern(pattern), String), literal(glob_pattern(pattern), String)
    prefix = literal_prefix(pattern)
    if not (indexed and prefix):
        return _Wildcard(subject, like, glob)
    likelihood: ColumnElement[Any] = literal_column(
        repr(_SHORT_PREFIX if len(prefix) == 1 else _PREFIX)
    )
    bounds = (literal(bound, String) for bound in _prefix_bounds(prefix))
    return _Wildcard(subject, like, glob, likelihood, *bounds)


def literal_prefix(pattern: str) -> str:
    """The literal characters a wildcard pattern starts with."""
    ends = [index for index in (pattern.find("*"), pattern.find("?")) if index >= 0]
    return pattern[: min(ends, default=len(pattern))]


def _prefix_bounds(prefix: str) -> tuple[str, ...]:
    """The lowest string starting with ``prefix`` and the least one above them all, in code
    point order (SQLite's BINARY order of UTF-8); the low one alone when no character follows
    the prefix's last."""
    after = ord(prefix[-1]) + 1
    if 0xD800 <= after <= 0xDFFF:
        after = 0xE000  # surrogates are not text: the next character is U+E000
    if after > 0x10FFFF:
        return (prefix,)
    return prefix, prefix[:-1] + chr(after)


# -- planner hints ---------------------------------------------------------------------------

DATE_RANGE = 0.02  # a study-list date range: a day, a week, a month out of years of studies


class _Likely(FunctionElement[bool]):
    """A condition with a selectivity hint for SQLite's planner; the bare condition elsewhere.
    Without statistics (pacs runs no ANALYZE) SQLite prices a range at a quarter of the table,
    and with ORDER BY id and a LIMIT it then prefers reading every study in id order to
    searching the range's index and sorting the few rows found."""

    type = Boolean()
    name = "likely"
    inherit_cache = True
    _is_implicitly_boolean = True


@compiles(_Likely)
def _compile_plain(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    condition, _probability = element.clauses
    return str(compiler.process(condition, **kw))


@compiles(_Likely, "sqlite")
def _compile_likelihood(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    condition, probability = element.clauses
    return f"likelihood({compiler.process(condition, **kw)}, {compiler.process(probability, **kw)})"


def likely(condition: ColumnElement[bool], probability: float) -> ColumnElement[bool]:
    """``condition``, hinted to SQLite as true for about ``probability`` of the rows."""
    return _Likely(condition, literal_column(repr(probability)))
