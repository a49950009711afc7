// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { Candidates } from "../../src/components/candidates";

describe("Candidates", () => {
  it("lists candidates, marking the chosen and byte ones", () => {
    const c = new Candidates();
    c.set([[" cat", "41.2%", 1, 0], ["<0xE2>", "0.1%", 0, 1]]);
    const items = [...c.root.querySelectorAll<HTMLElement>(".tam-cands li")];
    expect(items.map((li) => li.textContent)).toEqual(['" cat" 41.2%', "<0xE2> 0.1%"]);
    expect(items[0].classList.contains("tam-cand-chosen")).toBe(true);
    expect(items[1].classList.contains("tam-cand-bytes")).toBe(true);
    c.set([]);
    expect(c.root.querySelectorAll("li").length).toBe(0);
  });
});
