// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderView } from "../../src/views";
import { FakeModel, samplePayload } from "../helpers";
import { FILTERS, note, rows } from "../board_fixtures";

function boardState(over: Record<string, unknown> = {}) {
  return {
    _view: "case_board", _records: [] as unknown[], _cases: rows(20),
    _notes: { q2: note("q2", { reason: "other" }) } as Record<string, unknown>, _notes_new: {} as Record<string, unknown>,
    case: "", filters: { ...FILTERS }, sort: "order", reasons: ["lack of knowledge", "missed object", "other"],
    read_only: false, selected: -1, method: "tam", colormap: "jet", opacity: 0.55, show_specials: false, frame: 0,
    region: [] as number[], ...over,
  };
}

function mount(over: Record<string, unknown> = {}) {
  const model = new FakeModel(boardState(over));
  const el = document.createElement("div");
  document.body.appendChild(el);
  const destroy = renderView(model, el);
  const root = el.querySelector<HTMLElement>(".tam-board")!;
  return { model, el, root, destroy };
}

const sentOf = (model: FakeModel<any>, type: string) => model.sent.filter((m) => m.type === type);
const flush = () => new Promise((r) => setTimeout(r, 0));
const key = (root: HTMLElement, k: string) => root.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

function record(id: string) {
  const p = samplePayload();
  return { ...p, id };
}

afterEach(() => {
  document.body.textContent = "";
});

