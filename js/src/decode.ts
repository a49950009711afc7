// Buffer decoding: float16, float32, uint8 maps, base64, and the `_payload` dict.

export type Bytes = DataView | ArrayBuffer | ArrayBufferView;

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A Uint8Array over the same memory as a DataView / typed array / ArrayBuffer (no copy). */
export function asBytes(x: Bytes): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw new TypeError("expected a DataView, typed array or ArrayBuffer");
}

function isBytes(x: unknown): x is Bytes {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}

/** IEEE 754 binary16 bits to a number (subnormals, signed zero, infinities, NaN). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

let halfTable: Float32Array | null = null;
/** All 65536 float16 values, built on first use. */
export function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

/**
 * Little-endian float16 values `start .. start + count` (element indices) of a buffer, as float32.
 * Writes into `out` when given (it must hold `count` values).
 */
export function decodeFloat16(src: Bytes, start = 0, count?: number, out?: Float32Array): Float32Array {
  const b = asBytes(src);
  const n = count ?? Math.floor(b.byteLength / 2) - start;
  if (start < 0 || n < 0 || (start + n) * 2 > b.byteLength) throw new RangeError("float16 range out of bounds");
  const res = out ?? new Float32Array(n);
  const table = float16Table();
  const at = b.byteOffset + start * 2;
  if (at % 2 === 0) {
    const u16 = new Uint16Array(b.buffer, at, n);
    if (LE) {
      for (let i = 0; i < n; i++) res[i] = table[u16[i]];
      return res;
    }
  }
  for (let i = 0, o = start * 2; i < n; i++, o += 2) res[i] = table[b[o] | (b[o + 1] << 8)];
  return res;
}

/** Little-endian float32 values of a buffer (copied, so any byte offset works). */
export function decodeFloat32(src: Bytes): Float32Array {
  const b = asBytes(src);
  const n = Math.floor(b.byteLength / 4);
  if (LE && b.byteOffset % 4 === 0) return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 4));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  t["-".charCodeAt(0)] = 62; // url-safe alphabet too
  t["_".charCodeAt(0)] = 63;
  return t;
})();

/** Decode base64 (standard or url-safe, padding and whitespace optional) to bytes. */
export function base64ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break; // '='
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) {
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      throw new Error(`invalid base64 character ${JSON.stringify(s[i])} at ${i}`);
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 255;
    }
  }
  return out.subarray(0, n);
}

