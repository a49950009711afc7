import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  base64ToDataView,
  decodeFloat16,
  decodeFloat32,
  frameOfPicture,
  gridFrame,
  halfToFloat,
  mapRow,
  parsePayload,
  rowScale,
} from "../src/decode";
import type { GridMeta } from "../src/decode";

/** A DataView over `bytes` that starts `pad` bytes into a larger buffer. */
function padded(bytes: ArrayLike<number>, pad = 3): DataView {
  const buf = new Uint8Array(bytes.length + pad + 2).fill(0xee);
  buf.set(Array.from(bytes), pad);
  return new DataView(buf.buffer, pad, bytes.length);
}

function le16(values: number[]): number[] {
  return values.flatMap((v) => [v & 255, v >> 8]);
}

describe("float16", () => {
  it("decodes normals, subnormals, signed zero, infinities and NaN", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(halfToFloat(0x0000), 0)).toBe(true);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(Number.isNaN(halfToFloat(0xfc01))).toBe(true);
  });

  it("decodes a little-endian buffer at an odd byte offset, and a sub-range", () => {
    const bits = [0x3c00, 0x8000, 0x0001, 0x7c00, 0x3800, 0xc400];
    const dv = padded(le16(bits), 3);
    const all = decodeFloat16(dv);
    expect(Array.from(all.slice(0, 3))).toEqual([1, -0, Math.fround(2 ** -24)]);
    expect(Object.is(all[1], -0)).toBe(true);
    expect(all[3]).toBe(Infinity);
    expect(Array.from(decodeFloat16(dv, 4, 2))).toEqual([0.5, -4]);
    const aligned = padded(le16(bits), 2);
    expect(Array.from(decodeFloat16(aligned, 4, 2))).toEqual([0.5, -4]);
    const out = new Float32Array(2);
    expect(decodeFloat16(dv, 0, 2, out)).toBe(out);
    expect(() => decodeFloat16(dv, 5, 2)).toThrow(RangeError);
  });

  it("decodes float32 at unaligned offsets", () => {
    const src = new Float32Array([1.5, -2.25, 3e-5]);
    const dv = padded(new Uint8Array(src.buffer), 1);
    expect(Array.from(decodeFloat32(dv))).toEqual(Array.from(src));
  });
});

describe("base64", () => {
  it("decodes with and without padding, url-safe and with whitespace", () => {
    expect(Array.from(base64ToBytes("AAEC/w=="))).toEqual([0, 1, 2, 255]);
    expect(Array.from(base64ToBytes("AAEC/w"))).toEqual([0, 1, 2, 255]);
    expect(Array.from(base64ToBytes("AAEC_w"))).toEqual([0, 1, 2, 255]);
    expect(new TextDecoder().decode(base64ToBytes("aGVs\nbG8="))).toBe("hello");
    expect(base64ToBytes("").length).toBe(0);
    expect(() => base64ToBytes("ab$c")).toThrow(/invalid base64/);
  });

  it("round-trips bytes encoded by btoa", () => {
    const enc = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7919 + 13) & 255);
    for (const n of [0, 1, 2, 3, 999, 1000]) {
      const s = enc(bytes.subarray(0, n));
      expect(Array.from(base64ToBytes(s))).toEqual(Array.from(bytes.subarray(0, n)));
    }
    const dv = base64ToDataView(enc(new Uint8Array([9, 8, 7])));
    expect(dv.byteLength).toBe(3);
    expect(dv.getUint8(2)).toBe(7);
  });
});

