// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { Readout } from "../../src/components/readout";
import { parsePayload } from "../../src/decode";
import { OTSU_TIP, PEAK_TIP } from "../../src/legend";
import { samplePayload } from "../helpers";

describe("Readout", () => {
  it("shows token and stats in place, with the stats' tooltip", () => {
    const r = new Readout();
    r.set('" A"', "loading\u2026", "tam-loading-text");
    const tok = r.root.querySelector(".tam-ro-tok");
    expect(r.root.textContent).toBe('" A" \u00b7 loading\u2026');
    const grids = parsePayload(samplePayload()).meta.grids;
    r.stats('" A"', new Uint8Array([0, 255, 0, 0]), grids, 0, 2);
    expect(r.root.querySelector(".tam-ro-tok")).toBe(tok); // same nodes
    const stats = r.root.querySelector<HTMLElement>(".tam-ro-stats")!;
    expect(stats.textContent).toBe("peak 2 (image 1) \u00b7 25.0% above Otsu");
    expect(stats.title).toBe(`${PEAK_TIP}\n\n${OTSU_TIP}`);
    r.message("no explained tokens in this record");
    expect(r.root.textContent).toBe("no explained tokens in this record");
  });
});
