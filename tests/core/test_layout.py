"""Bad input gets a ValueError that names what is wrong."""

import numpy as np
import pytest
import torch

from tam_widgets.core import normalize_grids, tam_from_hidden, tam_from_logits
from tests.core.test_tam import kw, small_case


def test_normalize_grids():
    assert normalize_grids((2, 3)) == ((2, 3),)
    assert normalize_grids(np.array([4, 2, 3])) == ((4, 2, 3),)
    assert normalize_grids([(2, 3), [1, 2, 2]]) == ((2, 3), (1, 2, 2))
    for bad in [(), (5,), (1, 2, 3, 4), (0, 3), [(2, 3), (2,)]]:
        with pytest.raises(ValueError, match="grid"):
            normalize_grids(bad)


@pytest.fixture
def case():
    return small_case(0)


def call(case, **override):
    logits, ids, vis, prompt, start = case
    args = dict(logits=logits, input_ids=ids, **kw(vis, prompt, start, (3, 4)))
    args.update(override)
    return tam_from_logits(args.pop("logits"), args.pop("input_ids"), **args)


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(grid=(3, 5)), r"holds 15 visual tokens but visual_positions has 12 \(shape \(12,\)\)"),
        (dict(grid=[(2, 2), (2, 2)]), "holds 8 visual tokens"),
        (dict(visual_positions=[]), "visual_positions is empty"),
        (dict(answer_start=24), r"leaves no answer tokens in input_ids of length 24"),
        (dict(answer_start=0), "answer_start=0"),
        (dict(prompt_positions=[15, 30]), r"prompt_positions must lie in \[1, answer_start=19\)"),
        (dict(prompt_positions=[15, 15]), "repeated"),
        (dict(prompt_positions=[5, 15]), "overlap"),
        (dict(visual_positions=np.arange(12.0)), "integer positions"),
        (dict(visual_positions=np.zeros((3, 4), int)), r"1-D list of positions, got shape \(3, 4\)"),
        (dict(compat="paper"), "unknown compat mode"),
        (dict(filter="bilateral"), "unknown filter"),
        (dict(eci="median"), "unknown ECI variant"),
        (dict(input_ids=[1]), "at least one input and one answer token"),
    ],
)
def test_bad_layouts(case, override, message):
    with pytest.raises(ValueError, match=message):
        call(case, **override)


def test_logits_rows_must_match_the_sequence(case):
    logits = case[0]
    with pytest.raises(ValueError, match=r"scores have 15 rows but input_ids has 24 tokens"):
        call(case, logits=logits[:15])
    with pytest.raises(ValueError, match=r"logits must be \[L, V\], got shape \(23, 15, 1\)"):
        call(case, logits=logits[..., None])
    call(case, logits=np.concatenate([logits, logits[-1:]]))  # a row for the last token is fine


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("compat", ["default", "reference"])
def test_nan_and_inf_scores(case, value, compat):
    logits, ids, vis = case[0].copy(), case[1], case[2]
    logits[vis[3], ids[-1]] = value
    with pytest.raises(ValueError, match="NaN or inf"):
        call(case, logits=logits, compat=compat)


def test_ids_outside_the_vocabulary(case):
    ids = case[1].copy()
    ids[-1] = 99
    with pytest.raises(ValueError, match=r"outside the vocabulary \[0, 15\)"):
        call(case, input_ids=ids)


def test_reference_needs_a_prompt(case):
    with pytest.raises(ValueError, match="at least one prompt token"):
        call(case, compat="reference", prompt_positions=[])


def test_hidden_and_head_shapes():
    hidden, weight = torch.randn(23, 8), torch.randn(15, 8)
    logits, ids, vis, prompt, start = small_case(0)
    args = kw(vis, prompt, start, (3, 4))
    with pytest.raises(ValueError, match=r"hidden is \(23, 8\) but lm_head_weight is \(15, 6\)"):
        tam_from_hidden(hidden, torch.randn(15, 6), ids, **args)
    with pytest.raises(ValueError, match=r"lm_head_bias must be \[V\] = \[15\], got \(14,\)"):
        tam_from_hidden(hidden, weight, ids, lm_head_bias=torch.zeros(14), **args)
    with pytest.raises(ValueError, match="must be a numpy array or torch tensor"):
        tam_from_hidden(object(), weight, ids, **args)
    r = tam_from_hidden(hidden, weight, ids, lm_head_bias=torch.zeros(15), **args)
    assert r.maps.shape == (5, 3, 4)
