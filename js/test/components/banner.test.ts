// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { warningBanner } from "../../src/components/banner";

describe("warningBanner", () => {
  it("is an alert with the text as text", () => {
    const b = warningBanner("untrained model: <b>x</b>");
    expect([b.className, b.getAttribute("role"), b.textContent]).toEqual(["tam-warning", "alert", "\u26a0 untrained model: <b>x</b>"]);
    expect(b.querySelector("b")).toBeNull();
  });
});
