// Bilinear upsampling of a grid map into canvas pixels, through a packed colour LUT.
//
// The h x w grid is laid over a box [x0, y0, x1, y1) of the canvas; grid cells are taken as
// sample points at their centres (OpenCV INTER_LINEAR / align_corners=False) and values are
// clamped at the edges. Pixels outside the box are never written (they stay transparent).

export type Box = readonly [number, number, number, number];

/** For each canvas pixel column (or row) inside the box: the two grid cells and the weight of the second. */
export interface Axis {
  /** first pixel inside the box */
  start: number;
  /** one past the last pixel inside the box */
  end: number;
  i0: Int32Array;
  i1: Int32Array;
  f: Float32Array;
  /** f in fixed point: round(f * 2^bits) with the `bits` given to axisTable */
  q: Int32Array;
}

/** Interpolation table of one axis: `cells` samples over [b0, b1) of a canvas `size` pixels long. */
export function axisTable(cells: number, b0: number, b1: number, size: number, bits = 12): Axis {
  // pixel p is inside when its centre p + 0.5 lies in [b0, b1)
  const lo = Math.min(b0, b1);
  const hi = Math.max(b0, b1);
  const start = Math.max(0, Math.ceil(lo - 0.5));
  const end = cells > 0 && hi > lo ? Math.max(start, Math.min(size, Math.ceil(hi - 0.5))) : start;
  const n = end - start;
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const f = new Float32Array(n);
  const q = new Int32Array(n);
  const one = 1 << bits;
  const scale = cells / (hi - lo || 1);
  for (let k = 0; k < n; k++) {
    let g = (start + k + 0.5 - lo) * scale - 0.5;
    if (g < 0) g = 0;
    if (g > cells - 1) g = cells - 1;
    const a = Math.floor(g);
    i0[k] = a;
    i1[k] = Math.min(a + 1, cells - 1);
    f[k] = g - a;
    q[k] = Math.round((g - a) * one);
  }
  return { start, end, i0, i1, f, q };
}

/**
 * Paints one grid (h x w u8 values) into a W x H pixel buffer. Tables and scratch space are built
 * once; `paint` allocates nothing.
 */
export class HeatPainter {
  readonly xs: Axis;
  readonly ys: Axis;
  private readonly tmp: Float32Array;
  private readonly itmp: Int32Array;

  constructor(
    readonly h: number,
    readonly w: number,
    box: Box,
    readonly width: number,
    readonly height: number,
  ) {
    this.xs = axisTable(w, box[0], box[2], width, 12);
    this.ys = axisTable(h, box[1], box[3], height, 10);
    const n = Math.max(1, h * (this.xs.end - this.xs.start));
    this.tmp = new Float32Array(n);
    this.itmp = new Int32Array(n);
  }

  /** The written rectangle: [x, y, width, height]. */
  get rect(): [number, number, number, number] {
    return [this.xs.start, this.ys.start, this.xs.end - this.xs.start, this.ys.end - this.ys.start];
  }

  /** Interpolated values (0..255 floats) of the box pixels, written through `emit(offset, v)`. */
  private run(values: ArrayLike<number>, emit: (o: number, v: number) => void): void {
    const { xs, ys, tmp, w, h, width } = this;
    const bw = xs.end - xs.start;
    if (bw <= 0 || ys.end <= ys.start || values.length < h * w) return;
    const xi0 = xs.i0, xi1 = xs.i1, xf = xs.f;
    for (let r = 0; r < h; r++) {
      const base = r * w;
      const o = r * bw;
      for (let k = 0; k < bw; k++) {
        const a = values[base + xi0[k]];
        tmp[o + k] = a + (values[base + xi1[k]] - a) * xf[k];
      }
    }
    for (let k = 0; k < ys.end - ys.start; k++) {
      const r0 = ys.i0[k] * bw;
      const r1 = ys.i1[k] * bw;
      const fy = ys.f[k];
      const o = (ys.start + k) * width + xs.start;
      for (let x = 0; x < bw; x++) {
        const a = tmp[r0 + x];
        emit(o + x, a + (tmp[r1 + x] - a) * fy);
      }
    }
  }

  /**
   * Colour-map the upsampled grid into `out`, an Int32Array (or Uint32Array) view over the W*H
   * RGBA pixels, through a 256-entry packed LUT of the same element type.
   *
   * Integer arithmetic: the horizontal pass keeps values with 12 fractional bits, the vertical
   * weights have 10, so the LUT index is the float result's rounding give or take one in rare
   * half-way cases.
   */
  paint(values: ArrayLike<number>, lut: Int32Array | Uint32Array, out: Int32Array | Uint32Array): void {
    const { xs, ys, itmp: tmp, w, h, width } = this;
    const bw = xs.end - xs.start;
    if (bw <= 0 || ys.end <= ys.start || values.length < h * w) return;
    const xi0 = xs.i0, xi1 = xs.i1, xq = xs.q;
    for (let r = 0; r < h; r++) {
      const base = r * w;
      const o = r * bw;
      for (let k = 0; k < bw; k++) {
        const a = values[base + xi0[k]];
        // a << 12 plus the 12-bit weighted difference, plus one half for the final rounding
        tmp[o + k] = (a << 12) + (values[base + xi1[k]] - a) * xq[k] + 2048;
      }
    }
    const yi0 = ys.i0, yi1 = ys.i1, yq = ys.q;
    for (let k = 0, n = ys.end - ys.start; k < n; k++) {
      const r0 = yi0[k] * bw;
      const r1 = yi1[k] * bw;
      const fy = yq[k];
      const o = (ys.start + k) * width + xs.start;
      if (fy === 0) {
        for (let x = 0; x < bw; x++) out[o + x] = lut[tmp[r0 + x] >> 12];
      } else {
        for (let x = 0; x < bw; x++) {
          const a = tmp[r0 + x];
          out[o + x] = lut[(a + (((tmp[r1 + x] - a) * fy) >> 10)) >> 12];
        }
      }
    }
  }

  /** Upsampled values (0..255 floats) of the whole canvas; -1 outside the box. */
  sample(values: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.width * this.height).fill(-1);
    this.run(values, (o, v) => {
      out[o] = v;
    });
    return out;
  }
}

/** Reference upsampling: an h x w grid over `box` of a W x H canvas; -1 outside the box. */
export function upsample(values: ArrayLike<number>, h: number, w: number, box: Box, width: number, height: number): Float32Array {
  return new HeatPainter(h, w, box, width, height).sample(values);
}
