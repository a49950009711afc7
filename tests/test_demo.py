import numpy as np
from PIL import Image

from tam_widgets.cli import main


def test_demo_writes_a_png(tmp_path, capsys):
    out = tmp_path / "sub" / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 300 and img.shape[1] > 1000
    assert img[..., :3].std() > 20  # a real picture, not a blank canvas
