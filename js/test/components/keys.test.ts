// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { keyAction } from "../../src/components/keys";

describe("keyAction", () => {
  const key = (k: string, target?: HTMLElement) => {
    const e = new KeyboardEvent("keydown", { key: k });
    Object.defineProperty(e, "target", { value: target ?? document.body });
    return e;
  };
  it("moves along the explained tokens, Esc clears, controls keep their keys", () => {
    const nav = [3, 4, 5];
    expect(keyAction(key("ArrowRight"), nav, 3)).toBe(4);
    expect(keyAction(key("ArrowRight"), nav, 5)).toBe(5);
    expect(keyAction(key("ArrowLeft"), nav, -1)).toBe(3);
    expect(keyAction(key("End"), nav, 3)).toBe(5);
    expect(keyAction(key("Home"), nav, 5)).toBe(3);
    expect(keyAction(key("x"), nav, 3)).toBeNull();
    expect(keyAction(key("ArrowRight", document.createElement("select")), nav, 3)).toBeNull();
    expect(keyAction(key("Escape", document.createElement("input")), nav, 3)).toBe("escape");
  });
});
