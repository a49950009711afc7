// The readout line: the shown token, then its stats, a loading note or an error (text nodes updated in place).

import type { GridMeta } from "../decode";
import { h } from "../dom";
import { fmtNum, OTSU_TIP, PEAK_TIP } from "../legend";
import { otsuShare, peak } from "../stats";

export class Readout {
  readonly root: HTMLElement;
  private parts: [HTMLElement, Text, HTMLElement] | null = null;

  constructor() {
    this.root = h("div", "tam-readout");
  }

  /** A plain message instead of the token line. */
  message(text: string): void {
    this.parts = null;
    this.root.textContent = text;
  }

  /** `tok · rest`, with `rest` styled by `cls` (`tam-ro-stats`, `tam-loading-text`, `tam-ro-err`). */
  set(tok: string, rest: string, cls: string): void {
    if (!this.parts || this.parts[0].parentNode !== this.root) {
      this.root.textContent = "";
      this.parts = [h("span", "tam-ro-tok"), document.createTextNode(""), h("span")];
      this.root.append(...this.parts);
    }
    const [a, sep, b] = this.parts;
    if (a.textContent !== tok) a.textContent = tok;
    const s = tok && rest ? " \u00b7 " : "";
    if (sep.data !== s) sep.data = s;
    if (b.textContent !== rest) b.textContent = rest;
    if (b.className !== cls) {
      b.className = cls;
      b.title = cls === "tam-ro-stats" ? `${PEAK_TIP}\n\n${OTSU_TIP}` : "";
    }
  }

  /** The stats of token `tok`'s map row: its peak (in map units: `lo + span * u8 / 255`, and where) and the share above Otsu. */
  stats(tok: string, data: Uint8Array, grids: readonly GridMeta[], lo: number, span: number): void {
    const pk = peak(data, grids);
    const g = grids[pk.grid];
    const where = g ? (g.shape[0] > 1 ? `${g.label}, frame ${pk.frame + 1}` : g.label) : "";
    const { share } = otsuShare(data);
    const value = lo + (span * pk.value) / 255;
    this.set(tok, `peak ${fmtNum(value)}${where ? ` (${where})` : ""} \u00b7 ${(share * 100).toFixed(1)}% above Otsu`, "tam-ro-stats");
  }
}
