"""Every picture kind is converted with its range kept, or refused with a message."""

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skimage_data

from tam_widgets.pictures import MAX_PIXELS, to_rgb8

ASTRO = skimage_data.astronaut()  # uint8 RGB


def _gray8():
    return skimage_data.camera()[::8, ::8]  # uint8 [64, 64]


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "CMYK", "YCbCr", "LAB", "HSV"])
def test_8bit_pil_modes_keep_the_picture(mode):
    rgb = Image.fromarray(ASTRO[::8, ::8])
    im = rgb.convert(mode) if mode not in ("LAB", "HSV") else rgb.convert(mode) if mode == "HSV" else None
    if mode == "LAB":
        from PIL import ImageCms

        im = ImageCms.applyTransform(rgb, ImageCms.buildTransformFromOpenProfiles(
            ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"))
    out = to_rgb8(im)
    assert out.dtype == np.uint8 and out.shape == (64, 64, 3)
    tol = {"1": 255, "P": 40, "CMYK": 2, "YCbCr": 4, "LAB": 12, "HSV": 4}.get(mode, 0)
    if mode == "L":
        np.testing.assert_array_equal(out[..., 0], np.asarray(im))
    elif mode == "1":  # black and white only, but not all one colour
        assert set(np.unique(out)) == {0, 255}
    else:
        assert np.abs(out.astype(int) - ASTRO[::8, ::8]).mean() <= tol


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_16bit_pictures_are_scaled_not_clipped_white(mode, tmp_path):
    g8 = _gray8()
    g16 = g8.astype(np.uint16) * 257  # the same picture in 16 bits
    im = Image.fromarray(g16) if mode != "I" else Image.fromarray(g16.astype(np.int32), "I")
    if mode == "I;16B":
        im = Image.frombytes("I;16B", im.size, g16.astype(">u2").tobytes())
    assert im.mode == mode
    np.testing.assert_array_equal(to_rgb8(im)[..., 1], g8)
    path = tmp_path / "sixteen.png"
    Image.fromarray(g16).save(path)  # a 16-bit PNG file (the white picture)
    np.testing.assert_array_equal(to_rgb8(path)[..., 0], g8)
    np.testing.assert_array_equal(to_rgb8(g16)[..., 2], g8)


def test_mode_i_out_of_16_bits_and_float_out_of_range_are_refused():
    with pytest.raises(ValueError, match=r"16-bit \(0-65535\)"):
        to_rgb8(Image.fromarray(np.array([[0, 70000]], np.int32), "I"))
    with pytest.raises(ValueError, match=r"\[0, 1\].*divide it by 255"):
        to_rgb8(Image.fromarray(np.array([[0.0, 200.0]], np.float32), "F"))
    with pytest.raises(ValueError, match=r"\[0, 1\]; this one spans \[-1, 1\]"):
        to_rgb8(np.array([[-1.0, 1.0]]))


def test_float_pil_and_arrays_scale_by_255():
    f = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    expected = np.round(f * 255).astype(np.uint8)
    np.testing.assert_array_equal(to_rgb8(Image.fromarray(f, "F"))[..., 0], expected)
    for dtype in (np.float16, np.float32, np.float64):
        np.testing.assert_array_equal(to_rgb8(f.astype(dtype))[..., 1], np.round(f.astype(dtype) * 255.0))
    rgb = ASTRO.astype(np.float64) / 255
    np.testing.assert_array_equal(to_rgb8(rgb), ASTRO)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(bad):
    arr = np.full((4, 4, 3), 0.5)
    arr[1, 2, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        to_rgb8(arr)


def test_alpha_is_composited_over_the_background():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 200  # red
    rgba[0, 0, 3] = 255  # opaque
    rgba[0, 1, 3] = 0  # transparent
    rgba[1, :, 3] = 128  # half
    out = to_rgb8(rgba)
    assert out[0, 0].tolist() == [200, 0, 0] and out[0, 1].tolist() == [255, 255, 255]
    assert out[1, 0].tolist() == [round(200 * 128 / 255 + 255 * 127 / 255), 127, 127]
    assert to_rgb8(rgba, background=(0, 0, 0))[0, 1].tolist() == [0, 0, 0]
    for mode in ("RGBA", "LA", "PA"):
        im = Image.fromarray(rgba, "RGBA").convert(mode)
        assert to_rgb8(im)[0, 1].tolist() == [255, 255, 255], mode  # transparent -> white, not the hidden colour
        assert to_rgb8(im)[0, 0].tolist() != [255, 255, 255], mode
    pal = Image.fromarray(rgba[..., :3]).convert("P")
    pal.info["transparency"] = pal.getpixel((0, 1))
    assert to_rgb8(pal)[0, 1].tolist() == [255, 255, 255]
    la = np.stack([np.full((2, 2), 10, np.uint8), rgba[..., 3]], -1)  # [H, W, 2]: grey + alpha
    assert to_rgb8(la)[0, 0].tolist() == [10, 10, 10] and to_rgb8(la)[0, 1].tolist() == [255, 255, 255]


def test_array_dtypes_and_shapes():
    g = _gray8()
    for arr in (g, g[..., None], np.repeat(g[..., None], 3, -1)):
        out = to_rgb8(arr)
        assert out.shape == (64, 64, 3)
        np.testing.assert_array_equal(out[..., 1], g)
    assert to_rgb8(np.array([[True, False]])).tolist() == [[[255] * 3, [0] * 3]]
    for dtype in (np.int8, np.int32, np.int64, np.uint32, np.uint64):
        with pytest.raises(ValueError, match=f"{np.dtype(dtype).name} picture array has no standard range.*uint8"):
            to_rgb8(g.astype(dtype))
    with pytest.raises(ValueError, match="channels-first.*transpose"):
        to_rgb8(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        to_rgb8(np.zeros((4, 4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="dtype complex"):
        to_rgb8(np.zeros((4, 4), complex))
    with pytest.raises(ValueError, match="got list"):
        to_rgb8([[0, 1]])


def test_torch_tensors_are_channels_first():
    t = torch.from_numpy(ASTRO).permute(2, 0, 1)
    np.testing.assert_array_equal(to_rgb8(t), ASTRO)
    np.testing.assert_array_equal(to_rgb8(t.float() / 255), ASTRO)
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        to_rgb8(torch.from_numpy(ASTRO))  # channels last: ambiguous for tensors, refused


def test_empty_tiny_and_huge_pictures(tmp_path):
    assert to_rgb8(np.array([[[1, 2, 3]]], np.uint8)).tolist() == [[[1, 2, 3]]]
    with pytest.raises(ValueError, match="empty"):
        to_rgb8(np.zeros((0, 5, 3), np.uint8))
    huge = np.broadcast_to(np.zeros(3, np.uint8), (9000, 9000, 3))  # no memory behind it
    with pytest.raises(ValueError, match="megapixels"):
        to_rgb8(huge)
    # A PNG whose header claims 9000 x 9000 pixels: refused before decoding anything.
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 9000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(ValueError, match=f"more than the {MAX_PIXELS // 1_000_000} accepted"):
        to_rgb8(tmp_path / "bomb.png")


def test_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_rgb8(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="is a folder"):
        to_rgb8(tmp_path)
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(ValueError, match="cannot read .*notes.jpg as a picture"):
        to_rgb8(str(tmp_path / "notes.jpg"))
    good = tmp_path / "a.png"
    Image.fromarray(ASTRO).save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="cannot decode"):
        to_rgb8(tmp_path / "cut.png")
    np.testing.assert_array_equal(to_rgb8(good), ASTRO)


def test_exif_orientation_is_applied(tmp_path):
    im = Image.fromarray(ASTRO[:64, :32])
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    im.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    assert to_rgb8(tmp_path / "r.jpg").shape == (32, 64, 3)
