import { describe, expect, it } from "vitest";
import { BLANK_MARK, coverWords, displayText, EMPTY_MARK, initialToken, layoutStrip, navigableTokens, readableToken } from "../src/layout";
import type { StripLine } from "../src/layout";

type Tok = [string, string, number];

// A two-turn Qwen-style chat. Explained: answer tokens 12, 13, 15 and prompt token 5.
const tokens: Tok[] = [
  ["<|im_start|>", "special", 0], // 0
  ["user", "special", 0], // 1
  ["\n", "special", 0], // 2
  ["Describe", "prompt", 0], // 3
  ["▁the", "prompt", 0], // 4
  [" image", "prompt", 0], // 5
  [".\n\n", "prompt", 0], // 6
  ["Be brief", "prompt", 0], // 7
  ["<|im_end|>", "special", 0], // 8
  ["\n", "special", 0], // 9
  ["<|im_start|>", "special", 0], // 10
  ["assistant\n", "special", 0], // 11
  [" A", "answer", 0], // 12
  [" ca", "answer", 0], // 13
  ["t", "answer", 0], // 14
  ["\n", "answer", 0], // 15
  ["\nNext", "answer", 0], // 16
  [" more", "answer", 1], // 17
];
const words: [number, number][] = [[0, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8], [8, 12], [12, 13], [13, 15], [15, 16], [16, 17], [17, 18]];
const meta = { tokens, words, explained: [12, 13, 15, 5] };

function text(lines: StripLine[]): string[] {
  return lines.map((l) => l.words.map((w) => w.toks.map((t) => t.text).join("")).join("|"));
}

describe("layoutStrip", () => {
  it("hides specials and breaks lines at role changes and newlines", () => {
    const lines = layoutStrip(meta, false);
    expect(text(lines)).toEqual(["Describe| the| image|.", "Be brief", " A| cat|↵", "Next", " more"]);
    expect(lines.map((l) => l.role)).toEqual(["prompt", "prompt", "answer", "answer", "answer"]);
    // ".\n\n" ends a paragraph; a new turn starts one too
    expect(lines.map((l) => l.gap)).toEqual([false, true, false, false, true]);
    expect(lines.flatMap((l) => l.words.flatMap((w) => w.toks)).some((t) => t.special)).toBe(false);
  });

  it("shows specials on request, each newline still breaking the line", () => {
    const lines = layoutStrip(meta, true);
    expect(text(lines)).toEqual([
      "<|im_start|>user↵",
      "Describe| the| image|.",
      "Be brief",
      "<|im_end|>↵",
      "<|im_start|>assistant",
      " A| cat|↵",
      "Next",
      " more",
    ]);
    const specials = lines.flatMap((l) => l.words.flatMap((w) => w.toks)).filter((t) => t.special);
    expect(specials.map((t) => t.i)).toEqual([0, 1, 2, 8, 9, 10, 11]);
  });

  it("marks explained tokens interactive with their row, and ▁ shows as a space", () => {
    const toks = layoutStrip(meta, false).flatMap((l) => l.words.flatMap((w) => w.toks));
    const byIndex = new Map(toks.map((t) => [t.i, t]));
    expect(byIndex.get(4)!.text).toBe(" the");
    expect(byIndex.get(12)).toMatchObject({ explained: true, row: 0, text: " A" });
    expect(byIndex.get(13)).toMatchObject({ explained: true, row: 1 });
    expect(byIndex.get(14)).toMatchObject({ explained: false, row: -1 });
    expect(byIndex.get(15)).toMatchObject({ explained: true, row: 2, newline: true, text: "↵" });
    expect(byIndex.get(5)).toMatchObject({ explained: true, row: 3, role: "prompt" });
    expect(byIndex.get(16)!.text).toBe("Next");
    expect(displayText("▁▁x")).toBe("  x");
  });

  it("navigates explained tokens in reading order", () => {
    expect(navigableTokens(layoutStrip(meta, false))).toEqual([5, 12, 13, 15]);
    const hidden = { ...meta, explained: [12, 1] }; // special 1 is hidden by default
    expect(navigableTokens(layoutStrip(hidden, false))).toEqual([12]);
    expect(navigableTokens(layoutStrip(hidden, true))).toEqual([1, 12]);
  });

  it("covers tokens missing from words with one-token words", () => {
    expect(coverWords([[1, 3], [5, 6]], 7)).toEqual([[0, 1], [1, 3], [3, 4], [4, 5], [5, 6], [6, 7]]);
    expect(coverWords(undefined, 2)).toEqual([[0, 1], [1, 2]]);
    const lines = layoutStrip({ tokens: [["a", "prompt", 0], ["b", "prompt", 0]], words: [], explained: [] }, false);
    expect(text(lines)).toEqual(["a|b"]);
  });
});

