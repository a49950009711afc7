"""Plausibility metrics of the TAM paper (Obj-IoU, Func-IoU, F1-IoU) and caption metrics (METEOR, ROUGE-L).

>>> from tam_widgets.metrics import COCO_CATEGORIES, score_caption, summarize
>>> # s = score_caption(maps, token_ids, tokenizer, label_mask, COCO_CATEGORIES)   # one sample
>>> # summarize([s, ...])  ->  {"obj_iou", "func_iou", "f1_iou", "n_samples", "n_obj_words", "n_func_words", ...}

Per sample (:func:`score_caption`): the generated tokens are grouped into words, each word is POS-tagged (nouns
NN NNS NNP NNPS; function words CC DT EX MD POS PRP PRP$ UH WDT WP WP$ WRB, IN and CD left out on purpose), and
nouns are matched to the categories of a ``{name: label}`` dict. A matched noun whose category is present in the
label mask gets an **Obj-IoU** entry: each of its tokens' maps is resized to the mask size (``cv2.resize``,
bilinear, uint8), binarised with Otsu (foreground = value > threshold), IoU with the category's mask; the word keeps
its best token (precision and recall at that token). Every noun (matched or not) adds the max over its tokens of
the Otsu threshold to a list whose mean is the foreground threshold ``fg``; each function word then gets a
**Func-IoU** entry: the mean over its tokens of the fraction of background pixels (value below ``fg``), the IoU of
the predicted background with an all-background truth. :func:`summarize` pools all entries of all samples:
Obj-IoU and Func-IoU are means over words (not over images), ``F1-IoU = 2 Obj Func / (Obj + Func)``; a kind with
no word gives NaN (and so does F1), silently.

``compat="official"`` reproduces the paper's released evaluation script, quirks included; the default mode fixes
them. Quirk by quirk (official -> default):

1. *Re-tokenisation.* The ids are decoded with special tokens kept and the text is tokenised again; words index
   the re-tokenised sequence, which may not be the generated one, and the sample is **skipped** when the last
   word's last token index is not ``len(maps) - 1`` (``CaptionScore.skipped`` says why).
   -> Default: words are built from the generated ids themselves; ``len(maps) != len(token_ids)`` is an error.
2. *Grouping.* A token starts a word at index 0, when its text starts with a space, its piece with ``▁``, it holds
   a CJK character, or its text is a *substring* of ``string.punctuation`` (so "" and ".,"-like runs count, but
   ".\\n" does not); everything else is glued on, spaces removed, even after punctuation ("well-known" gives
   "well", "-known"). A space-only token (byte-level BPE's " " before ".") becomes an empty word, which tags NN:
   one more unmatched noun in ``fg``. -> Default: a punctuation-only token is a word of its own and ends the word,
   whitespace tokens end words and make none, a word's ids are decoded together.
3. *EOS glued to the last word* (".<|im_end|>"), which tagged alone is NN: a noun that matches nothing but adds
   its Otsu threshold to ``fg``; without final punctuation the last noun becomes "cat<|im_end|>" and loses its
   category. -> Default: special tokens (``tokenizer.all_special_ids``) belong to no word.
4. *Tagging each word alone* (``nltk.pos_tag([word])``): "there" is RB (not EX), "yes" NNS, "teddy" NN.
   -> Default: the words are tagged together, in context.
5. *Category matching:* lower case, "-" dropped, WordNet noun lemma; a category matches when *any* part of its
   name matches, all categories are scanned in dict order and **the last match wins**: "dog" -> "hot dog" (58),
   "bear" -> "teddy bear", "table" -> "dining table", "hair" -> "hair drier", "baseball" -> "baseball glove".
   -> Default: multi-word names match as whole phrases, longest first ("hot dog" needs "hot dog"; every noun of the
   phrase gets the label); then one-word names ("dog" -> "dog"); then synonyms.
6. *No synonyms:* "man", "people", "sofa", "motorbike", "television" match nothing. -> Default: the
   :data:`SYNONYMS` table (person words, sofa -> couch, bike -> bicycle, plane -> airplane, television/monitor ->
   tv, table -> dining table, ...; ``synonyms=`` replaces it).
7. *Precision* is NaN (0/0) when the Otsu foreground is empty. -> Default: 0.0.
8. *Merging* adjacent same-label words ("tennis racket") into one entry with the larger IoU tests the labels only:
   when the category is absent from the mask (the word adds no entry) the script merges the two *previous*,
   unrelated entries (a detail of the released script beyond EVAL_PROTOCOL.md, reproduced here). -> Default: only
   the entries of the two adjacent words are merged.
9. *Func-IoU on the un-resized map* while ``fg`` comes from Otsu on the resized maps. -> Default: the resized map,
   as for Obj-IoU.
10. *Strict* ``value < fg``: pixels equal to the threshold count as foreground, unlike Otsu's ``value > t``
    foreground. -> Default: background is ``value <= fg``.
11. *Float maps:* the script only handles uint8 maps; official mode converts float maps in [0, 1] the way TAM
    writes its maps, ``(x * 255).astype(uint8)`` (truncation). -> Default: rounding.

Maps: ``maps[j]`` is used for token ``j``. To reproduce the paper, pass the maps of TAM's reference mode unchanged
(``compat="reference"`` explanations: there ``maps[0]`` is the first prompt token's map, the paper's choice).

Unchanged in both modes: categories absent from the mask are not scored; every noun (matched or not) adds to
``fg``; Func-IoU needs at least one noun in the sample; pooling over words.

NLTK data: the tagger ``averaged_perceptron_tagger_eng`` and ``wordnet`` (see :mod:`tam_widgets.metrics.nlp`);
both are loaded once and cached, as are the tags, lemmas and each categories dict's lemmatised names.
"""

from .categories import COCO_CATEGORIES, SYNONYMS, CategoryIndex, category_index
from .nlp import NLTKDataMissing, ensure_nltk_data
from .plausibility import FUNCTION_TAGS, NOUN_TAGS, CaptionScore, score_caption, summarize
from .text import meteor, rouge_l, tokenize

__all__ = [
    "COCO_CATEGORIES",
    "FUNCTION_TAGS",
    "NOUN_TAGS",
    "SYNONYMS",
    "CaptionScore",
    "CategoryIndex",
    "NLTKDataMissing",
    "category_index",
    "ensure_nltk_data",
    "meteor",
    "rouge_l",
    "score_caption",
    "summarize",
    "tokenize",
]
