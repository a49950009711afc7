// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { TokenStrip } from "../../src/components/strip";
import { parsePayload } from "../../src/decode";
import { samplePayload } from "../helpers";

function strip() {
  const meta = parsePayload(samplePayload()).meta;
  const ev = { onHover: vi.fn(), onLeave: vi.fn(), onPick: vi.fn() };
  const s = new TokenStrip(meta, ev);
  document.body.appendChild(s.root);
  s.build(false);
  return { s, ev };
}

describe("TokenStrip", () => {
  it("renders the tokens with their hooks, specials only on request", () => {
    const { s } = strip();
    const toks = [...s.root.querySelectorAll<HTMLElement>(".tam-tok")];
    expect(toks.map((t) => t.dataset.i)).toEqual(["1", "2", "3", "4", "5"]);
    expect(s.root.querySelectorAll(".tam-tok.tam-explained").length).toBe(3);
    expect(s.root.querySelector('.tam-tok[data-i="4"]')!.getAttribute("role")).toBe("option");
    expect(s.nav).toEqual([3, 4, 5]);
    s.build(true);
    expect(s.root.querySelector('.tam-tok.tam-special[data-i="0"]')).not.toBeNull();
  });

  it("reports clicks and hovers of explained tokens only", () => {
    const { s, ev } = strip();
    (s.el(2) as HTMLElement).click();
    expect(ev.onPick).not.toHaveBeenCalled();
    (s.el(4) as HTMLElement).click();
    expect(ev.onPick).toHaveBeenCalledWith(4, expect.anything());
    s.hovered = -1;
    s.el(3)!.dispatchEvent(new Event("pointerover", { bubbles: true }));
    expect(ev.onHover).toHaveBeenCalledWith(3, expect.anything(), false);
    expect(s.hovered).toBe(3);
    s.root.dispatchEvent(new Event("pointerleave"));
    expect(ev.onLeave).toHaveBeenCalledTimes(1);
    expect(s.hovered).toBe(-1);
  });

  it("paints relevance up to the pinned token and marks later ones", () => {
    const { s } = strip();
    const rel = new Float32Array([0, 0, 0, 0.5, 1, 0]);
    s.paintRelevance(5, rel, 0, 1, "jet");
    expect(s.el(5)!.classList.contains("tam-selected")).toBe(true);
    expect(s.el(5)!.getAttribute("aria-selected")).toBe("true");
    expect(s.el(3)!.style.background).not.toBe("");
    expect(s.el(2)!.style.background).toBe("");
    s.paintRelevance(3, rel, 0, 1, "jet");
    expect(s.el(4)!.classList.contains("tam-later")).toBe(true);
    expect(s.el(5)!.classList.contains("tam-selected")).toBe(false);
  });

  it("paints region shares with a tooltip per token", () => {
    const { s } = strip();
    s.paintShares(4, new Float32Array([0.1, 0.4, 0.2]), "viridis");
    expect(s.el(4)!.title).toBe("40.0% of its map inside the region");
    expect(s.el(4)!.classList.contains("tam-selected")).toBe(true);
    s.paintShares(4, null, "viridis");
    expect(s.el(4)!.title).toBe("");
  });
});
