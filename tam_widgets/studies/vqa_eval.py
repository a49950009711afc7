"""The official VQA accuracy (``vqaEval.py`` of the VQA v2 evaluation, GT-Vision-Lab), rule for rule.

The official script, per question:

1. newlines and tabs become spaces and the ends are stripped, in the prediction and every human answer;
2. **only when the human answers disagree** (more than one distinct string after step 1), every human
   answer and the prediction go through :func:`process_punctuation` then :func:`process_digit_article`;
   when they all agree nothing else is normalised (so ``"Yes"`` scores 0 against ten ``"yes"``);
3. for each of the human answers, the other ones (leave one out) that equal the prediction exactly
   are counted: ``min(1, matches / 3)``; the accuracy is the mean over these subsets.

Its quirks are kept: the punctuation test looks at the *original* text, a ``d,d`` anywhere removes every
punctuation mark instead of spacing it, the period regex's ``(?!<=\\d)`` is a look-ahead (not a
look-behind) so every period not followed by a digit goes, ``re.UNICODE`` is passed as the ``count`` of
``sub`` (at most 32 periods are removed), apostrophes and colons are not punctuation, and the
contraction keys with capitals (``"Im"``, ``"Ive"``) never match lower-cased words.

>>> vqa_accuracy("two", ["2"] * 3 + ["3"] * 7)
0.9
>>> vqa_accuracy("Yes", ["yes"] * 10), vqa_accuracy("Yes", ["yes"] * 9 + ["yes!"])
(0.0, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["normalize_answer", "process_digit_article", "process_punctuation", "vqa_accuracy"]

# fmt: off
CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
    "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd",
    "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're", "theres": "there's",
    "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll",
    "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've",
    "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're",
    "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's",
    "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll",
    "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's",
    "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll",
    "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd",
    "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've",
}
# fmt: on
#: number words the official script turns into digits (nothing above ten)
MANUAL_MAP = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}
MANUAL_MAP.update({"seven": "7", "eight": "8", "nine": "9", "ten": "10"})
ARTICLES = ("a", "an", "the")
PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")
#: the official pattern, typo included: ``(?!<=\d)`` is a look-ahead that never fires before a period
PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
COMMA_STRIP = re.compile(r"(\d)(,)(\d)")
#: ``periodStrip.sub("", text, re.UNICODE)`` in the official script: re.UNICODE (32) lands in ``count``
_PERIOD_COUNT = int(re.UNICODE)


def process_punctuation(text: str) -> str:
    """The official ``processPunctuation``: each mark removed (when it touches a space in the original
    text, or the text has a ``digit,digit``) or replaced by a space; then periods not before a digit go.

    >>> process_punctuation("t-shirt"), process_punctuation("t - shirt"), process_punctuation("3,000 x-ray")
    ('t shirt', 't  shirt', '3000 xray')
    >>> process_punctuation("st. mary's 2.5")
    "st mary's 2.5"
    """
    out = text
    has_comma_number = COMMA_STRIP.search(text) is not None
    for p in PUNCT:
        if (p + " " in text or " " + p in text) or has_comma_number:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return PERIOD_STRIP.sub("", out, count=_PERIOD_COUNT)


def process_digit_article(text: str) -> str:
    """The official ``processDigitArticle``: lower case, number words to digits, articles dropped, contractions.

    >>> process_digit_article("The  Two dogs"), process_digit_article("dont im")
    ('2 dogs', "don't im")
    """
    words = [MANUAL_MAP.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in ARTICLES]
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def _clean(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()


def normalize_answer(text: str) -> str:
    """The full normalisation the official script applies when the human answers disagree.

    >>> normalize_answer("  The Two\\tcats.  ")
    '2 cats'
    """
    return process_digit_article(process_punctuation(_clean(text)))


def vqa_accuracy(prediction: str, answers: Sequence[str] | Sequence[dict]) -> float:
    """The official VQA accuracy of ``prediction`` against the human ``answers`` (usually 10).

    ``answers`` are strings or the annotation file's dicts (their ``"answer"`` is used). The mean over
    the leave-one-out subsets of ``min(1, matches / 3)``; see the module docstring for the normalisation.
    An empty list of answers is refused (the official script divides by zero).

    >>> vqa_accuracy("a dog", ["dog"] * 2 + ["cat"] * 8)
    0.6
    """
    if not isinstance(prediction, str):
        raise TypeError(f"the prediction must be a str, got {type(prediction).__name__}")
    gts = [a["answer"] if isinstance(a, dict) else a for a in answers]
    if not gts:
        raise ValueError("no human answers to score against: VQA accuracy needs the question's answers (10 in VQA)")
    if not all(isinstance(a, str) for a in gts):
        raise TypeError("answers must be strings or dicts with an 'answer' string")
    gts = [_clean(a) for a in gts]
    pred = _clean(prediction)
    if len(set(gts)) > 1:
        gts = [process_digit_article(process_punctuation(a)) for a in gts]
        pred = process_digit_article(process_punctuation(pred))
    total = 0.0
    for i in range(len(gts)):
        matches = sum(1 for j, a in enumerate(gts) if j != i and a == pred)
        total += min(1.0, matches / 3)
    return total / len(gts)
