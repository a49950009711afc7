// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { HeatPanels } from "../../src/components/panels";
import { parsePayload } from "../../src/decode";
import { ImageCache } from "../../src/images";
import { samplePayload } from "../helpers";

function panels(frames = 1) {
  const p = parsePayload(samplePayload({ frames }));
  const ev = { onRegion: vi.fn(), onDragStart: vi.fn(), onFrame: vi.fn() };
  const hp = new HeatPanels(p.meta, new ImageCache(p.images, p.meta), ev);
  document.body.appendChild(hp.root);
  return { hp, ev, p };
}

describe("HeatPanels", () => {
  it("renders a panel per grid with its heat canvas at the picture's size", () => {
    const { hp, p } = panels();
    expect(hp.root.querySelectorAll(".tam-panel[data-grid]").length).toBe(1);
    hp.paint(p.maps.tam!.subarray(0, 4), new Int32Array(256));
    const heat = hp.root.querySelector<HTMLCanvasElement>("canvas.tam-heat")!;
    expect([heat.width, heat.height, heat.dataset.grid, heat.dataset.frame]).toEqual([4, 4, "0", "0"]);
    expect(hp.root.querySelector(".tam-frames")).toBeNull();
    hp.setOpacity(0.3);
    expect(heat.style.opacity).toBe("0.3");
  });

  it("shows a video's frame strip; a thumbnail click asks for its frame", () => {
    const { hp, ev, p } = panels(3);
    const thumbs = hp.root.querySelectorAll<HTMLElement>(".tam-frames .tam-thumb[data-frame]");
    expect(thumbs.length).toBe(3);
    thumbs[2].click();
    expect(ev.onFrame).toHaveBeenCalledWith(2, expect.anything(), 0);
    hp.frame = 2;
    hp.paint(p.maps.tam!.subarray(0, 12), new Int32Array(256));
    expect(hp.root.querySelector<HTMLElement>("canvas.tam-heat")!.dataset.frame).toBe("2");
    expect(hp.root.querySelector(".tam-panel-label")!.textContent).toBe("image 1 \u00b7 frame 3/3");
    expect(thumbs[2].classList.contains("tam-current")).toBe(true);
  });

  it("places the region's box on its grid frame only", () => {
    const { hp, p } = panels(3);
    hp.paint(p.maps.tam!.subarray(0, 12), new Int32Array(256));
    const rbox = hp.root.querySelector<HTMLElement>(".tam-rbox")!;
    hp.setRegion([0, 0, 1, 1, 3, 3]);
    expect(rbox.classList.contains("tam-on")).toBe(true);
    expect([rbox.style.left, rbox.style.width]).toEqual(["25%", "50%"]);
    hp.setRegion([0, 1, 1, 1, 3, 3]);
    expect(rbox.classList.contains("tam-on")).toBe(false);
  });
});