export function base64ToDataView(s: string): DataView {
  const b = base64ToBytes(s);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------- payload

export type Role = "prompt" | "answer" | "special";
/** [label, role, turn] plus a trailing 1 when the label is a byte fragment ("<0xE2><0x80>"). */
export type TokenTuple = [string, Role | string, number] | [string, Role | string, number, number];
/** [label, probability text, chosen (1: it is the explained token), label is bytes (1)] */
export type Candidate = [string, string, number, number];

export interface GridMeta {
  kind: string;
  label: string;
  offset: number;
  shape: [number, number, number];
  frames: number[];
  boxes: [number, number, number, number][];
  /** the chat turn that added the picture (absent in records from before grids knew it: turn 0) */
  turn?: number;
}

export interface Meta {
  format?: string;
  version?: number;
  title?: string;
  tokens: TokenTuple[];
  explained: number[];
  words: [number, number][];
  candidates: Candidate[][];
  /** label: the method's name in views; legend: what its colour scale means */
  methods: { name: string; label: string; legend?: string }[];
  /** provenance warning (untrained model, synthetic scene) every view must show, or null */
  warning?: string | null;
  grids: GridMeta[];
  images: { width: number; height: number; mime: string }[];
  n_visual: number;
  on_demand: boolean;
  chunk: number;
  /** white text on strip colours whose relative luminance is below this (the figure's rule) */
  dark_text_below: number;
}

export interface Payload {
  meta: Meta;
  /** per method, uint8 [n_explained, n_visual]; null = fetch rows on demand */
  maps: Record<string, Uint8Array | null>;
  /** float32 [n_methods, n_explained, 2] */
  scales: Float32Array;
  /** raw little-endian float16 bytes [n_explained, n_tokens] */
  relevance: Uint8Array;
  images: Uint8Array[];
}

/** Check and normalise the `_payload` dict (buffers as DataView / typed arrays / ArrayBuffer). */
export function parsePayload(raw: unknown): Payload {
  if (!raw || typeof raw !== "object") throw new Error("the view has no payload");
  const p = raw as Record<string, unknown>;
  const meta = p.meta as Meta | undefined;
  if (!meta || !Array.isArray(meta.tokens) || !Array.isArray(meta.grids)) throw new Error("payload.meta is missing or malformed");
  meta.explained = meta.explained ?? [];
  meta.words = meta.words ?? [];
  meta.candidates = meta.candidates ?? [];
  meta.methods = meta.methods ?? [];
  meta.images = meta.images ?? [];
  meta.chunk = Math.max(1, Math.floor(meta.chunk || 1));
  for (const g of meta.grids) {
    const shape = (Array.isArray(g.shape) ? g.shape : [0, 0]) as number[];
    if (shape.length < 3) g.shape = [1, shape[0] ?? 0, shape[1] ?? 0];
    g.frames = g.frames ?? [];
    g.boxes = g.boxes ?? [];
  }
  const maps: Record<string, Uint8Array | null> = {};
  const rawMaps = (p.maps ?? {}) as Record<string, unknown>;
  for (const m of meta.methods) {
    const v = rawMaps[m.name];
    maps[m.name] = isBytes(v) ? asBytes(v) : null;
  }
  const scales = isBytes(p.scales) ? decodeFloat32(p.scales) : new Float32Array(0);
  const relevance = isBytes(p.relevance) ? asBytes(p.relevance) : new Uint8Array(0);
  const images = Array.isArray(p.images) ? (p.images as unknown[]).map((b) => (isBytes(b) ? asBytes(b) : new Uint8Array(0))) : [];
  return { meta, maps, scales, relevance, images };
}

/** Row `row` of a uint8 [n_rows, n_visual] map buffer (a view, no copy). */
export function mapRow(maps: Uint8Array, row: number, nVisual: number): Uint8Array {
  const start = row * nVisual;
  if (row < 0 || start + nVisual > maps.length) throw new RangeError(`map row ${row} is out of range`);
  return maps.subarray(start, start + nVisual);
}

/**
 * The frame of a video grid of `meta` that shows picture `pic` (the latest frame starting at or before it, so a
 * step covering two pictures shows for both), or null when no video grid holds that picture.
 */
export function frameOfPicture(meta: Pick<Meta, "grids">, pic: number): number | null {
  for (const g of meta.grids) {
    const fr = g.frames;
    if ((g.shape[0] || 1) < 2 || !fr.length || pic < fr[0]) continue;
    let f = 0;
    while (f + 1 < fr.length && fr[f + 1] <= pic) f++;
    // past the last step only when the next grid does not start there (the last step may cover more pictures)
    if (f === fr.length - 1 && pic > fr[f] && meta.grids.some((o) => o !== g && o.frames[0] !== undefined && o.frames[0] > fr[f] && o.frames[0] <= pic)) continue;
    return f;
  }
  return null;
}

/** The h*w values of grid `g`, frame `f` inside one map row (a view, no copy). */
export function gridFrame(row: Uint8Array, g: GridMeta, frame: number): Uint8Array {
  const [, h, w] = g.shape;
  const start = g.offset + frame * h * w;
  return row.subarray(start, start + h * w);
}

/** Per-row `(lo, span)` of a method: map value = lo + span * u8 / 255. */
export function rowScale(scales: Float32Array, method: number, row: number, nRows: number): [number, number] {
  const k = (method * nRows + row) * 2;
  if (method < 0 || k + 1 >= scales.length) return [0, 1];
  return [scales[k], scales[k + 1]];
}
