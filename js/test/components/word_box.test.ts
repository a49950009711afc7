// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { SCALE_OPTIONS, WordBox } from "../../src/components/word_box";

describe("WordBox", () => {
  it("reports a typed word on Enter and the scale switch, and shows messages", () => {
    const got: string[] = [];
    const scales: string[] = [];
    const b = new WordBox({ onQuery: (t) => got.push(t), onScale: (s) => scales.push(s) });
    document.body.appendChild(b.root);
    b.input.value = "dog";
    b.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    b.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true })); // again: looked up again
    b.input.dispatchEvent(new Event("change"));
    expect(got).toEqual(["dog", "dog"]);
    expect([...b.scale.options].map((o) => o.value)).toEqual(SCALE_OPTIONS.map(([v]) => v));
    b.scale.value = "shared";
    b.scale.dispatchEvent(new Event("change"));
    expect(scales).toEqual(["shared"]);
    b.setScale("own");
    expect(b.scale.value).toBe("own");
    b.message('no model said "zebra"', true);
    expect(b.note.textContent).toBe('no model said "zebra"');
    expect(b.note.classList.contains("tam-ro-err")).toBe(true);
    b.message("");
    expect(b.note.classList.contains("tam-ro-err")).toBe(false);
    b.setQuery("cat");
    expect(b.input.value).toBe("cat");
  });
});
