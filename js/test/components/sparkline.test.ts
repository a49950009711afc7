// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { SPARK_TIP, Sparkline } from "../../src/components/sparkline";

describe("Sparkline", () => {
  it("shows one value per token, says what they are, and picks the clicked one", () => {
    const pick = vi.fn();
    const s = new Sparkline(pick);
    document.body.appendChild(s.root);
    s.set(new Float32Array([0.2, 1, Number.NaN, 0.5]), 1, 1);
    expect(s.root.title).toBe(SPARK_TIP);
    expect(s.root.getAttribute("aria-label")).toBe("peak activation per token: 0.20 1.00 ? 0.50");
    expect(s.root.width).toBe(48); // at least 48 px, 6 px per token
    expect(s.indexAt(0)).toBe(0);
    expect(s.indexAt(47)).toBe(3);
    s.root.dispatchEvent(new MouseEvent("click", { clientX: 0 }));
    expect(pick).toHaveBeenCalledWith(0, expect.anything());
  });

  it("has nothing to pick without values", () => {
    const pick = vi.fn();
    const s = new Sparkline(pick);
    s.set(new Float32Array(0), 0, -1);
    expect(s.indexAt(10)).toBe(-1);
    s.root.dispatchEvent(new MouseEvent("click"));
    expect(pick).not.toHaveBeenCalled();
    s.mark(3); // marking without values draws nothing and does not throw
  });
});
