"""NLTK resources for the metrics: the POS tagger and the WordNet lemmatizer, loaded once and cached.

Two NLTK data packages are needed: ``averaged_perceptron_tagger_eng`` (the tagger, NLTK >= 3.9 JSON layout) and
``wordnet`` (lemmas, and METEOR's synonyms). Where they are looked for:

* ``NLTK_DATA`` set: its ``os.pathsep``-separated folders are searched first (then NLTK's other folders); nothing
  is downloaded, a missing package raises :class:`NLTKDataMissing` at once;
* otherwise NLTK's default folders, and when a package is missing ``nltk.download`` is tried once per process for
  the missing ones; if that fails, :class:`NLTKDataMissing` names both packages and how to install them.

>>> tag_alone("cat")
'NN'
>>> lemma("dogs")
'dog'
"""

from __future__ import annotations

import functools
import os
import threading

__all__ = ["NLTK_PACKAGES", "NLTKDataMissing", "ensure_nltk_data", "lemma", "tag_alone", "tag_sentence", "tagger"]

#: The NLTK data packages the metrics need, with the resource paths NLTK looks them up by.
NLTK_PACKAGES: dict[str, str] = {
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng/",
    "wordnet": "corpora/wordnet",  # nltk.data.find also finds corpora/wordnet.zip
}

_INSTALL_HINT = (
    "tam_widgets.metrics needs the NLTK data packages 'averaged_perceptron_tagger_eng' and 'wordnet' "
    "(missing: {missing}; searched: {searched}). Install them with\n"
    "    python -m nltk.downloader averaged_perceptron_tagger_eng wordnet\n"
    "or point the NLTK_DATA environment variable to a folder that holds them "
    "(taggers/averaged_perceptron_tagger_eng and corpora/wordnet)."
)

_LOCK = threading.RLock()
_STATE: dict[str, object] = {"ready": False, "download_tried": False, "tagger": None, "lemmatizer": None}


class NLTKDataMissing(LookupError):
    """Raised when the NLTK tagger or WordNet data cannot be found (and could not be downloaded).

    Its message names the missing packages and the command that installs them; it is a ``LookupError``, as
    NLTK's own:

    >>> issubclass(NLTKDataMissing, LookupError)
    True
    >>> try:  # illustrative: NLTK_DATA points to a folder without the tagger  # doctest: +SKIP
    ...     ensure_nltk_data()
    ... except NLTKDataMissing as e:
    ...     print(e)
    """


def _missing() -> list[str]:
    import nltk

    out = []
    for package, resource in NLTK_PACKAGES.items():
        try:
            nltk.data.find(resource)
        except LookupError:
            out.append(package)
    return out


def _use_env_path() -> str | None:
    """Put the folders of ``NLTK_DATA`` (when set) first in ``nltk.data.path``; return the variable."""
    import nltk

    env = os.environ.get("NLTK_DATA")
    if env:
        for folder in reversed([p for p in env.split(os.pathsep) if p]):
            if folder not in nltk.data.path:
                nltk.data.path.insert(0, folder)
    return env or None


def ensure_nltk_data() -> None:
    """Make sure both NLTK packages are available (see the module docstring), else raise :class:`NLTKDataMissing`.

    >>> ensure_nltk_data()  # a no-op once the data has been found
    """
    if _STATE["ready"]:
        return
    with _LOCK:
        if _STATE["ready"]:
            return
        import nltk

        env = _use_env_path()
        missing = _missing()
        if missing and not env and not _STATE["download_tried"]:
            _STATE["download_tried"] = True
            for package in missing:
                try:
                    nltk.download(package, quiet=True, raise_on_error=True)
                except Exception:  # noqa: BLE001 - no network, no permission...: reported below
                    pass
            missing = _missing()
        if missing:
            raise NLTKDataMissing(
                _INSTALL_HINT.format(missing=", ".join(missing), searched=os.pathsep.join(map(str, nltk.data.path)))
            )
        _STATE["ready"] = True


def tagger():
    """The cached ``PerceptronTagger`` (the model ``nltk.pos_tag`` uses for English)."""
    tg = _STATE["tagger"]
    if tg is None:
        ensure_nltk_data()
        with _LOCK:
            if _STATE["tagger"] is None:
                from nltk.tag.perceptron import PerceptronTagger

                _STATE["tagger"] = PerceptronTagger()
            tg = _STATE["tagger"]
    return tg


def _lemmatizer():
    lm = _STATE["lemmatizer"]
    if lm is None:
        ensure_nltk_data()
        with _LOCK:
            if _STATE["lemmatizer"] is None:
                from nltk.stem import WordNetLemmatizer

                _STATE["lemmatizer"] = WordNetLemmatizer()
            lm = _STATE["lemmatizer"]
    return lm


@functools.lru_cache(maxsize=65536)
def tag_alone(word: str) -> str:
    """POS tag of ``word`` tagged on its own, as ``nltk.pos_tag([word])`` gives it (cached).

    >>> tag_alone("there"), tag_alone("yes")
    ('RB', 'NNS')
    """
    return tagger().tag([word])[0][1]


def tag_sentence(words: list[str]) -> list[str]:
    """POS tags of ``words`` tagged together, in context.

    >>> tag_sentence(["There", "is", "a", "dog"])
    ['EX', 'VBZ', 'DT', 'NN']
    """
    if not words:
        return []
    return [t for _, t in tagger().tag(list(words))]


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """WordNet noun lemma of ``word`` (as ``WordNetLemmatizer().lemmatize(word)``), cached.

    >>> lemma("children")
    'child'
    """
    return _lemmatizer().lemmatize(word)


def _reset() -> None:
    """Forget the loaded resources and caches (tests)."""
    with _LOCK:
        _STATE.update(ready=False, download_tried=False, tagger=None, lemmatizer=None)
        tag_alone.cache_clear()
        lemma.cache_clear()
