// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { Legend } from "../../src/components/legend";

describe("Legend", () => {
  it("shows the colour bar between the row's ends with the method's text", () => {
    const l = new Legend();
    l.update("jet", 0, 1, "TAM activation");
    expect(l.root.querySelector("canvas.tam-legend-bar")).toBe(l.bar);
    expect(l.texts()).toEqual(["0", "1", "TAM activation"]);
    l.update("jet", -2, 4, "CAM score");
    expect(l.texts()).toEqual(["-2", "2", "CAM score \u2014 colours stretched over this token's range"]);
    expect(l.root.title).toBe("colour scale of the map: CAM score \u2014 colours stretched over this token's range");
  });
});
