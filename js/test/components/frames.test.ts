// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { FrameStrip } from "../../src/components/frames";
import { parsePayload } from "../../src/decode";
import { ImageCache } from "../../src/images";
import { samplePayload } from "../helpers";

describe("FrameStrip", () => {
  it("renders a thumbnail per frame, marks the current one and reports clicks", () => {
    const p = parsePayload(samplePayload({ frames: 3 }));
    const onPick = vi.fn();
    const fs = new FrameStrip(p.meta, p.meta.grids[0], new ImageCache(p.images, p.meta), onPick);
    document.body.appendChild(fs.root);
    const thumbs = [...fs.root.querySelectorAll<HTMLElement>(".tam-thumb[data-frame]")];
    expect(thumbs.map((t) => t.dataset.frame)).toEqual(["0", "1", "2"]);
    expect(fs.root.querySelectorAll("canvas.tam-thumb-photo").length).toBe(3);
    expect(fs.root.querySelectorAll("canvas.tam-heat").length).toBe(0); // thumbnails are never tam-heat
    fs.setCurrent(1);
    expect(thumbs.map((t) => t.classList.contains("tam-current"))).toEqual([false, true, false]);
    thumbs[2].click();
    expect(onPick).toHaveBeenCalledWith(2, expect.anything());
    fs.setOpacity("0.4");
    expect(fs.root.querySelector<HTMLElement>("canvas.tam-thumb-heat")!.style.opacity).toBe("0.4");
    fs.paint(p.maps.tam, new Int32Array(256)); // draws without throwing, also with no data
    fs.paint(null, new Int32Array(256));
  });
});
