"""Name pools for the synthetic C-FIND index: family names ranked by frequency (common ones first,
then a long tail of made-up rare ones), given names, Chinese names as ``Latin=ideographic``."""

from __future__ import annotations

import bisect
import itertools
import random


def _words(text: str) -> list[str]:
    return text.split()


COMMON_FAMILY = _words("""
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt
Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Dubois Lefèvre Moreau Laurent
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Novak Kowalski Nowak Wiśniewski Jensen
Nielsen Hansen Johansson Andersson Virtanen Kim Park Choi Tanaka Suzuki Takahashi Watanabe
Ito Yamamoto Nakamura Kobayashi Sato O'Brien Murphy Kelly Walsh Byrne Ryan Doyle
""")
GIVEN_MALE = _words("""
James John Robert Michael William David Richard Joseph Thomas Charles Daniel Matthew Anthony
Mark Paul Steven Andrew Kenneth Joshua Kevin Brian George Pierre Jean Luca Marco Jürgen Hans
Piotr Lars Mikael Hiroshi Takeshi Sean Patrick José Carlos
""")
GIVEN_FEMALE = _words("""
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty
Margaret Sandra Ashley Emily Donna Michelle Anna Sophie Marie Chloé Giulia Francesca Agnieszka
Ingrid Kirsten Yuki Akiko Siobhan Aoife María Lucía Renée
""")
CHINESE_FAMILY = [
    ("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
    ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"), ("Xu", "徐"), ("Sun", "孙"),
    ("Ma", "马"), ("Zhu", "朱"), ("Hu", "胡"), ("Guo", "郭"), ("He", "何"), ("Lin", "林"),
    ("Gao", "高"), ("Luo", "罗"),
]  # fmt: skip
CHINESE_GIVEN = [
    ("Xiaoming", "小明", "M"), ("Wei", "伟", "M"), ("Fang", "芳", "F"), ("Na", "娜", "F"),
    ("Min", "敏", "F"), ("Jing", "静", "F"), ("Li", "丽", "F"), ("Qiang", "强", "M"),
    ("Lei", "磊", "M"), ("Jun", "军", "M"), ("Yang", "洋", "M"), ("Yong", "勇", "M"),
    ("Yan", "艳", "F"), ("Jie", "杰", "M"), ("Juan", "娟", "F"), ("Tao", "涛", "M"),
    ("Ming", "明", "M"), ("Chao", "超", "M"), ("Xiuying", "秀英", "F"), ("Hua", "华", "F"),
]  # fmt: skip
PHYSICIANS = [f"{f}^{g}^^Dr" for f, g in itertools.product(COMMON_FAMILY[:40], ("A", "B", "C"))]

_ONSETS = _words("B D F G H K L M N P R S T V W Z BR CH DR GR KR ST TR SCH")
_VOWELS = _words("A E I O U AI EI OU")
_ENDINGS = ["", "N", "R", "S", "L", "K", "T", "NE", "LER", "MAN", "SON", "SEN", "OWSKI", "EZ"]
TAIL_NAMES = 20_000
CHINESE_SHARE = 0.15
ZIPF_SHIFT = 10  # weight of rank r ∝ 1 / (r + shift): ~1 % for the most common name


def _tail(count: int, seed: int) -> list[str]:
    """Made-up family names, a long tail of rare ones as in any real population."""
    rng = random.Random(seed)
    known = {name.upper() for name in COMMON_FAMILY}
    names: list[str] = []
    while len(names) < count:
        syllables = rng.choice((2, 2, 3))
        text = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        text += rng.choice(_ENDINGS)
        if text not in known:
            known.add(text)
            names.append(text.capitalize())
    return names


class NamePool:
    """Draws patient names: Chinese (``Wang^Xiaoming=王^小明``) or Western, the family name from
    a shifted Zipf distribution over common names followed by the long tail."""

    def __init__(self, seed: int = 7) -> None:
        self.family = COMMON_FAMILY + _tail(TAIL_NAMES, seed)
        weights = [1 / (rank + ZIPF_SHIFT) for rank in range(1, len(self.family) + 1)]
        self._cumulative = list(itertools.accumulate(weights))

    def _family(self, rng: random.Random) -> str:
        point = rng.random() * self._cumulative[-1]
        return self.family[bisect.bisect(self._cumulative, point)]

    def draw(self, rng: random.Random) -> tuple[str, str, str]:
        """(PatientName as stored, family name as matched upper-case, sex)."""
        if rng.random() < CHINESE_SHARE:
            family, ideo = CHINESE_FAMILY[min(int(rng.expovariate(0.25)), 19)]
            given, given_ideo, sex = rng.choice(CHINESE_GIVEN)
            return f"{family}^{given}={ideo}^{given_ideo}", family.upper(), sex
        family = self._family(rng)
        sex = rng.choice("MF")
        given = rng.choice(GIVEN_MALE if sex == "M" else GIVEN_FEMALE)
        middle = f"^{rng.choice('ABCDEFGHJKLMNPRSTW')}" if rng.random() < 0.2 else ""
        name = f"{family}^{given}{middle}"
        return (name.upper() if rng.random() < 0.7 else name), family.upper(), sex
