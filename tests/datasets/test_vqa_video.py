from __future__ import annotations

import numpy as np
import pytest

from tam_widgets.datasets import OKVQA, STAR, read_video_frames

from .conftest import VIDEO_FRAMES


def test_okvqa(okvqa_root):
    ds = OKVQA(okvqa_root)
    assert len(ds) == 3 and ds.ids == ["5", "9", "12"]
    s = ds[0]
    assert s.prompt == "What sport is this?"
    assert s.answers == [f"a5_{k}" for k in range(10)]
    assert s.image.shape == (40, 50, 3) and s.label_mask is None and s.references == []
    assert s.meta["image_id"] == 139 and s.meta["question_id"] == 5
    assert ds[1].meta["image_path"].endswith("val2014/COCO_val2014_000000000007.jpg")
    s = OKVQA(okvqa_root, suffix=OKVQA.SHORT_ANSWER)[2]
    assert s.prompt == "Who makes the ball?" + OKVQA.SHORT_ANSWER


def test_okvqa_errors(tmp_path, okvqa_root):
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        OKVQA(tmp_path / "missing")
    (okvqa_root / "mscoco_val2014_annotations.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"mscoco_val2014_annotations\.json"):
        OKVQA(okvqa_root)


def _index_of(frame: np.ndarray) -> int:
    return int(round(float(frame.mean()) / 12))


def test_star(star_root):
    ds = STAR(star_root, max_frames=4)
    assert len(ds) == 3
    assert ds.ids == ["Interaction_T1_4", "Interaction_T1_13", "Sequence_T1_2"]
    s = ds[1]
    assert s.prompt == ("Which object was taken by the person?\nA. The book.\nB. The cup.\nC. The box.\nD. The door.")
    assert s.answers == ["The cup."] and s.meta["answer_letter"] == "B"
    assert s.image is None and len(s.frames) == 4
    assert all(f.shape == (24, 32, 3) and f.dtype == np.uint8 for f in s.frames)
    assert s.meta["fps"] == 10 and s.meta["frame_indices"] == [5, 8, 11, 14]  # 0.5 s .. 1.5 s
    assert [_index_of(f) for f in s.frames] == [5, 8, 11, 14]
    clipped = ds[2]  # end 5.0 s beyond the 2 s video
    assert clipped.meta["frame_indices"][-1] == VIDEO_FRAMES - 1 and clipped.meta["frame_indices"][0] == 0
    short = ds[0]  # 1.0 .. 1.1 s: a single frame
    assert short.meta["frame_indices"] == [10] and _index_of(short.frames[0]) == 10


def test_star_suffix_and_no_pixels(star_root):
    s = STAR(star_root, suffix="\nAnswer with the option's letter.", load_pixels=False)[2]
    assert s.frames is None and s.prompt.endswith("D. The door.\nAnswer with the option's letter.")


def test_read_video_frames_errors(star_root):
    path = star_root / "Charades_v1_480" / "ABC12.mp4"
    with pytest.raises(ValueError, match="no frames"):
        read_video_frames(path, 10.0, 12.0)
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        read_video_frames(star_root / "nope.mp4")
    frames, idx, fps = read_video_frames(path, max_frames=100)
    assert idx == list(range(VIDEO_FRAMES)) and len(frames) == VIDEO_FRAMES


def test_star_errors(tmp_path, star_root):
    with pytest.raises(FileNotFoundError, match="Expected layout"):
        STAR(tmp_path / "missing")
    (star_root / "Charades_v1_480" / "ABC12.mp4").unlink()
    ds = STAR(star_root)
    with pytest.raises(FileNotFoundError, match="ABC12.mp4"):
        ds[0]
    (star_root / "STAR_val.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"STAR_val\.json(.|\n)*Charades_v1_480"):
        STAR(star_root)
