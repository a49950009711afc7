// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { renderView } from "../../src/views";
import { findWord } from "../../src/views/compare";
import { FakeModel, samplePayload } from "../helpers";

/** Two records: " A cat ." and " The cat ." (token 3 differs), aligned as a | the | cat | . */
function compareState(state: Record<string, unknown> = {}) {
  const a = samplePayload();
  const b = samplePayload();
  b.id = "r1";
  b.meta = { ...b.meta, tokens: b.meta.tokens.map((t, i) => (i === 3 ? [" The", "answer", 0] : t)) as typeof b.meta.tokens };
  const r = (s: number, e: number) => [s, e] as [number, number];
  return {
    _view: "compare",
    _records: [a, b],
    _compare: {
      labels: ["model <A>", "model B"],
      prompts: ["Describe it", "Describe it"],
      alignment: {
        texts: [" A", " The", " cat", "."],
        keys: ["a", "the", "cat", "."],
        ranges: [[r(3, 4), null], [null, r(3, 4)], [r(4, 5), r(4, 5)], [r(5, 6), r(5, 6)]],
        tokens: [[3, null], [null, 3], [4, 4], [5, 5]],
      },
      summaries: [
        { answer: "A cat.", object_words: ["cat"], nouns_known: true, mean_peak: { tam: 0.9, cam: 1.5 } },
        { answer: "The cat.", object_words: ["cat"], nouns_known: true, mean_peak: { tam: 0.7, cam: 1.1 } },
      ],
    },
    word: 2, query: "", method: "tam", colormap: "jet", opacity: 0.55, scale: "own", region: [] as number[],
    ...state,
  };
}

function mount(state: Record<string, unknown> = {}) {
  const model = new FakeModel(compareState(state));
  const el = document.createElement("div");
  document.body.appendChild(el);
  const destroy = renderView(model, el);
  const root = el.querySelector<HTMLElement>(".tam-view")!;
  const col = (m: number) => root.querySelector<HTMLElement>(`.tam-compare-col[data-model="${m}"]`)!;
  return { model, el, root, destroy, col };
}

const wordOf = (col: HTMLElement) => col.querySelector(".tam-compare-word")!.textContent;

afterEach(() => {
  document.body.textContent = "";
});

