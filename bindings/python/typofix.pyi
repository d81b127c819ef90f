"""Fix typos in English text with a small masked language model, offline.

>>> import typofix
>>> corrector = typofix.Corrector()
>>> corrector.fix("Thi sis a test sentenc").text
'This is a test sentence'
"""

from collections.abc import Iterable, Sequence
from os import PathLike
from typing import Literal, final

__all__ = ["Corrector", "Edit", "Fix", "TypofixError", "__version__"]
__version__: str

_Kind = Literal[
    "keyboard", "drop", "double", "transpose", "space", "confusion", "misspelling"
]

class TypofixError(Exception):
    """A model that cannot be loaded, or a text that cannot be corrected;
    the message says why and what to do."""

@final
class Edit:
    """One correction. ``start`` and ``end`` index the input string as
    slices do: ``text[edit.start:edit.end] == edit.original``. Edits
    compare by value and pickle."""

    def __new__(
        cls,
        start: int,
        end: int,
        original: str,
        replacement: str,
        kind: _Kind,
        confidence: float,
    ) -> Edit: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def original(self) -> str: ...
    @property
    def replacement(self) -> str: ...
    @property
    def kind(self) -> _Kind: ...
    @property
    def confidence(self) -> float:
        """The model's probability that the replacement is right, among the
        original and the other candidates."""

@final
class Fix:
    """A corrected text, and the edits that made it. Fixes compare by value
    and pickle, so they can come back from worker processes."""

    def __new__(
        cls, text: str, edits: list[Edit], unchecked: int | None = None
    ) -> Fix: ...
    @property
    def text(self) -> str: ...
    @property
    def edits(self) -> list[Edit]: ...
    @property
    def unchecked(self) -> int | None:
        """Where the ``timeout`` ran out, as an index into the input: from
        there on the text was not checked and is as it was. ``None`` when
        all of it was checked."""
    @property
    def changed(self) -> bool: ...

@final
class Corrector:
    """A typo corrector. ``Corrector()`` is the model built into typofix.

    One corrector can be shared by threads: it releases the GIL while it
    works. It pickles as the way to make it again, so worker processes each
    load their own. A process forked after its parent ran the model cannot
    run it (its threads do not survive ``fork()``) and raises TypofixError:
    use the 'spawn' or 'forkserver' start method, or run the model only in
    the workers.

    Keyword options of every method:
      threshold: the least gain in log-probability a correction needs;
        higher is more conservative. None: the model's calibrated default.
      allow: words never to correct (compared case-insensitively).
      timeout: seconds of work at most; what was not checked by then comes
        back as it was, and ``Fix.unchecked`` says from where.
    """

    def __new__(cls) -> Corrector: ...
    @staticmethod
    def load(path: str | PathLike[str]) -> Corrector:
        """A model directory made by ``typofix model package``."""
    def fix(
        self,
        text: str,
        *,
        threshold: float | None = None,
        allow: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> Fix: ...
    def fix_batch(
        self,
        texts: Sequence[str],
        *,
        threshold: float | None = None,
        allow: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> list[Fix]:
        """Corrects several texts together, several times faster than one at
        a time: their sentences share the model's batches."""
    def check(
        self,
        text: str,
        *,
        threshold: float | None = None,
        allow: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> list[Edit]:
        """The edits ``fix`` would make, without the corrected text."""
