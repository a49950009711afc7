"""Cases, the OK-VQA and STAR readers on files of the real formats, STAR answer matching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tam_widgets.studies import Case, CaseError, Study, match_choice, okvqa, parse_letter, star, star_question_type

CHOICES = ["The laptop.", "The box.", "The bag.", "The book."]


# -- cases -----------------------------------------------------------------------------------------
def test_case_from_a_plain_dict_and_its_ground_truth():
    c = Case.from_dict({"id": 3, "image": "x.jpg", "question": "What?", "answers": ["dog"] * 3 + ["cat"] * 7})
    assert (c.id, c.kind, c.ground_truth, c.prompt) == ("3", "vqa", "cat", "What?")
    s = Case.from_dict({"id": "s", "video": "v.mp4", "question": "Which?", "choices": CHOICES, "answer": "The box."})
    assert (s.kind, s.ground_truth) == ("star", "The box.")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"id": "", "image": "x", "question": "q", "answers": ["a"]}, "non-empty str id"),
        ({"id": "1", "image": "x", "video": "v", "question": "q", "answers": ["a"]}, "exactly one of image= or video="),
        ({"id": "1", "image": "x", "question": "q"}, "no ground truth"),
        (
            {"id": "1", "image": "x", "question": "q", "choices": CHOICES, "answer": "The cup."},
            "not one of its choices",
        ),
        ({"id": "1", "image": "x", "question": " ", "answers": ["a"]}, "question is empty"),
        ({"id": "1", "video": "v", "question": "q", "answers": ["a"], "start": 3, "end": 1}, "not after start"),
        ({"id": "1", "image": "x", "question": "q", "answers": ["a"], "answerz": 1}, "unknown keys"),
    ],
)
def test_bad_cases_are_refused_with_the_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        Case.from_dict(bad)


def test_duplicate_case_ids_are_refused():
    c = {"id": "1", "image": "x", "question": "q", "answers": ["a"]}
    with pytest.raises(ValueError, match="duplicate case id '1'"):
        Study([c, dict(c)])


# -- STAR answers ------------------------------------------------------------------------------------
def test_open_answer_names_the_choice_by_its_words():
    assert match_choice("The person opened a pink case", CHOICES + ["The case."]) == (4, "words")
    assert match_choice("The laptop", CHOICES) == (0, "exact")
    assert match_choice("laptops", CHOICES) == (0, "exact")  # plurals made singular
    assert match_choice("Two boxes.", CHOICES) == (1, "words") and match_choice("the dishes", ["The dish."]) == (
        0,
        "exact",
    )
    assert match_choice("glasses", ["The glass.", "The cup."]) == (0, "exact")
    assert match_choice("He opened the box on the table", CHOICES) == (1, "words")
    # the paper's example: the answer names none of the choices -> no choice (counted wrong)
    assert match_choice("The person opened a pink case", CHOICES) == (None, "no choice named")
    k, how = match_choice("a box and a bag", CHOICES)
    assert k is None and how.startswith("ambiguous") and "'The box.'" in how and "'The bag.'" in how
    # more of a longer choice's words wins; too few words of it do not count
    acts = ["Opened the door.", "Closed the door.", "Put down the towel."]
    assert match_choice("he opened the door slowly", acts) == (0, "words")
    assert match_choice("he put on his shoes", acts) == (None, "no choice named")


def test_letter_answers_to_a_lettered_prompt():
    assert [parse_letter(a) for a in ["B", "B.", "(C)", "d) the book", "Answer: A", "The answer is C."]] == [
        1,
        1,
        2,
        3,
        0,
        2,
    ]
    assert parse_letter("A laptop.") is None  # an article, not a letter
    assert parse_letter("E") is None  # only four options
    c = Case("1", "Which?", video="v.mp4", choices=CHOICES, answer="The box.", meta={"prompt_mode": "choices"})
    assert c.choice("B.") == (1, "letter") and c.score("B.") == 1.0 and c.score("A") == 0.0
    assert c.choice("the box") == (1, "exact")  # no letter: the words decide


def test_star_question_type_is_the_id_prefix():
    assert star_question_type("Interaction_T1_13") == "Interaction"
    assert star_question_type("Feasibility_T5_2") == "Feasibility"


# -- readers --------------------------------------------------------------------------------------
def test_okvqa_reads_the_official_files(okvqa_files, tmp_path):
    study = okvqa(None, okvqa_files["questions"], okvqa_files["annotations"], okvqa_files["images"])
    assert [c.id for c in study.case_list] == ["50", "420", "1390"]  # sorted by question id
    cat = study.case("420")
    assert cat.question == "What animal is this?" and cat.prompt.startswith("What animal is this? Answer")
    assert cat.answers == ["cat"] * 6 + ["kitten"] * 4 and cat.question_type == "other"
    assert cat.image.name == "COCO_val2014_000000000042.jpg" and cat.meta["image_id"] == 42
    (pic,) = study.pictures("420")
    assert pic.dtype == np.uint8 and pic.shape == (38, 57, 3)  # chelsea (300x451) every 8th pixel
    assert cat.score("Cat.") == 1.0 and cat.score("kitten") == pytest.approx(1.0)
    assert len(okvqa(None, okvqa_files["questions"], okvqa_files["annotations"], okvqa_files["images"], limit=2)) == 2


def test_a_case_whose_picture_is_missing_is_an_error_on_that_case(okvqa_files, tmp_path):
    study = okvqa(None, okvqa_files["questions"], okvqa_files["annotations"], okvqa_files["images"])
    with pytest.raises(CaseError, match="case '50': cannot read its picture"):
        study.pictures("50")
    assert "not found" in study.errors["50"]
    assert study.pictures("1390")[0].shape[2] == 3  # the others still load
    df = study.cases
    assert df.set_index("id").loc["420", "ground_truth"] == "cat"


def test_okvqa_hostile_files(okvqa_files, tmp_path):
    q, a, images = okvqa_files["questions"], okvqa_files["annotations"], okvqa_files["images"]
    with pytest.raises(FileNotFoundError, match="nope.json"):
        okvqa(None, tmp_path / "nope.json", a, images)
    with pytest.raises(FileNotFoundError, match="images directory not found"):
        okvqa(None, q, a, tmp_path / "no_images")
    bad = tmp_path / "bad.json"
    bad.write_text('{"questions": [')
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        okvqa(None, bad, a, images)
    with pytest.raises(ValueError, match="no 'annotations' list"):
        okvqa(None, q, q, images)
    broken = json.loads(q.read_text())
    del broken["questions"][0]["image_id"]
    bad.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="malformed.*image_id"):
        okvqa(None, bad, a, images)
    with pytest.raises(ValueError, match="limit must be a whole number"):
        okvqa(None, q, a, images, limit=0)


def test_star_reads_the_official_file_and_samples_inside_the_clip(star_files):
    study = star(None, star_files["json"], star_files["videos"], max_frames=4)
    assert [c.id for c in study.case_list] == ["Interaction_T1_13", "Prediction_T4_2", "Sequence_T3_7"]
    c = study.case("Interaction_T1_13")
    assert c.choices == ["The laptop.", "The box.", "The bag.", "The book."]  # by choice_id
    assert (c.answer, c.question_type, c.start, c.end, c.prompt) == (
        "The laptop.",
        "Interaction",
        1.0,
        3.0,
        "Which object was opened by the person?",
    )
    frames = study.pictures(c.id)
    assert len(frames) == 4
    levels = [int(round(float(f.mean()) / 5)) for f in frames]  # frame i has grey level 5 i
    # frames 10..29 (1 s to 3 s at 10 fps), 4 evenly: 10, 16, 23, 29 (grey levels within the codec's +-1)
    assert all(abs(a - b) <= 1 for a, b in zip(levels, [10, 16, 23, 29])), levels
    with pytest.raises(CaseError, match="cannot read its video"):
        study.pictures("Prediction_T4_2")


def test_star_choices_prompt_lists_lettered_options(star_files):
    study = star(None, star_files["json"], star_files["videos"], prompt="choices", limit=1)
    c = study.case_list[0]
    assert "\nA. The laptop.\nB. The box.\nC. The bag.\nD. The book.\n" in c.prompt
    assert c.score("A") == 1.0 and c.score("The laptop") == 1.0 and c.score("B") == 0.0
    with pytest.raises(ValueError, match="prompt must be 'open' or 'choices'"):
        star(None, star_files["json"], star_files["videos"], prompt="letters")


def test_star_hostile_files(star_files, tmp_path):
    with pytest.raises(FileNotFoundError, match="STAR annotation file not found"):
        star(None, tmp_path / "STAR_val.json", star_files["videos"])
    data = json.loads(star_files["json"].read_text())
    del data[0]["answer"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="malformed.*answer"):
        star(None, bad, star_files["videos"])
    bad.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(ValueError, match="expected a list of questions"):
        star(None, bad, star_files["videos"])
