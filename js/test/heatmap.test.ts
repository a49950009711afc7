import { describe, expect, it } from "vitest";
import { axisTable, HeatPainter, upsample } from "../src/heatmap";

describe("bilinear upsampling", () => {
  it("treats a 2x2 grid as cell centres with clamped edges (like INTER_LINEAR)", () => {
    // cv2.resize([[0, 255], [255, 255]], (4, 4), interpolation=INTER_LINEAR)
    const v = upsample([0, 255, 255, 255], 2, 2, [0, 0, 4, 4], 4, 4);
    const rows = [0, 1, 2, 3].map((y) => Array.from(v.slice(y * 4, y * 4 + 4)));
    expect(rows[0]).toEqual([0, 63.75, 191.25, 255]);
    expect(rows[1].map((x) => +x.toFixed(4))).toEqual([63.75, 111.5625, 207.1875, 255]);
    expect(rows[3]).toEqual([255, 255, 255, 255]);
  });

  it("fills only the box; pixels outside stay untouched", () => {
    const v = upsample([0, 100, 200, 40], 2, 2, [2, 1, 6, 3], 8, 4);
    expect(v[0]).toBe(-1);
    expect(v[1 * 8 + 1]).toBe(-1);
    expect(v[1 * 8 + 6]).toBe(-1);
    expect(v[3 * 8 + 2]).toBe(-1);
    // box is 4 px wide over 2 columns, 2 px high over 2 rows: row 1 is grid row 0 (clamped)
    expect(Array.from(v.slice(1 * 8 + 2, 1 * 8 + 6))).toEqual([0, 25, 75, 100]);
    expect(Array.from(v.slice(2 * 8 + 2, 2 * 8 + 6))).toEqual([200, 160, 80, 40]);
  });

  it("builds axis tables for fractional boxes by pixel centres", () => {
    const a = axisTable(3, 10.3, 19.9, 40);
    expect([a.start, a.end]).toEqual([10, 20]); // centres 10.5 .. 19.5 lie in [10.3, 19.9)
    expect(a.i0[0]).toBe(0);
    expect(a.f[0]).toBe(0); // clamped at the left edge
    expect(a.i1[a.i1.length - 1]).toBe(2);
    const clipped = axisTable(4, -8, 8, 4);
    expect([clipped.start, clipped.end]).toEqual([0, 4]);
    // pixel 0's centre (0.5) is 8.5 px into the box: grid x = 8.5 / 4 - 0.5 = 1.625
    expect([clipped.i0[0], clipped.i1[0], clipped.f[0]]).toEqual([1, 2, 0.625]);
  });

  it("paints LUT colours of the rounded values, writing only the box", () => {
    const lut = new Uint32Array(256).map((_, i) => 1000 + i);
    const out = new Uint32Array(6 * 5).fill(7);
    const values = [0, 255, 255, 255];
    const p = new HeatPainter(2, 2, [1, 1, 5, 5], 6, 5);
    p.paint(values, lut, out);
    expect(p.rect).toEqual([1, 1, 4, 4]);
    const expected = p.sample(values);
    for (let k = 0; k < out.length; k++) {
      if (expected[k] < 0) expect(out[k]).toBe(7);
      else expect(Math.abs(out[k] - 1000 - Math.round(expected[k]))).toBeLessThanOrEqual(1);
    }
    expect(out[1 * 6 + 1]).toBe(1000);
    expect(out[1 * 6 + 2]).toBe(1000 + 64); // 63.75 rounds to 64
    expect(out[1 * 6 + 3]).toBe(1000 + 191);
  });

  it("matches the float reference on a larger random grid (within one level)", () => {
    const h = 6, w = 8;
    const values = Array.from({ length: h * w }, (_, i) => (i * 97 + 31) % 256);
    const p = new HeatPainter(h, w, [3.5, 2, 124.5, 95], 128, 96);
    const lut = new Uint32Array(256).map((_, i) => i);
    const out = new Uint32Array(128 * 96).fill(999);
    p.paint(values, lut, out);
    const ref = p.sample(values);
    let exact = 0;
    for (let k = 0; k < out.length; k++) {
      if (ref[k] < 0) {
        expect(out[k]).toBe(999);
        continue;
      }
      const d = Math.abs(out[k] - Math.round(ref[k]));
      expect(d).toBeLessThanOrEqual(1);
      if (d === 0) exact++;
    }
    expect(exact / (121 * 93)).toBeGreaterThan(0.99);
  });
});
