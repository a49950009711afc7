import { describe, expect, it } from "vitest";
import { colorAt, colormapPacked, colormapRGB, luminance, packRGBA, tokenColor } from "../src/colormaps";

function near(actual: number[], expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, k) => {
    expect(Math.abs(v - expected[k]), `channel ${k}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
  });
}

function entry(name: string, i: number): number[] {
  const t = colormapRGB(name);
  return [t[i * 3], t[i * 3 + 1], t[i * 3 + 2]];
}

// matplotlib's 256-entry tables (rounded to bytes) at a few indices
const MPL: Record<string, Record<number, number[]>> = {
  jet: { 0: [0, 0, 128], 32: [0, 0, 255], 64: [0, 128, 255], 96: [22, 255, 225], 128: [125, 255, 122], 160: [228, 255, 19], 192: [255, 148, 0], 224: [255, 30, 0], 255: [128, 0, 0] },
  viridis: { 0: [68, 1, 84], 32: [71, 45, 123], 64: [59, 82, 139], 96: [44, 114, 142], 128: [33, 145, 140], 160: [40, 174, 128], 192: [94, 201, 98], 224: [173, 220, 48], 255: [253, 231, 37] },
  inferno: { 0: [0, 0, 4], 32: [33, 12, 74], 64: [87, 16, 110], 96: [138, 34, 106], 128: [188, 55, 84], 160: [228, 90, 49], 192: [249, 142, 9], 224: [249, 203, 53], 255: [252, 255, 164] },
};

describe("colormaps", () => {
  it("jet endpoints and midpoint match matplotlib", () => {
    expect(colorAt("jet", 0)).toEqual([0, 0, 128]);
    expect(colorAt("jet", 1)).toEqual([128, 0, 0]);
    near(colorAt("jet", 0.5), [124, 255, 121], 2);
    near(colorAt("jet", 0.25), [0, 128, 255], 2);
  });

  it("is piecewise linear like matplotlib's jet", () => {
    for (const [i, rgb] of Object.entries(MPL.jet)) near(entry("jet", Number(i)), rgb, 1);
    // blue ramps 0.5 -> 1 over x in [0, 0.11]: entry 14 (x = 0.0549) is half way
    near(entry("jet", 14), [0, 0, 191], 1);
  });

  it("viridis and inferno are within 3 levels of matplotlib", () => {
    expect(colorAt("viridis", 0)).toEqual([68, 1, 84]);
    expect(colorAt("viridis", 1)).toEqual([253, 231, 37]);
    expect(colorAt("inferno", 0)).toEqual([0, 0, 4]);
    expect(colorAt("inferno", 1)).toEqual([252, 255, 164]);
    for (const name of ["viridis", "inferno"]) {
      for (const [i, rgb] of Object.entries(MPL[name])) near(entry(name, Number(i)), rgb, 3);
    }
  });

  it("viridis and inferno get brighter monotonically", () => {
    // (8-bit rounding makes matplotlib's own viridis dip by < 0.001 at a few entries)
    for (const name of ["viridis", "inferno"]) {
      const y = Array.from({ length: 256 }, (_, i) => {
        const [r, g, b] = entry(name, i);
        return luminance(r, g, b);
      });
      for (let i = 1; i < 256; i++) expect(y[i], `${name}[${i}]`).toBeGreaterThan(y[i - 1] - 1e-3);
      for (let i = 8; i < 256; i++) expect(y[i], `${name}[${i}]`).toBeGreaterThan(y[i - 8]);
      expect(y[255] - y[0]).toBeGreaterThan(0.7);
    }
  });

  it("unknown names fall back to jet", () => {
    expect(colorAt("no-such-map", 0)).toEqual([0, 0, 128]);
    expect(colormapRGB("bogus")).toBe(colormapRGB("jet"));
  });

  it("packs opaque RGBA words in ImageData byte order", () => {
    const lut = colormapPacked("viridis");
    expect(lut.length).toBe(256);
    const bytes = new Uint8Array(new Uint32Array([lut[0], lut[255]]).buffer);
    expect(Array.from(bytes)).toEqual([68, 1, 84, 255, 253, 231, 37, 255]);
    const one = new Uint8Array(new Uint32Array([packRGBA(1, 2, 3, 4)]).buffer);
    expect(Array.from(one)).toEqual([1, 2, 3, 4]);
  });

  it("blends strip colours toward white by (1 - v)", () => {
    const DARK = 0.22; // meta.dark_text_below as Python sends it (record.DARK_TEXT_LUMINANCE)
    expect(tokenColor("jet", 0, DARK)).toEqual({ r: 255, g: 255, b: 255, dark: false });
    const full = tokenColor("jet", 1, DARK);
    expect([full.r, full.g, full.b]).toEqual([128, 0, 0]);
    expect(full.dark).toBe(true);
    const half = tokenColor("viridis", 0.5, DARK);
    const [r, g, b] = colorAt("viridis", 0.5);
    expect([half.r, half.g, half.b]).toEqual([r, g, b].map((c) => Math.round(c * 0.5 + 127.5)));
    expect(half.dark).toBe(false);
    expect(tokenColor("inferno", 1, DARK).dark).toBe(false); // pale yellow end keeps dark text
    expect(tokenColor("jet", 2, DARK)).toEqual(tokenColor("jet", 1, DARK)); // clipped
  });
});
