// Statistics of one map row: Otsu threshold, peak, and the share of mass inside a box.

import type { GridMeta, Meta } from "./decode";

/** 256-bin histogram of u8 values. */
export function histogram(values: ArrayLike<number>, out = new Uint32Array(256)): Uint32Array {
  out.fill(0);
  for (let i = 0; i < values.length; i++) out[values[i] & 255]++;
  return out;
}

/**
 * Otsu's threshold of a 256-bin histogram: the t maximising the between-class variance of
 * {v <= t} and {v > t} (the first such t on ties). With a single occupied bin, that bin.
 */
export function otsuThreshold(hist: ArrayLike<number>): number {
  let total = 0;
  let sumAll = 0;
  let top = 0;
  for (let i = 0; i < 256; i++) {
    total += hist[i];
    sumAll += i * hist[i];
    if (hist[i] > 0) top = i;
  }
  if (total === 0) return 0;
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestT = top;
  for (let t = 0; t < 255; t++) {
    w0 += hist[t];
    sum0 += t * hist[t];
    const w1 = total - w0;
    if (w0 === 0) continue;
    if (w1 === 0) break;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return bestT;
}

/** Fraction of the values strictly above t. */
export function shareAbove(values: ArrayLike<number>, t: number): number {
  if (values.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > t) n++;
  return n / values.length;
}

const scratch = new Uint32Array(256);
/** Otsu threshold of u8 values and the share of values above it. */
export function otsuShare(values: ArrayLike<number>): { threshold: number; share: number } {
  const threshold = otsuThreshold(histogram(values, scratch));
  return { threshold, share: shareAbove(values, threshold) };
}

/** Largest u8 value of a map row and the grid / frame holding its first occurrence. */
export function peak(row: ArrayLike<number>, grids: readonly GridMeta[]): { value: number; grid: number; frame: number } {
  let value = -1;
  let at = -1;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > value) {
      value = row[i];
      at = i;
    }
  }
  let grid = -1;
  let frame = 0;
  for (let g = 0; g < grids.length; g++) {
    const [t, h, w] = grids[g].shape;
    const off = grids[g].offset;
    if (at >= off && at < off + t * h * w) {
      grid = g;
      frame = Math.floor((at - off) / (h * w));
      break;
    }
  }
  return { value: Math.max(0, value), grid, frame };
}

/** Region `[grid, frame, x0, y0, x1, y1]` (stored-image pixels). */
export type Region = [number, number, number, number, number, number];

/** Cells of one grid frame that overlap a box: offset of the frame in the row and per-cell weights. */
export interface BoxPart {
  offset: number;
  weights: Float32Array;
}

/**
 * Per-cell overlap weights (area of cell ∩ box / area of cell) of one grid frame laid over `cellBox`.
 */
export function overlapWeights(h: number, w: number, cellBox: readonly number[], box: readonly number[]): Float32Array {
  const out = new Float32Array(h * w);
  const [bx0, by0, bx1, by1] = cellBox;
  const X0 = Math.min(box[0], box[2]);
  const X1 = Math.max(box[0], box[2]);
  const Y0 = Math.min(box[1], box[3]);
  const Y1 = Math.max(box[1], box[3]);
  const cw = (bx1 - bx0) / w;
  const ch = (by1 - by0) / h;
  if (!(cw > 0 && ch > 0)) return out;
  for (let r = 0; r < h; r++) {
    const oy = Math.min(by0 + (r + 1) * ch, Y1) - Math.max(by0 + r * ch, Y0);
    if (oy <= 0) continue;
    for (let c = 0; c < w; c++) {
      const ox = Math.min(bx0 + (c + 1) * cw, X1) - Math.max(bx0 + c * cw, X0);
      if (ox > 0) out[r * w + c] = (ox * oy) / (cw * ch);
    }
  }
  return out;
}

/**
 * The parts of a map row under a region: every frame of every grid laid over the same picture as
 * the region's grid frame (so an InternVL thumbnail and its tiles both count), weighted by overlap.
 */
export function regionParts(grids: readonly GridMeta[], region: Region): BoxPart[] {
  const [gi, fi] = region;
  const g = grids[gi];
  if (!g) return [];
  const image = g.frames[fi] ?? g.frames[0] ?? gi;
  const parts: BoxPart[] = [];
  for (const gr of grids) {
    const [t, h, w] = gr.shape;
    for (let f = 0; f < t; f++) {
      const img = gr.frames[f] ?? gr.frames[0];
      const cellBox = gr.boxes[f] ?? gr.boxes[0];
      if (img !== image || !cellBox) continue;
      const weights = overlapWeights(h, w, cellBox, region.slice(2));
      if (weights.some((x) => x > 0)) parts.push({ offset: gr.offset + f * h * w, weights });
    }
  }
  return parts;
}

/** Share of a row's total mass (sum of u8 over all grids) that falls inside the box parts. */
export function boxShare(row: ArrayLike<number>, parts: readonly BoxPart[]): number {
  let total = 0;
  for (let i = 0; i < row.length; i++) total += row[i];
  if (total <= 0) return 0;
  let inside = 0;
  for (const p of parts) {
    const wts = p.weights;
    for (let k = 0; k < wts.length; k++) if (wts[k] > 0) inside += row[p.offset + k] * wts[k];
  }
  return inside / total;
}

/** `v` as a region `[grid, frame, x0, y0, x1, y1]` of `meta` (corners sorted), or null. */
export function parseRegion(meta: Pick<Meta, "grids">, v: unknown): Region | null {
  if (!Array.isArray(v) || v.length < 6) return null;
  const r = v.slice(0, 6).map(Number) as Region;
  if (r.some((x) => !Number.isFinite(x))) return null;
  const g = meta.grids[r[0]];
  if (!g || r[1] < 0 || r[1] >= g.shape[0]) return null;
  const [gi, f, a, b, c, d] = r;
  const box: Region = [gi, f, Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
  return box[4] > box[2] && box[5] > box[3] ? box : null;
}
