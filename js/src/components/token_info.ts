// The shown token's info line: the readout (token, stats / loading / error) beside its candidates.

import type { Meta } from "../decode";
import { h } from "../dom";
import { readableToken } from "../layout";
import { Candidates } from "./candidates";
import { Readout } from "./readout";

export class TokenInfo {
  readonly root: HTMLElement;
  readonly readout = new Readout();
  readonly cands = new Candidates();

  constructor() {
    this.root = h("div", "tam-info");
    this.root.append(this.readout.root, this.cands.root);
  }

  /**
   * Show token `tok` (row `row` of the maps, -1: no map): its best 3 candidates, and the stats of
   * its map row `data` (`lo`, `span`: the row's scale), or `error`, or "loading" while `data` is null.
   */
  show(meta: Meta, tok: number, row: number, data: Uint8Array | null, error: string | null, lo: number, span: number): void {
    if (row < 0) {
      this.cands.set([]);
      if (meta.explained.length) this.readout.set("", "", "");
      return;
    }
    const t = meta.tokens[tok];
    const text = readableToken(String(t?.[0] ?? ""), t?.[3] === 1);
    this.cands.set((meta.candidates[row] ?? []).slice(0, 3));
    if (error) this.readout.set(text, error, "tam-ro-err");
    else if (!data) this.readout.set(text, "loading\u2026", "tam-loading-text");
    else this.readout.stats(text, data, meta.grids, lo, span);
  }
}
