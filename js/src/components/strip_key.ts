// The token strip's key: a small ramp of the word colours and what they mean.

import { stripColor } from "../colormaps";
import { h } from "../dom";
import { paintRamp, stripKey } from "../legend";

export class StripKey {
  readonly root: HTMLElement;
  private ramp: HTMLCanvasElement;
  private text: HTMLElement;
  private cmap = "";

  constructor() {
    this.root = h("div", "tam-note");
    this.ramp = h("canvas", "tam-key-ramp");
    this.text = h("span", "tam-note-text");
    this.root.append(this.ramp, this.text);
  }

  update(cmap: string, regionMode: boolean): void {
    if (cmap !== this.cmap) {
      this.cmap = cmap;
      paintRamp(this.ramp, (v) => {
        const c = stripColor(cmap, v);
        return new Int32Array(new Uint8Array([c.r, c.g, c.b, 255]).buffer)[0] >>> 0;
      });
    }
    const t = stripKey(regionMode);
    if (this.text.textContent !== t) {
      // one line whatever the width (cut with an ellipsis, whole in the tooltip): no layout shift
      this.text.textContent = t;
      this.text.title = t;
    }
  }

  /** Mark the key as waiting for map rows (region shares need every row). */
  loading(on: boolean): void {
    this.root.classList.toggle("tam-key-loading", on);
  }
}
