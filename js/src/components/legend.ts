// The map's colour bar (current colormap), its end values and the method's unit text.

import { colormapPacked } from "../colormaps";
import { h } from "../dom";
import { legendEnds, paintRamp } from "../legend";

export class Legend {
  readonly root: HTMLElement;
  readonly bar: HTMLCanvasElement;
  private low: HTMLElement;
  private high: HTMLElement;
  private unit: HTMLElement;
  private cmap = "";

  constructor() {
    this.root = h("div", "tam-legend");
    this.root.setAttribute("role", "note");
    this.bar = h("canvas", "tam-legend-bar");
    this.low = h("span", "tam-legend-lo");
    this.high = h("span", "tam-legend-hi");
    const scale = h("span", "tam-legend-scale");
    scale.append(this.low, this.bar, this.high);
    this.unit = h("span", "tam-legend-text");
    this.root.append(scale, this.unit);
  }

  /** Show `cmap` between the row's end values, with `text` (the method's legend). */
  update(cmap: string, lo: number, span: number, text: string): void {
    if (cmap !== this.cmap) {
      this.cmap = cmap;
      const lut = colormapPacked(cmap);
      paintRamp(this.bar, (v) => lut[Math.round(v * 255)]);
    }
    const ends = legendEnds(lo, span);
    const unit = ends.stretched ? `${text} \u2014 colours stretched over this token's range` : text;
    if (this.low.textContent !== ends.low) this.low.textContent = ends.low;
    if (this.high.textContent !== ends.high) this.high.textContent = ends.high;
    if (this.unit.textContent !== unit) this.unit.textContent = unit;
    const tip = `colour scale of the map: ${unit}`;
    if (this.root.title !== tip) this.root.title = tip;
  }

  /** The texts as shown: [low end, high end, unit text]. */
  texts(): [string, string, string] {
    return [this.low.textContent ?? "", this.high.textContent ?? "", this.unit.textContent ?? ""];
  }
}