describe("CompareView", () => {
  it("shows one column per model with its label, question, strip and the pinned word", () => {
    const { root, col } = mount();
    expect(root.querySelectorAll(".tam-compare-col").length).toBe(2);
    expect(col(0).querySelector(".tam-compare-label")!.textContent).toBe("model <A>");
    expect(col(1).querySelector(".tam-compare-question")!.textContent).toBe("Describe it");
    expect(wordOf(col(0))).toBe("\u201ccat\u201d");
    expect(wordOf(col(1))).toBe("\u201ccat\u201d");
    expect(col(0).querySelector('.tam-tok.tam-selected')!.getAttribute("data-i")).toBe("4");
    expect(col(1).querySelector('.tam-tok.tam-aligned')!.getAttribute("data-i")).toBe("4");
    expect(col(0).querySelector(".tam-sum-peak")!.textContent).toBe("mean peak over object words 0.9");
    expect(col(0).querySelector(".tam-sum-word")!.textContent).toMatch(/above Otsu \u00b7 top-3: " cat" 90.0%$/);
  });

  it("hovering a word in one column shows it in every column; a word another model did not say is absent there", () => {
    const { col } = mount();
    const a = col(0).querySelector<HTMLElement>('.tam-tok[data-i="3"]')!;
    a.dispatchEvent(new PointerEvent("pointerover", { bubbles: true }));
    expect(wordOf(col(0))).toBe("\u201cA\u201d");
    expect(wordOf(col(1))).toBe("\u201cA\u201d absent");
    expect(col(1).classList.contains("tam-absent")).toBe(true);
    expect(col(1).querySelector(".tam-sum-word")!.textContent).toBe("absent: this model did not say the word");
    col(0).querySelector(".tam-strip")!.dispatchEvent(new PointerEvent("pointerleave"));
    expect(wordOf(col(1))).toBe("\u201ccat\u201d");
    expect(col(1).classList.contains("tam-absent")).toBe(false);
  });

  it("a click pins the aligned word and writes it to the model; the model's word reaches every column", () => {
    const { model, col } = mount();
    col(1).querySelector<HTMLElement>('.tam-tok[data-i="5"]')!.click();
    expect(model.state.word).toBe(3);
    expect(col(0).querySelector('.tam-tok.tam-selected')!.getAttribute("data-i")).toBe("5");
    model.set("word", 1);
    expect(wordOf(col(1))).toBe("\u201cThe\u201d");
    expect(wordOf(col(0))).toBe("\u201cThe\u201d absent");
    expect(col(0).querySelector(".tam-tok.tam-selected")).toBeNull();
  });

  it("a typed word selects it, or says no model said it", () => {
    const { model, root, col } = mount();
    const input = root.querySelector<HTMLInputElement>("input.tam-word-query")!;
    input.value = " The ";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.state.query).toBe(" The ");
    expect(model.state.word).toBe(1);
    expect(root.querySelector(".tam-word-note")!.textContent).toBe('"The": said by 1 of 2 models');
    input.value = "zebra";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(root.querySelector(".tam-word-note")!.textContent).toBe('no model said "zebra"');
    expect(wordOf(col(1))).toBe("\u201cThe\u201d");
  });

  it("method, colours, opacity and scale apply to every panel, from either side", () => {
    const { model, root, col } = mount();
    model.set("method", "cam");
    expect(root.querySelector<HTMLSelectElement>("select.tam-method")!.value).toBe("cam");
    expect(col(1).querySelector(".tam-legend-text")!.textContent).toContain("CAM score");
    expect(col(1).querySelector(".tam-sum-peak")!.textContent).toBe("mean peak over object words 1.1");
    model.set("opacity", 0.2);
    for (const c of root.querySelectorAll<HTMLElement>("canvas.tam-heat")) expect(c.style.opacity).toBe("0.2");
    const scale = root.querySelector<HTMLSelectElement>("select.tam-scale")!;
    scale.value = "shared";
    scale.dispatchEvent(new Event("change"));
    expect(model.state.scale).toBe("shared");
    expect(col(0).querySelector(".tam-legend-text")!.textContent).toContain("one range for all models");
  });

  it("shows the provenance warning once and the kernel-loss banner", () => {
    const st = compareState();
    for (const r of st._records) r.meta = { ...r.meta, warning: "untrained model: ..." };
    const model = new FakeModel(st);
    const el = document.createElement("div");
    document.body.appendChild(el);
    renderView(model, el);
    expect(el.querySelectorAll(".tam-warning").length).toBe(1);
    model.emit("comm:close");
    expect(el.querySelector(".tam-disconnected-banner")!.textContent).toMatch(/^kernel disconnected/);
    expect(el.querySelector(".tam-view")!.classList.contains("tam-disconnected")).toBe(true);
  });

  it("finds typed words by their normalised keys", () => {
    expect(findWord(["a", "cat"], " Cat ")).toBe(1);
    expect(findWord(["a", "cat"], "")).toBe(-1);
  });

  it("unbinds everything on destroy", () => {
    const { model, el, destroy } = mount();
    destroy();
    expect(el.querySelector(".tam-view")).toBeNull();
    expect(model.listeners()).toBe(0);
  });
});

describe("displayMeta", () => {
  it("scales pictures wider than the column and their grids' boxes, leaves small ones", async () => {
    const { displayMeta } = await import("../../src/views/compare");
    const meta = samplePayload().meta;
    expect(displayMeta(meta)).toBe(meta);
    const big = { ...meta, images: [{ width: 840, height: 630, mime: "image/png" }],
      grids: [{ ...meta.grids[0], boxes: [[0, 0, 840, 630]] as [number, number, number, number][] }] };
    const d = displayMeta(big, 420);
    expect(d.images[0]).toEqual({ width: 420, height: 315, mime: "image/png" });
    expect(d.grids[0].boxes[0]).toEqual([0, 0, 420, 315]);
    expect(big.images[0].width).toBe(840);
  });
});

describe("CompareView region", () => {
  it("one box applies to every column: words coloured by their share inside it; Esc clears", () => {
    const { model, root, col } = mount();
    model.set("region", [0, 0, 0, 2, 2]);
    expect(root.classList.contains("tam-region-mode")).toBe(true);
    for (const m of [0, 1]) {
      const title = col(m).querySelector('.tam-tok[data-i="4"]')!.getAttribute("title")!;
      expect(title).toMatch(/% of its map inside the region$/);
    }
    expect(root.querySelector(".tam-word-note")!.textContent).toMatch(/^region: /);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(root.classList.contains("tam-region-mode")).toBe(false);
    expect(model.state.region).toEqual([]);
    model.set("region", [5, 0, 0, 2, 2]); // no such picture: ignored
    expect(root.classList.contains("tam-region-mode")).toBe(false);
  });
});

describe("CompareView keys", () => {
  it("arrow keys move the pinned word along the aligned words", () => {
    const { model, root, col } = mount();
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    expect(model.state.word).toBe(3);
    expect(col(1).querySelector(".tam-tok.tam-selected")!.getAttribute("data-i")).toBe("5");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" })); // last word: stays
    expect(model.state.word).toBe(3);
    for (let k = 0; k < 3; k++) root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft" }));
    expect(model.state.word).toBe(0);
    expect(wordOf(col(1))).toBe("\u201cA\u201d absent");
  });
});
