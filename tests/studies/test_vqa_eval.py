"""The official VQA accuracy, rule by rule, on hand-worked cases (expected values derived by hand)."""

from __future__ import annotations

import pytest

from tam_widgets.studies import normalize_answer, process_digit_article, process_punctuation, vqa_accuracy

OTHER = ["no"] * 6  # six disagreeing answers: the normalisation is on


def test_leave_one_out_mean_of_min_matches_over_three():
    # k matching humans of 10: the k subsets without one of them have k-1 matches, the others k
    assert vqa_accuracy("cat", ["cat"] * 1 + ["dog"] * 9) == pytest.approx((1 * 0 + 9 * (1 / 3)) / 10)  # 0.3
    assert vqa_accuracy("cat", ["cat"] * 2 + ["dog"] * 8) == pytest.approx((2 * (1 / 3) + 8 * (2 / 3)) / 10)  # 0.6
    assert vqa_accuracy("cat", ["cat"] * 3 + ["dog"] * 7) == pytest.approx((3 * (2 / 3) + 7) / 10)  # 0.9
    assert vqa_accuracy("cat", ["cat"] * 4 + ["dog"] * 6) == 1.0
    assert vqa_accuracy("cow", ["cat"] * 4 + ["dog"] * 6) == 0.0
    # the mean is taken like the script: sum of the ten terms, then divided
    assert vqa_accuracy("cat", ["cat"] * 2 + ["dog"] * 8) == sum([1 / 3] * 2 + [2 / 3] * 8) / 10


def test_answer_dicts_of_the_annotation_file():
    answers = [
        {"answer_id": k + 1, "answer": a, "answer_confidence": "yes"} for k, a in enumerate(["cat"] * 3 + ["dog"] * 7)
    ]
    assert vqa_accuracy("cat", answers) == pytest.approx(0.9)


def test_newlines_tabs_and_ends_are_always_cleaned():
    assert vqa_accuracy("  yes\n", ["yes"] * 10) == 1.0
    assert vqa_accuracy("big\tdog", ["big dog"] * 10) == 1.0
    assert vqa_accuracy("big dog", ["big\ndog "] * 10) == 1.0


def test_nothing_else_is_normalised_when_the_humans_agree():
    assert vqa_accuracy("Yes", ["yes"] * 10) == 0.0  # not even lower case
    assert vqa_accuracy("yes.", ["yes"] * 10) == 0.0
    assert vqa_accuracy("the dog", ["dog"] * 10) == 0.0
    assert vqa_accuracy("yes", ["Yes"] * 10) == 0.0  # the humans' answers neither
    # one disagreeing answer switches the normalisation on, for both sides
    assert vqa_accuracy("Yes.", ["yes"] * 9 + ["no"]) == 1.0
    assert vqa_accuracy("yes", ["Yes"] * 9 + ["no"]) == 1.0


def test_number_words_up_to_ten_become_digits():
    assert vqa_accuracy("two", ["2"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("None", ["0"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("ten", ["10"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("eleven", ["11"] * 4 + OTHER) == 0.0


def test_articles_are_dropped():
    assert vqa_accuracy("the dog", ["a dog"] * 3 + ["cat"] * 7) == pytest.approx(0.9)
    assert vqa_accuracy("an apple", ["apple"] * 4 + OTHER) == 1.0
    assert process_digit_article("The  A an") == ""


def test_contractions_are_restored_but_capitalised_keys_never_match():
    assert vqa_accuracy("dont know", ["don't know"] * 4 + OTHER) == 1.0
    assert process_digit_article("whats") == "what's"
    # the script's keys "Im" and "Ive" never meet a lower-cased word: "im" stays "im"
    assert vqa_accuracy("im", ["i'm"] * 4 + OTHER) == 0.0
    assert vqa_accuracy("I'm", ["i'm"] * 4 + OTHER) == 1.0


def test_punctuation_is_spaced_unless_it_touches_a_space():
    assert process_punctuation("t-shirt") == "t shirt"
    assert process_punctuation("t -shirt") == "t shirt"  # " -" is in the text: removed
    assert process_punctuation("yes!") == "yes " and process_punctuation("(a)") == " a "  # spaces split away later
    assert vqa_accuracy("x-ray", ["x ray"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("x-ray", ["xray"] * 4 + OTHER) == 0.0
    # the test looks at the whole original text, per mark: a spaced comma elsewhere does not matter to "-"
    assert process_punctuation("x-ray , ok") == "x ray  ok"


def test_a_digit_comma_digit_anywhere_removes_every_mark():
    assert process_punctuation("1,000 x-ray") == "1000 xray"
    assert vqa_accuracy("1,000 x-ray", ["1000 xray"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("1,000", ["1000"] * 4 + OTHER) == 1.0


def test_apostrophes_and_colons_are_not_punctuation():
    assert process_punctuation("10:30") == "10:30"
    assert process_punctuation("mary's") == "mary's"
    assert vqa_accuracy("10:30", ["1030"] * 4 + OTHER) == 0.0


def test_periods_go_unless_a_digit_follows_even_after_a_digit():
    assert process_punctuation("st. louis") == "st louis"
    assert process_punctuation("2.5") == "2.5"
    # the pattern's "(?!<=\d)" is a look-ahead, not a look-behind: "5." loses its period too
    assert process_punctuation("5. apples") == "5 apples"
    assert vqa_accuracy("2.5", ["25"] * 4 + OTHER) == 0.0


def test_re_unicode_as_count_removes_at_most_32_periods():
    assert process_punctuation("." * 32 + "x") == "x"
    assert process_punctuation("." * 33 + "x") == ".x"
    assert vqa_accuracy("." * 32 + "x", ["x"] * 4 + OTHER) == 1.0
    assert vqa_accuracy("." * 33 + "x", ["x"] * 4 + OTHER) == 0.0


def test_normalize_answer_chains_every_rule():
    assert normalize_answer("  The Two\tcats.  ") == "2 cats"


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="no human answers"):
        vqa_accuracy("x", [])
    with pytest.raises(TypeError, match="prediction must be a str"):
        vqa_accuracy(None, ["x"])
    with pytest.raises(TypeError, match="answers must be strings"):
        vqa_accuracy("x", [3])
