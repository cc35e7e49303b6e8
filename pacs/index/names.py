"""Search forms of a person name stored in the index: its `normalize_pn` form and the component
groups of that form, each group a column of its own.

Case-insensitive PN matching (the default) compares component groups of the normalised name
(`pacs.model.matching`). Cut out of ``name_norm`` at query time, a group is an expression no
index serves, so a query read every patient row; stored as indexed columns, "SMITH*" becomes an
index range. Every writer of a name fills these columns from `pn_search_values`, so they always
agree with each other and with `matches`."""

from __future__ import annotations

import attrs

from pacs.model.matching import PN_GROUPS, pn_groups
from pacs.model.normalize import normalize_pn

__all__ = ["PATIENT_NAME", "PnSearch", "pn_search_values"]


@attrs.frozen
class PnSearch:
    """Where the search forms of one PN attribute live: ``norm`` holds the whole normalised
    name, ``groups`` its alphabetic, ideographic and phonetic groups ("" when absent)."""

    table: str
    source: str
    norm: str
    groups: tuple[str, str, str]


PATIENT_NAME = PnSearch(
    table="patient",
    source="name",
    norm="name_norm",
    groups=("name_g1_norm", "name_g2_norm", "name_g3_norm"),
)


def pn_search_values(name: str, search: PnSearch = PATIENT_NAME) -> dict[str, str]:
    """Column → value of every search form of ``name``: the groups are those of
    `pn_groups(name, case_insensitive=True)`, padded with "" to `PN_GROUPS`."""
    norm = normalize_pn(name)
    groups = (pn_groups(norm) + [""] * PN_GROUPS)[:PN_GROUPS]
    return {search.norm: norm, **dict(zip(search.groups, groups, strict=True))}
