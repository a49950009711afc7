import { describe, expect, it } from "vitest";
import { boxShare, histogram, otsuShare, otsuThreshold, overlapWeights, peak, regionParts, shareAbove } from "../src/stats";
import type { GridMeta } from "../src/decode";

describe("otsu", () => {
  it("splits a bimodal histogram between the modes", () => {
    const values = [...Array(60).fill(20), ...Array(30).fill(30), ...Array(10).fill(200)];
    const t = otsuThreshold(histogram(values));
    expect(t).toBeGreaterThanOrEqual(30);
    expect(t).toBeLessThan(200);
    expect(otsuShare(values)).toEqual({ threshold: t, share: 0.1 });
  });

  it("maximises the between-class variance (brute-force check)", () => {
    const values = Array.from({ length: 500 }, (_, i) => Math.floor(255 * ((Math.sin(i * 12.9898) * 43758.5453) % 1 + 1) / 2) & 255);
    const t = otsuThreshold(histogram(values));
    const score = (th: number) => {
      const lo = values.filter((v) => v <= th);
      const hi = values.filter((v) => v > th);
      if (!lo.length || !hi.length) return -1;
      const m = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      return lo.length * hi.length * (m(lo) - m(hi)) ** 2;
    };
    let best = 0;
    for (let th = 0; th < 255; th++) best = Math.max(best, score(th));
    expect(score(t)).toBeCloseTo(best, 6);
  });

  it("gives nothing above the threshold for a flat map", () => {
    expect(otsuShare(new Uint8Array(50).fill(7))).toEqual({ threshold: 7, share: 0 });
    expect(otsuShare([])).toEqual({ threshold: 0, share: 0 });
    expect(shareAbove([1, 2, 3, 4], 2)).toBe(0.5);
  });
});

const grids: GridMeta[] = [
  { kind: "image", label: "image 1", offset: 0, shape: [1, 2, 2], frames: [0], boxes: [[0, 0, 20, 20]] },
  { kind: "video", label: "video 1", offset: 4, shape: [2, 1, 2], frames: [1, 2], boxes: [[0, 0, 10, 5], [0, 0, 10, 5]] },
  { kind: "thumbnail", label: "thumbnail", offset: 8, shape: [1, 1, 1], frames: [0], boxes: [[0, 0, 20, 20]] },
];

describe("peak", () => {
  it("finds the largest value and its grid / frame", () => {
    expect(peak([1, 2, 3, 4, 5, 6, 90, 7, 8], grids)).toEqual({ value: 90, grid: 1, frame: 1 });
    expect(peak([9, 2, 3, 4, 5, 6, 7, 7, 8], grids)).toEqual({ value: 9, grid: 0, frame: 0 });
    expect(peak([0, 0, 0, 0, 0, 0, 0, 0, 50], grids)).toEqual({ value: 50, grid: 2, frame: 0 });
  });
});

describe("box mass", () => {
  it("weights cells by their overlap with the box", () => {
    // 2x2 cells of 10x10 px; box covers all of cell 0, half of cell 1, a quarter of cell 3
    const w = overlapWeights(2, 2, [0, 0, 20, 20], [0, 0, 15, 15]);
    expect(Array.from(w)).toEqual([1, 0.5, 0.5, 0.25]);
    expect(Array.from(overlapWeights(2, 2, [0, 0, 20, 20], [15, 15, 0, 0]))).toEqual([1, 0.5, 0.5, 0.25]);
    expect(Array.from(overlapWeights(2, 2, [10, 10, 30, 30], [0, 0, 10, 10]))).toEqual([0, 0, 0, 0]);
  });

  it("counts every grid over the region's picture and divides by the whole row", () => {
    const parts = regionParts(grids, [0, 0, 0, 0, 10, 10]);
    // image 1 cell 0 (full) and the thumbnail's single cell (a quarter) lie over picture 0
    expect(parts.map((p) => p.offset)).toEqual([0, 8]);
    const row = [100, 50, 50, 0, 10, 10, 10, 10, 40];
    const total = 280;
    expect(boxShare(row, parts)).toBeCloseTo((100 + 40 * 0.25) / total, 10);
    // a region on frame 1 of the video only sees that frame's cells
    const vparts = regionParts(grids, [1, 1, 0, 0, 5, 5]);
    expect(vparts).toEqual([{ offset: 6, weights: new Float32Array([1, 0]) }]);
    expect(boxShare(row, vparts)).toBeCloseTo(10 / total, 10);
    expect(boxShare([0, 0, 0, 0, 0, 0, 0, 0, 0], parts)).toBe(0);
    expect(regionParts(grids, [7, 0, 0, 0, 1, 1])).toEqual([]);
  });
});
