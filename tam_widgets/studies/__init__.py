"""Failure-case studies on OK-VQA and STAR: cases, readers, official scoring, cached records, annotations.

import tam_widgets as tw
study = tw.studies.okvqa(tw.load("Qwen/Qwen2-VL-2B-Instruct"), "OpenEnded_mscoco_val2014_questions.json",
                         "mscoco_val2014_annotations.json", "val2014/", limit=200, store="study/annotations.jsonl")
study.precompute()                      # or lazily: study.explanation(case_id) on first open
failed = study.cases.query("correct == False")
study.annotate(failed.id[0], reason="answer shifted by context", note="says 'pink case'", flag=True)
study.export_figure(failed.id[:3], "failures.pdf"); study.export_annotations("annotations.csv")

Nothing here imports torch until a model runs.
"""

from .cases import STAR_TYPES, Case, match_choice, okvqa, parse_letter, star, star_question_type
from .store import AnnotationStore, AnnotationWarning
from .study import DEFAULT_REASONS, CaseError, Study, auto_batch_size
from .suggest import suggest_reasons, wordnet_relation
from .vqa_eval import normalize_answer, process_digit_article, process_punctuation, vqa_accuracy

__all__ = [
    "DEFAULT_REASONS",
    "STAR_TYPES",
    "AnnotationStore",
    "AnnotationWarning",
    "Case",
    "CaseError",
    "Study",
    "auto_batch_size",
    "match_choice",
    "normalize_answer",
    "okvqa",
    "parse_letter",
    "process_digit_article",
    "process_punctuation",
    "star",
    "star_question_type",
    "suggest_reasons",
    "vqa_accuracy",
    "wordnet_relation",
]
