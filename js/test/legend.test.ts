import { describe, expect, it } from "vitest";
import { fmtNum, legendEnds, OTSU_TIP, PEAK_TIP, stripKey, wrapLines } from "../src/legend";

describe("legend", () => {
  it("labels the colour bar's ends with the row's range in map units", () => {
    expect(legendEnds(0, 1)).toEqual({ low: "0", high: "1", stretched: false }); // TAM: as stored
    expect(legendEnds(-1, 5)).toEqual({ low: "-1", high: "4", stretched: true }); // min-max scaled
    expect(legendEnds(0.25, 0.5)).toEqual({ low: "0.25", high: "0.75", stretched: true });
    expect(legendEnds(Number.NaN, Number.NaN)).toEqual({ low: "0", high: "1", stretched: false });
  });

  it("writes numbers with 3 significant digits and no trailing zeros", () => {
    expect([fmtNum(1), fmtNum(4), fmtNum(0.74712), fmtNum(-0.5), fmtNum(123456), fmtNum(0.00012)]).toEqual([
      "1", "4", "0.747", "-0.5", "1.23e+5", "1.20e-4",
    ]);
    expect(fmtNum(0)).toBe("0");
  });

  it("says what the strip's colours mean in each mode", () => {
    expect(stripKey(false)).toMatch(/text relevance .* pinned token/);
    expect(stripKey(true)).toMatch(/share of each token's map inside the box.*Esc clears/);
  });

  it("explains peak and Otsu, and that peaks of different methods do not compare", () => {
    expect(PEAK_TIP).toMatch(/own units/);
    expect(PEAK_TIP).toMatch(/not across methods/);
    expect(OTSU_TIP).toMatch(/Otsu's threshold/);
  });

  it("wraps text to a width", () => {
    const w = (s: string) => s.length; // one unit per character
    expect(wrapLines("aa bb cc dd", 5, w)).toEqual(["aa bb", "cc dd"]);
    expect(wrapLines("averyveryverylongword x", 5, w)).toEqual(["averyveryverylongword", "x"]);
    expect(wrapLines("  ", 5, w)).toEqual([]);
  });
});