describe("CaseBoardView", () => {
  it("lists the cases and asks for the thumbnails in view, a few at a time", async () => {
    const { model, root } = mount();
    expect(root.querySelectorAll(".tam-case").length).toBeGreaterThan(5);
    await flush();
    const asked = sentOf(model, "picture");
    expect(asked.length).toBe(6);
    expect(asked[0]).toMatchObject({ type: "picture", case: "q0", size: "thumb" });
    model.emit("msg:custom", { type: "picture", request: asked[0].request, case: "q0", size: "thumb", mime: "image/jpeg" },
      [new DataView(new Uint8Array([1, 2, 3]).buffer)]);
    expect(root.querySelector('.tam-case[data-case="q0"] img')).not.toBeNull();
    expect(sentOf(model, "picture").length).toBe(7); // the next one goes out
    model.emit("msg:custom", { type: "picture", request: asked[1].request, case: "q1", error: "cannot read its picture" });
    expect(root.querySelector<HTMLElement>('.tam-case[data-case="q1"] .tam-case-thumb')!.title).toBe("cannot read its picture");
  });

  it("filters from the bar and from the model, and counts", () => {
    const { model, root } = mount();
    const sel = root.querySelector<HTMLSelectElement>("select.tam-f-correct")!;
    sel.value = "failed";
    sel.dispatchEvent(new Event("change"));
    expect(model.state.filters.correct).toBe("failed");
    const ids = () => [...root.querySelectorAll<HTMLElement>(".tam-case")].map((e) => e.dataset.case);
    expect(ids()).toEqual(["q1", "q5", "q9", "q13", "q17"]);
    expect(root.querySelector(".tam-f-count")!.textContent).toBe("5 of 20 cases");
    model.set("filters", { ...FILTERS, reason: "other" });
    expect(ids()).toEqual(["q2"]);
    expect(sel.value).toBe("all");
    expect((window as any).__tamPerf.filter.length).toBeGreaterThan(0);
  });

  it("opens a case: commits it, asks for its record, shows the token map when it comes", () => {
    const { model, root } = mount();
    root.querySelector<HTMLElement>('.tam-case[data-case="q1"]')!.click();
    expect(model.state.case).toBe("q1");
    expect(sentOf(model, "open")).toHaveLength(1);
    const [open] = sentOf(model, "open");
    expect(open).toMatchObject({ type: "open", case: "q1" });
    expect(root.classList.contains("tam-case-loading")).toBe(true);
    expect(root.querySelector(".tam-ci-question")!.textContent).toBe("Question 1 about a umbrella?");
    model.set("_records", [record("c1")]);
    model.emit("msg:custom", { type: "open", request: open.request, case: "q1", record: "c1", row: rows(20)[1] });
    expect(root.classList.contains("tam-case-loading")).toBe(false);
    expect(root.querySelectorAll(".tam-board-map .tam-tok").length).toBe(5);
    expect(model.state.selected).toBe(3); // the explorer starts on the first answer token
    expect(root.querySelector(".tam-ann-use-token")!.textContent).toContain('" A"');
  });

  it("an error opening a case shows on that case, with its picture", () => {
    const { model, root } = mount();
    model.set("case", "q3"); // from Python
    const [open] = sentOf(model, "open");
    expect(open.case).toBe("q3");
    model.emit("msg:custom", { type: "open", request: open.request, case: "q3", record: null,
      error: "case 'q3': cannot read its picture", row: { ...rows(20)[3], error: "cannot read" } });
    expect(root.querySelector(".tam-ci-error")!.textContent).toContain("cannot read its picture");
    expect(sentOf(model, "picture").some((m) => m.case === "q3" && m.size === "full")).toBe(true);
    expect(root.querySelector('.tam-case[data-case="q3"] .tam-tag-error')).not.toBeNull();
  });

  it("annotates with digits, f and the panel; shows the kernel's acknowledgement", () => {
    const { model, root } = mount({ case: "q2" });
    key(root, "2");
    const [a] = sentOf(model, "annotate");
    expect(a).toMatchObject({ type: "annotate", case: "q2", reason: "missed object" });
    expect(root.querySelector(".tam-ann-status")!.textContent).toBe("saving\u2026");
    const saved = note("q2", { reason: "missed object" });
    model.emit("msg:custom", { type: "annotate", request: a.request, case: "q2", annotation: saved });
    expect(root.querySelector(".tam-ann-status")!.textContent).toMatch(/^saved /);
    expect(root.querySelector(".tam-ann-chosen")!.textContent).toContain("missed object");
    key(root, "f");
    expect(sentOf(model, "annotate")[1]).toMatchObject({ flag: true });
    model.emit("msg:custom", { type: "annotate", request: sentOf(model, "annotate")[1].request, case: "q2", error: "not saved: disk full" });
    expect(root.querySelector(".tam-ann-error")!.textContent).toBe("not saved: disk full");
  });

  it("annotations synced in two parts (a batch of changes over the folded table) reach every view", () => {
    const { model, root } = mount({ case: "q4" });
    const reason = (r: ParentNode, id: string) => r.querySelector(`.tam-case[data-case="${id}"] .tam-tag-reason`)?.textContent;
    model.set("_notes_new", { q4: note("q4", { reason: "lack of knowledge", flag: true }) }); // a change from Python
    expect(reason(root, "q4")).toBe("lack of knowledge");
    expect(reason(root, "q2")).toBe("other"); // the folded table still shows
    expect(root.querySelector(".tam-ann-chosen")!.textContent).toContain("lack of knowledge");
    const el = document.createElement("div");
    document.body.appendChild(el);
    renderView(model, el); // displayed again (or reopened from saved widget state): the model holds both parts
    expect(el.querySelector('.tam-case[data-case="q4"] .tam-tag-flag')).not.toBeNull();
    expect(reason(el, "q2")).toBe("other");
    // the kernel folds the batch into the table: nothing changes on the page
    model.set("_notes", { q2: note("q2", { reason: "other" }), q4: note("q4", { reason: "lack of knowledge", flag: true }) });
    model.set("_notes_new", {});
    expect(reason(root, "q4")).toBe("lack of knowledge");
    expect(reason(el, "q4")).toBe("lack of knowledge");
    const failed = root.querySelector<HTMLSelectElement>("select.tam-f-reason")!;
    failed.value = "lack of knowledge";
    failed.dispatchEvent(new Event("change"));
    expect([...root.querySelectorAll<HTMLElement>(".tam-case")].map((e) => e.dataset.case)).toEqual(["q4"]);
  });

  it("j / k and the arrows move through the shown cases; typing in a field is left alone", () => {
    const { model, root } = mount({ case: "q4" });
    key(root, "j");
    expect(model.state.case).toBe("q5");
    key(root, "ArrowUp");
    key(root, "k");
    expect(model.state.case).toBe("q3");
    const input = root.querySelector<HTMLInputElement>(".tam-f-text")!;
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }));
    expect(model.state.case).toBe("q3");
  });

  it("adds a reason to the taxonomy", () => {
    const { model, root } = mount({ case: "q1" });
    root.querySelector<HTMLInputElement>(".tam-ann-add-input")!.value = "bad light";
    root.querySelector<HTMLFormElement>(".tam-ann-add")!.dispatchEvent(new Event("submit"));
    expect(model.state.reasons).toEqual(["lack of knowledge", "missed object", "other", "bad light"]);
    expect(root.querySelectorAll(".tam-ann-reason").length).toBe(4);
  });

  it("when the kernel goes: a banner, annotation disabled and saying so, pending requests end", () => {
    const { model, root } = mount({ case: "q1" });
    model.emit("comm:close");
    expect(root.querySelector(".tam-disconnected-banner")).not.toBeNull();
    expect(root.querySelector(".tam-ann-off")!.textContent).toContain("annotation is disabled");
    expect(root.querySelector(".tam-ci-error")!.textContent).toContain("went away");
    const n = model.sent.length;
    key(root, "1");
    expect(model.sent.length).toBe(n);
    expect(root.querySelector(".tam-ann-error")!.textContent).toContain("disabled");
  });

  it("reopened from saved widget state without a kernel: asks nothing, filters, says what needs the kernel", () => {
    const model = new FakeModel(boardState({ case: "q1", _records: [record("c0")],
      _notes_new: { q4: note("q4", { reason: "lack of knowledge" }) } }));
    const saved = document.createElement("div");
    saved.className = "jupyter-widgets-disconnected"; // how ipywidgets marks a view whose model has no comm
    const el = document.createElement("div");
    saved.appendChild(el);
    document.body.appendChild(saved);
    renderView(model, el);
    const root = el.querySelector<HTMLElement>(".tam-board")!;
    expect(root.querySelector(".tam-disconnected-banner")!.textContent).toContain("no kernel");
    expect(root.querySelector(".tam-ci-error")!.textContent).toContain("opening it needs the kernel");
    expect(root.querySelector('.tam-case[data-case="q4"] .tam-tag-reason')!.textContent).toBe("lack of knowledge");
    key(root, "k"); // to q0, whose record is in the saved state: its map
    expect(model.state.case).toBe("q0");
    expect(root.querySelectorAll(".tam-board-map .tam-tok").length).toBe(5);
    const sel = root.querySelector<HTMLSelectElement>("select.tam-f-reason")!;
    sel.value = "lack of knowledge";
    sel.dispatchEvent(new Event("change"));
    expect([...root.querySelectorAll<HTMLElement>(".tam-case")].map((e) => e.dataset.case)).toEqual(["q4"]);
    expect(model.sent).toEqual([]);
  });

  it("offline: everything comes from the document, nothing is sent, read-only", () => {
    const png = btoa(String.fromCharCode(137, 80, 78, 71));
    const { model, root } = mount({ _records: [record("c0")], _thumbs: { q0: ["image/png", png] }, read_only: true, case: "q0" });
    expect(root.querySelectorAll(".tam-board-map .tam-tok").length).toBe(5);
    expect(root.querySelector('.tam-case[data-case="q0"] img')).not.toBeNull();
    expect(root.querySelector('.tam-case[data-case="q1"] .tam-thumb-error')).not.toBeNull();
    key(root, "j");
    expect(model.state.case).toBe("q1");
    expect(root.querySelector(".tam-ci-note")!.textContent).toContain("no record of this case in this page");
    expect(root.querySelector(".tam-ann-off")!.textContent).toContain("read-only page");
    expect(model.sent).toEqual([]);
  });

  it("forwards only map rows to the token map and cleans up on destroy", () => {
    vi.useFakeTimers();
    const { model, root, destroy } = mount({ _records: [record("c0")], case: "q0" });
    model.emit("msg:custom", { type: "annotate", error: "x", record: "c0" }); // not the map's
    expect(root.querySelector(".tam-readout")!.textContent).not.toContain("refused");
    destroy();
    expect(document.querySelector(".tam-board")).toBeNull();
    vi.useRealTimers();
  });
});
