"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL: dynamic resolution, 2x2 token merge, video in temporal pairs.

The image processor resizes each picture as a whole (no crop) to a multiple of
``patch_size * merge_size`` pixels, so a grid of ``(h, w)`` merged tokens covers the whole picture.
A video's frames are grouped by ``temporal_patch_size`` (2): grid frame ``g`` covers video frames
``2g`` and ``2g + 1`` (shown as frame ``2g``). Qwen3-VL writes a timestamp before each frame
group; the video tokens are still found by their id, in order.
"""

from __future__ import annotations

import numpy as np

from . import register_adapter
from .base import Adapter, VisualSpan, positions_of, whole_picture_box


@register_adapter("qwen2_vl", "qwen2_5_vl", "qwen3_vl")
class QwenVLAdapter(Adapter):
    family = "Qwen-VL"
    supports_video = True
    concat_keys = ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts")

    #: frame rate assumed for frame lists (it sets Qwen3-VL's timestamps and Qwen2.5-VL's time ids)
    fps = 2.0

    def video_kwargs(self, videos: list[list[np.ndarray]]) -> dict:
        """Use every given frame, at :attr:`fps`, with no sampling and nothing fetched."""
        meta = [{"fps": self.fps, "total_num_frames": len(v), "frames_indices": list(range(len(v)))} for v in videos]
        return {"do_sample_frames": False, "video_metadata": meta}

    def _merge_size(self, processor) -> int:
        return int(getattr(processor, "merge_size", 2))

    def visual_spans(self, input_ids, inputs, images, videos) -> list[VisualSpan]:
        spans: list[VisualSpan] = []
        image_pos = positions_of(input_ids, self.processor.image_token_id)
        merge = self._merge_size(self.processor.image_processor)
        start = 0
        for i, (t, h, w) in enumerate(np.asarray(inputs.get("image_grid_thw", np.zeros((0, 3)))).astype(int)):
            n = t * h * w // merge**2
            spans.append(
                VisualSpan(
                    "image",
                    i,
                    image_pos[start : start + n],
                    (h // merge, w // merge),
                    [0],
                    np.array([whole_picture_box(images[i])]),
                )
            )
            start += n
        if start != len(image_pos):
            raise ValueError(f"found {len(image_pos)} image tokens but the grids account for {start}")
        if videos:
            vp = self.processor.video_processor
            merge, step = self._merge_size(vp), int(getattr(vp, "temporal_patch_size", 2))
            video_pos = positions_of(input_ids, self.processor.video_token_id)
            start = 0
            for v, (t, h, w) in enumerate(np.asarray(inputs["video_grid_thw"]).astype(int)):
                n = t * h * w // merge**2
                frames = [min(g * step, len(videos[v]) - 1) for g in range(t)]
                boxes = np.array([whole_picture_box(videos[v][f]) for f in frames])
                spans.append(
                    VisualSpan("video", v, video_pos[start : start + n], (t, h // merge, w // merge), frames, boxes)
                )
                start += n
        return sorted(spans, key=lambda s: int(s.positions[0]) if len(s.positions) else -1)