describe("uint8 maps", () => {
  // 3 rows x n_visual 10: grid 0 (image 2x2 = 4 values) then grid 1 (video 3 frames of 1x2)
  const nVis = 10;
  const rows = Array.from({ length: 3 * nVis }, (_, k) => k);
  const grids: GridMeta[] = [
    { kind: "image", label: "image 1", offset: 0, shape: [1, 2, 2], frames: [0], boxes: [[0, 0, 4, 4]] },
    { kind: "video", label: "video 1", offset: 4, shape: [3, 1, 2], frames: [1, 2, 3], boxes: [[0, 0, 2, 1], [0, 0, 2, 1], [0, 0, 2, 1]] },
  ];

  it("slices rows, grids and frames of a DataView with a byte offset", () => {
    const payload = parsePayload({
      meta: { tokens: [], grids, methods: [{ name: "tam", label: "TAM" }], explained: [0, 1, 2], n_visual: nVis, chunk: 2 },
      maps: { tam: padded(rows, 5) },
      scales: padded(new Uint8Array(new Float32Array([0, 1, -1, 2, 0.5, 0.25]).buffer), 3),
      relevance: padded([0, 0]),
      images: [padded([1, 2, 3])],
    });
    const maps = payload.maps.tam!;
    expect(maps.length).toBe(30);
    const row1 = mapRow(maps, 1, nVis);
    expect(Array.from(row1)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(Array.from(gridFrame(row1, grids[0], 0))).toEqual([10, 11, 12, 13]);
    expect(Array.from(gridFrame(row1, grids[1], 0))).toEqual([14, 15]);
    expect(Array.from(gridFrame(row1, grids[1], 2))).toEqual([18, 19]);
    expect(Array.from(gridFrame(mapRow(maps, 2, nVis), grids[1], 1))).toEqual([26, 27]);
    expect(() => mapRow(maps, 3, nVis)).toThrow(RangeError);
    expect(rowScale(payload.scales, 0, 1, 3)).toEqual([-1, 2]);
    expect(rowScale(payload.scales, 0, 2, 3)).toEqual([0.5, 0.25]);
    expect(Array.from(payload.images[0])).toEqual([1, 2, 3]);
  });

  it("keeps null maps for on-demand methods and normalises 2-D grid shapes", () => {
    const p = parsePayload({
      meta: {
        tokens: [["a", "answer", 0]], explained: [0], n_visual: 4, chunk: 0,
        methods: [{ name: "tam", label: "TAM" }, { name: "cam", label: "CAM" }],
        grids: [{ kind: "image", label: "i", offset: 0, shape: [2, 2], frames: [0], boxes: [[0, 0, 1, 1]] }],
      },
      maps: { tam: null, cam: null },
      scales: new DataView(new ArrayBuffer(16)),
      relevance: new DataView(new ArrayBuffer(2)),
      images: [],
    });
    expect(p.maps).toEqual({ tam: null, cam: null });
    expect(p.meta.grids[0].shape).toEqual([1, 2, 2]);
    expect(p.meta.chunk).toBe(1);
    expect(() => parsePayload(null)).toThrow(/no payload/);
  });
});

describe("frameOfPicture", () => {
  const grid = (kind: string, t: number, frames: number[]) =>
    ({ kind, label: kind, offset: 0, shape: [t, 2, 2], frames, boxes: [] }) as never;
  it("finds the video step holding a picture, whether steps cover one picture or two", () => {
    const perFrame = { grids: [grid("video", 4, [0, 1, 2, 3])] };
    const twoFrames = { grids: [grid("video", 2, [0, 2])] };
    expect([0, 1, 2, 3].map((p) => frameOfPicture(perFrame, p))).toEqual([0, 1, 2, 3]);
    expect([0, 1, 2, 3].map((p) => frameOfPicture(twoFrames, p))).toEqual([0, 0, 1, 1]);
  });
  it("says null for pictures no video holds (an image before or after the video, or no video at all)", () => {
    const mixed = { grids: [grid("image", 1, [0]), grid("video", 2, [1, 3]), grid("image", 1, [5])] };
    expect([0, 1, 2, 3, 4, 5].map((p) => frameOfPicture(mixed, p))).toEqual([null, 0, 0, 1, 1, null]);
    expect(frameOfPicture({ grids: [grid("image", 1, [0])] }, 0)).toBeNull();
  });
});
