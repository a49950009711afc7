// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { StripKey } from "../../src/components/strip_key";
import { stripKey } from "../../src/legend";

describe("StripKey", () => {
  it("says what the word colours mean in each mode", () => {
    const k = new StripKey();
    k.update("jet", false);
    expect(k.root.classList.contains("tam-note")).toBe(true);
    expect(k.root.textContent).toBe(stripKey(false));
    k.update("jet", true);
    k.loading(true);
    expect(k.root.textContent).toBe(stripKey(true));
    expect(k.root.classList.contains("tam-key-loading")).toBe(true);
  });
});
