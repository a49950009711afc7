// Colour lookup tables: 256 entries per colormap, as RGB bytes and as packed RGBA words
// ready to store into a Uint32Array view over ImageData pixels.

export type ColormapName = "jet" | "viridis" | "inferno";
export const COLORMAPS: readonly ColormapName[] = ["jet", "viridis", "inferno"];

// matplotlib's jet is piecewise linear per channel: [x, value] breakpoints.
const JET: readonly (readonly [number, number])[][] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

// 33 evenly spaced samples (x = k / 32) of the perceptually uniform palettes; linear
// interpolation between them stays within 2 levels of the 256-entry originals.
const VIRIDIS_33 = [
  0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453781, 0x424086, 0x3e4989, 0x3b528b,
  0x375b8d, 0x33638d, 0x2f6b8e, 0x2c728e, 0x297a8e, 0x26828e, 0x23898e, 0x21918c, 0x1f978b,
  0x1f9f88, 0x21a685, 0x27ad81, 0x31b57b, 0x3dbc74, 0x4cc26c, 0x5cc863, 0x6ece58, 0x81d34d,
  0x95d840, 0xaadc32, 0xc0df25, 0xd5e21a, 0xeae51a, 0xfde725,
];
const INFERNO_33 = [
  0x000004, 0x040312, 0x0b0724, 0x150b37, 0x210c4a, 0x2f0a5b, 0x3d0965, 0x4a0c6b, 0x57106e,
  0x64156e, 0x71196e, 0x7d1e6d, 0x8a226a, 0x972766, 0xa32c61, 0xb0315b, 0xbc3754, 0xc63d4d,
  0xd04545, 0xda4e3c, 0xe35933, 0xeb6429, 0xf1711f, 0xf67e14, 0xf98c0a, 0xfb9b06, 0xfcaa0f,
  0xfbba1f, 0xf9c932, 0xf5d949, 0xf2e865, 0xf3f586, 0xfcffa4,
];

function piecewise(points: readonly (readonly [number, number])[], x: number): number {
  for (let k = 1; k < points.length; k++) {
    const [x1, y1] = points[k];
    if (x <= x1) {
      const [x0, y0] = points[k - 1];
      return x1 > x0 ? y0 + ((y1 - y0) * (x - x0)) / (x1 - x0) : y1;
    }
  }
  return points[points.length - 1][1];
}

function fromAnchors(anchors: readonly number[]): Uint8Array {
  const out = new Uint8Array(256 * 3);
  const n = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * n;
    const k = Math.min(n - 1, Math.floor(t));
    const f = t - k;
    const a = anchors[k];
    const b = anchors[k + 1];
    for (let c = 0; c < 3; c++) {
      const shift = 16 - 8 * c;
      const ca = (a >> shift) & 255;
      const cb = (b >> shift) & 255;
      out[i * 3 + c] = Math.round(ca + (cb - ca) * f);
    }
  }
  return out;
}

function jetTable(): Uint8Array {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(piecewise(JET[c], i / 255) * 255);
  }
  return out;
}

const rgbCache = new Map<ColormapName, Uint8Array>();
const packedCache = new Map<ColormapName, Uint32Array>();

export function isColormap(name: unknown): name is ColormapName {
  return typeof name === "string" && (COLORMAPS as readonly string[]).includes(name);
}

/** 256 x RGB bytes; entry i is the colour of display value i / 255. Unknown names give jet. */
export function colormapRGB(name: string): Uint8Array {
  const key: ColormapName = isColormap(name) ? name : "jet";
  let t = rgbCache.get(key);
  if (!t) {
    t = key === "jet" ? jetTable() : fromAnchors(key === "viridis" ? VIRIDIS_33 : INFERNO_33);
    rgbCache.set(key, t);
  }
  return t;
}

/** True on little-endian hosts, where ImageData's RGBA bytes read as 0xAABBGGRR words. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Pack one opaque colour the way a Uint32Array view over ImageData expects it. */
export function packRGBA(r: number, g: number, b: number, a = 255): number {
  return LITTLE_ENDIAN
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** 256 packed opaque pixels for the colormap (index = u8 display value). */
export function colormapPacked(name: string): Uint32Array {
  const key: ColormapName = isColormap(name) ? name : "jet";
  let t = packedCache.get(key);
  if (!t) {
    const rgb = colormapRGB(key);
    t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = packRGBA(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
    packedCache.set(key, t);
  }
  return t;
}

/** Colour of display value v in [0, 1] (clipped), as [r, g, b]. */
export function colorAt(name: string, v: number): [number, number, number] {
  const rgb = colormapRGB(name);
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(v) ? v : 0) * 255))) * 3;
  return [rgb[i], rgb[i + 1], rgb[i + 2]];
}

/** Relative luminance (sRGB, 0..1) of a colour given as bytes. */
export function luminance(r: number, g: number, b: number): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** A token's background in the strip: the colormap colour of v blended toward white by (1 - v). */
export function stripColor(name: string, v: number): { r: number; g: number; b: number } {
  const x = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
  const [cr, cg, cb] = colorAt(name, x);
  return {
    r: Math.round(cr * x + 255 * (1 - x)),
    g: Math.round(cg * x + 255 * (1 - x)),
    b: Math.round(cb * x + 255 * (1 - x)),
  };
}

/**
 * The strip colour of v and whether the text on it should be white: its luminance is below
 * `darkBelow`, which is `meta.dark_text_below`, the figure's rule sent by Python with every record.
 */
export function tokenColor(
  name: string,
  v: number,
  darkBelow: number,
): { r: number; g: number; b: number; dark: boolean } {
  const c = stripColor(name, v);
  return { ...c, dark: luminance(c.r, c.g, c.b) < darkBelow };
}

/** The packed colour table as signed words, for Int32Array pixel views (packed opaque pixels are >= 2^31,
 * which a Uint32Array would hand out as doubles, a third slower per pixel in V8). */
export function signedLut(name: string): Int32Array {
  const lut = colormapPacked(name);
  return new Int32Array(lut.buffer, lut.byteOffset, lut.length);
}