describe("empty and byte-fragment tokens", () => {
  // " caf", then "é" split in two byte tokens (labels from Python's Token.label), then an empty token
  const toks: [string, string, number, number?][] = [
    [" caf", "answer", 0],
    ["<0xC3>", "answer", 0, 1],
    ["<0xA9>", "answer", 0, 1],
    ["", "answer", 0],
    ["<0x0A>", "answer", 0, 1],
    ["\u2581ok", "answer", 0, 1],
  ];
  const m = { tokens: toks as any, words: [[0, 3], [3, 4], [4, 5], [5, 6]] as [number, number][], explained: [1, 2, 3] };

  it("shows byte labels as they are and an empty token as a visible mark", () => {
    const all = layoutStrip(m, false).flatMap((l) => l.words.flatMap((w) => w.toks));
    expect(all.map((t) => t.text)).toEqual([" caf", "<0xC3>", "<0xA9>", EMPTY_MARK, "<0x0A>", "\u2581ok"]);
    expect(all.map((t) => [t.bytes, t.empty])).toEqual([
      [false, false], [true, false], [true, false], [false, true], [true, false], [true, false],
    ]);
    expect(all[3]).toMatchObject({ explained: true, row: 2 }); // still a clickable token
    expect(all.some((t) => t.newline)).toBe(false); // a byte label is never read as text
    expect(layoutStrip(m, false)).toHaveLength(1);
  });

  it("whitespace-only tokens show one mark per space, with the real text as tooltip", () => {
    const ws = {
      tokens: [["a", "answer", 0], [" ", "answer", 0], ["\u2581\u2581", "answer", 0], ["", "answer", 0], ["\n", "answer", 0]] as any,
      words: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]] as [number, number][],
      explained: [0, 1, 2, 3, 4],
    };
    const all = layoutStrip(ws, false).flatMap((l) => l.words.flatMap((w) => w.toks));
    expect(all.map((t) => t.text)).toEqual(["a", BLANK_MARK, BLANK_MARK + BLANK_MARK, EMPTY_MARK, "\u21b5"]);
    expect(all.map((t) => t.blank)).toEqual([false, true, true, false, false]);
    expect(all.map((t) => t.tip)).toEqual(["", 'token text: " "', 'token text: "  "', "empty token (no text)", 'token text: "\\n"']);
  });

  it("readout and candidates: text quoted, bytes as they are, empty marked", () => {
    expect(readableToken(" cat")).toBe('" cat"');
    expect(readableToken("<0xE2><0x80>", true)).toBe("<0xE2><0x80>");
    expect(readableToken("<0xE2>")).toBe('"<0xE2>"'); // a text that only looks like bytes stays text
    expect(readableToken("")).toBe(`${EMPTY_MARK} (empty)`);
    expect(readableToken("a\nb")).toBe('"a\\nb"');
  });
});

describe("initialToken", () => {
  it("prefers the model's selection, then the first explained answer token", () => {
    expect(initialToken(meta, 13)).toBe(13);
    expect(initialToken(meta, 14)).toBe(12); // 14 is not explained
    expect(initialToken(meta, -1)).toBe(12);
    expect(initialToken({ tokens, explained: [5, 3] }, null)).toBe(5);
    expect(initialToken({ tokens, explained: [] }, 3)).toBe(-1);
  });
});
