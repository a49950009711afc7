// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { CompareSummary, MAX_ANSWER } from "../../src/components/compare_summary";

describe("CompareSummary", () => {
  it("shows the answer, the mean peak over object words, the word's Otsu share and top-3", () => {
    const s = new CompareSummary();
    s.update({
      answer: "A cat on a table.", meanPeak: 0.8125, objectWords: ["cat", "table"], nounsKnown: true, word: "cat",
      share: 0.0675, candidates: [[" cat", "70%", 1, 0], [" dog", "20%", 0, 0], [" <b>", "5%", 0, 0], [" x", "1%", 0, 0]],
    });
    expect(s.root.querySelector(".tam-sum-answer")!.textContent).toBe("A cat on a table.");
    expect(s.root.querySelector(".tam-sum-peak")!.textContent).toBe("mean peak over object words 0.813");
    expect(s.root.querySelector<HTMLElement>(".tam-sum-peak")!.title).toContain("object words: cat, table");
    expect(s.root.querySelector(".tam-sum-word")!.textContent).toBe('6.8% above Otsu \u00b7 top-3: " cat" 70%, " dog" 20%, " <b>" 5%');
    expect(s.root.classList.contains("tam-absent")).toBe(false);
  });

  it("says when the word is absent, the nouns unknown, and cuts a long answer", () => {
    const s = new CompareSummary();
    const long = "word ".repeat(100);
    s.update({ answer: long, meanPeak: null, objectWords: [], nounsKnown: false, word: null, share: null, candidates: [] });
    expect(s.root.querySelector(".tam-sum-answer")!.textContent!.length).toBe(MAX_ANSWER);
    expect(s.root.querySelector<HTMLElement>(".tam-sum-answer")!.title).toBe(long);
    expect(s.root.querySelector(".tam-sum-peak")!.textContent).toContain("n/a (no POS tagger data)");
    expect(s.root.querySelector(".tam-sum-word")!.textContent).toBe("absent: this model did not say the word");
    expect(s.root.classList.contains("tam-absent")).toBe(true);
  });
});
