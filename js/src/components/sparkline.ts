// A sparkline of one answer's tokens: one bar per token (its map's peak activation), the pinned token
// marked; clicking a bar picks that token.

import { h } from "../dom";

/** Bar colours: the tokens, and the pinned token. */
const BAR = "#8c96a3";
const MARK = "#e8590c";

export const SPARK_TIP =
  "peak activation of each answer token's map: high where the model looked at the picture, low where it answered from the text";

export class Sparkline {
  readonly root: HTMLCanvasElement;
  private values: Float32Array = new Float32Array(0);
  private max = 1;
  private marked = -1;

  /** `onPick(k)`: the k-th value (token) was clicked. */
  constructor(private onPick: (k: number, ev: Event) => void) {
    this.root = h("canvas", "tam-spark");
    this.root.title = SPARK_TIP;
    this.root.setAttribute("role", "img");
    this.root.addEventListener("click", (e) => {
      const k = this.indexAt(e.offsetX);
      if (k >= 0) this.onPick(k, e);
    });
  }

  /** The value index under x (CSS pixels from the left), -1 when there are none. */
  indexAt(x: number): number {
    const n = this.values.length;
    if (!n) return -1;
    const w = this.root.clientWidth || this.root.width || 1;
    return Math.max(0, Math.min(n - 1, Math.floor((x / w) * n)));
  }

  /** Show `values` (NaN: not loaded) on a scale whose top is `max`, marking value `marked` (-1: none). */
  set(values: Float32Array, max: number, marked: number): void {
    this.values = values;
    this.max = max > 0 && Number.isFinite(max) ? max : 1;
    this.marked = marked;
    const shown = Array.from(values, (v) => (Number.isFinite(v) ? v.toFixed(2) : "?"));
    this.root.setAttribute("aria-label", `peak activation per token: ${shown.slice(0, 64).join(" ")}`);
    this.draw();
  }

  /** Mark value `k` (-1: none) without changing the values. */
  mark(k: number): void {
    if (k === this.marked) return;
    this.marked = k;
    this.draw();
  }

  private draw(): void {
    const c = this.root;
    const n = this.values.length;
    const w = Math.max(48, Math.min(320, n * 6));
    const hh = 24;
    if (c.width !== w) c.width = w;
    if (c.height !== hh) c.height = hh;
    const ctx = c.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, w, hh);
    const fg = BAR; // one grey readable on light and dark themes (a canvas cannot follow CSS variables)
    const bw = w / Math.max(1, n);
    for (let k = 0; k < n; k++) {
      const v = this.values[k];
      if (!Number.isFinite(v)) continue;
      const bh = Math.max(1, Math.round((Math.max(0, v) / this.max) * (hh - 3)));
      ctx.fillStyle = k === this.marked ? MARK : fg;
      ctx.globalAlpha = k === this.marked ? 1 : 0.85;
      ctx.fillRect(k * bw, hh - bh, Math.max(1, bw - (bw > 3 ? 1 : 0)), bh);
    }
    ctx.globalAlpha = 0.35;
    ctx.fillStyle = fg;
    ctx.fillRect(0, hh - 1, w, 1); // the baseline
    ctx.globalAlpha = 1;
  }
}
