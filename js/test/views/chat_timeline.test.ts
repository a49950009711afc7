// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { renderView } from "../../src/views";
import { FakeModel } from "../helpers";
import { chatPayload, grownPayload, timelineState } from "./chat_timeline_fixture";

function mount(records: unknown[] = [chatPayload()], extra: Record<string, unknown> = {}) {
  const model = new FakeModel(timelineState(records, extra));
  const el = document.createElement("div");
  document.body.appendChild(el);
  const destroy = renderView(model, el);
  const root = el.querySelector<HTMLElement>(".tam-view")!;
  return { model, el, root, destroy };
}

const pinned = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>(".tam-tok.tam-selected")].map((t) => Number(t.dataset.i));
const notYet = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>(".tam-panel.tam-notyet")].map((p) => Number(p.dataset.grid));
/** Wait until the words are recoloured (the frame after the map's). */
const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))));
const key = (root: HTMLElement, k: string) => root.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));

afterEach(() => {
  document.body.textContent = "";
});

describe("ChatTimelineView", () => {
  it("shows every turn, starts on the first answer token and hides pictures added later", () => {
    const { model, root } = mount();
    expect(root.classList.contains("tam-timeline")).toBe(true);
    expect(root.querySelectorAll(".tam-turn").length).toBe(2);
    expect(root.querySelectorAll(".tam-turn canvas.tam-spark").length).toBe(2);
    expect(root.querySelector(".tam-ask")).toBeNull();
    expect(pinned(root)).toEqual([3]);
    expect(model.state.selected).toBe(3);
    expect(notYet(root)).toEqual([1]);
    expect(root.querySelector('.tam-panel[data-grid="1"] .tam-notyet-note')!.textContent).toBe("not yet in the conversation");
  });

  it("a click on a later turn's token shows both pictures and colours earlier turns' words", async () => {
    const { model, root } = mount();
    root.querySelector<HTMLElement>('.tam-tok[data-i="8"]')!.click();
    expect(model.state.selected).toBe(8);
    expect(notYet(root)).toEqual([]); // the map at once
    expect(pinned(root)).toEqual([3]); // the words one frame later
    await frames();
    expect(pinned(root)).toEqual([8]);
    expect(root.querySelector('.tam-tok[data-i="4"]')!.classList.contains("tam-heated")).toBe(true); // turn 0
    expect(root.querySelector('.tam-tok[data-i="9"]')!.classList.contains("tam-later")).toBe(true);
    model.set("selected", 4); // from Python
    expect(pinned(root)).toEqual([4]);
    expect(notYet(root)).toEqual([1]);
  });

  it("keys move between tokens (left/right) and turns (up/down)", () => {
    const { model, root } = mount();
    key(root, "ArrowDown");
    expect(model.state.selected).toBe(8);
    key(root, "ArrowRight");
    expect(model.state.selected).toBe(9);
    key(root, "ArrowUp");
    expect(model.state.selected).toBe(4); // the same place in the previous turn
    key(root, "ArrowUp"); // no turn before the first
    expect(model.state.selected).toBe(4);
    key(root, "ArrowRight");
    expect(model.state.selected).toBe(8);
    key(root, "Home");
    expect(model.state.selected).toBe(3);
  });

  it("switches of method and colours reach the model; a record without grid turns shows every picture", () => {
    const { model, root } = mount([chatPayload({ gridTurns: false })]);
    expect(notYet(root)).toEqual([]);
    const method = root.querySelector<HTMLSelectElement>("select.tam-method")!;
    method.value = "cam";
    method.dispatchEvent(new Event("change"));
    expect(model.state.method).toBe("cam");
    model.set("colormap", "viridis");
    expect(root.querySelector<HTMLSelectElement>("select.tam-cmap")!.value).toBe("viridis");
  });
});

describe("ChatTimelineView, live", () => {
  it("before the first turn: only the question box; Enter sends the question to the kernel", () => {
    const { model, root } = mount([], { live: true });
    expect(root.querySelector(".tam-tl-empty")!.textContent).toContain("ask the model");
    const input = root.querySelector<HTMLInputElement>("input.tam-ask-input")!;
    input.value = "Describe the image.";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sent).toEqual([{ type: "ask", text: "Describe the image." }]);
  });

  it("follows the newest token while the model writes, then writes the pinned token back", () => {
    const { model, root } = mount([chatPayload()], { live: true });
    const box = root.querySelector(".tam-ask")!;
    expect(box.parentElement!.classList.contains("tam-tl-turns")).toBe(true); // under the last turn
    model.set("busy", true);
    expect(root.querySelector<HTMLButtonElement>("button.tam-ask-stop")!.disabled).toBe(false);
    root.querySelector<HTMLButtonElement>("button.tam-ask-stop")!.click();
    expect(model.sent[model.sent.length - 1]).toEqual({ type: "stop" });
    const saves = model.saves;
    const grown = chatPayload();
    grown.meta.title = "test/chat (grown)"; // a pushed record (the growing turn)
    model.set("_records", [grown]);
    const newest = grown.meta.explained[grown.meta.explained.length - 1];
    expect(pinned(root)).toEqual([newest]);
    expect(model.saves).toBe(saves); // nothing written back while following
    model.set("busy", false);
    expect(model.state.selected).toBe(newest);
  });

  it("keeps one question box across pushed records: a failed question comes back", () => {
    const { model, el } = mount([chatPayload()], { live: true });
    const input = () => el.querySelector<HTMLInputElement>("input.tam-ask-input")!;
    input().value = "Which dog is fatter?";
    input().dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    model.set("busy", true);
    const rolled = chatPayload();
    rolled.meta.title = "rolled back";
    model.set("_records", [rolled]); // the conversation as it was before the failed turn
    model.set("error", "MemoryError: CUDA out of memory");
    model.set("busy", false);
    expect(input().value).toBe("Which dog is fatter?");
    expect(el.querySelectorAll(".tam-ask").length).toBe(1);
  });

  it("shows a failed turn's error and the kernel's refusals", () => {
    const { model, el } = mount([chatPayload()], { live: true });
    model.set("error", "MemoryError: CUDA out of memory");
    const status = () => el.querySelector(".tam-ask-status")!;
    expect(status().textContent).toBe("MemoryError: CUDA out of memory");
    expect(status().classList.contains("tam-ask-error")).toBe(true);
    model.emit("msg:custom", { type: "ask", error: "the model is still answering: wait for it or press Stop" });
    expect(status().textContent).toContain("still answering");
  });

  it("disables the question box when the kernel goes away", () => {
    const { model, el } = mount([chatPayload()], { live: true });
    model.emit("comm:close");
    expect(el.querySelector(".tam-disconnected-banner")).not.toBeNull();
    expect(el.querySelector<HTMLInputElement>("input.tam-ask-input")!.disabled).toBe(true);
    expect(el.querySelector(".tam-ask-status")!.textContent).toMatch(/^cannot ask: the kernel is gone/);
    const again = chatPayload();
    again.meta.title = "again";
    model.set("_records", [again]); // a rebuild keeps the banner and the dead box
    expect(el.querySelectorAll(".tam-disconnected-banner").length).toBe(1);
    expect(el.querySelector<HTMLInputElement>("input.tam-ask-input")!.disabled).toBe(true);
  });
});

describe("ImageCache.adopt", () => {
  it("keeps the decoded pictures whose bytes did not change", async () => {
    const { ImageCache } = await import("../../src/images");
    const meta = { images: [{ width: 1, height: 1, mime: "image/png" }, { width: 1, height: 1, mime: "image/png" }] };
    const old = new ImageCache([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])], meta);
    const a = old.get(0);
    const b = old.get(1);
    const next = new ImageCache([new Uint8Array([1, 2, 3]), new Uint8Array([4, 6])], meta);
    next.adopt(old);
    expect(next.get(0)).toBe(a); // the same picture: decoded once
    expect(next.get(1)).not.toBe(b); // another picture at that place: decoded anew
  });
});

describe("ChatTimelineView, a turn being written", () => {
  /** What a researcher sees of the turns: every strip's tokens and classes, every sparkline's values. */
  const looks = (root: HTMLElement) => ({
    turns: [...root.querySelectorAll<HTMLElement>(".tam-turn")].map((t) =>
      t.outerHTML.replace(/<div class="tam-hoverbox"[^>]*>/g, "<hoverbox>")), // where the pointer went last
    sparks: [...root.querySelectorAll<HTMLElement>("canvas.tam-spark")].map((c) => c.getAttribute("aria-label")),
    readout: root.querySelector(".tam-tl-side")!.textContent,
  });

  it("adds each push's tokens and rows without building again, and ends as the whole record built at once", async () => {
    const { full, part, pushes } = grownPayload(3);
    const { model, root } = mount([part], { live: true });
    model.set("busy", true); // a turn is being written: the page follows it
    expect(root.dataset.builds).toBe("1");
    expect(root.querySelectorAll('.tam-turn[data-turn="1"] .tam-tok.tam-explained').length).toBe(1);
    for (const { msg, buffers } of pushes) model.emit("msg:custom", msg, buffers);
    expect(root.dataset.builds).toBe("1");
    expect(root.dataset.appends).toBe(String(pushes.length));
    expect(pinned(root)).toEqual([9]); // it follows the newest token
    model.set("_records", [full]); // the end of the turn: the record the page holds already
    expect(root.dataset.builds).toBe("1");
    model.set("busy", false);
    await frames();
    const whole = mount([full], { live: true, selected: 9 }).root;
    await frames();
    expect(looks(root)).toEqual(looks(whole));
    // the appended row is a row like any other: a click on an earlier token and back repaints from it
    root.querySelector<HTMLElement>('.tam-tok[data-i="3"]')!.click();
    root.querySelector<HTMLElement>('.tam-tok[data-i="9"]')!.click();
    await frames();
    expect(looks(root)).toEqual(looks(whole));
    expect(model.sent.filter((m) => m.type === "resync")).toEqual([]);
  });

  it("asks once for the whole record when a push is missing, and takes it", () => {
    const { full, part, pushes } = grownPayload(2);
    const { model, root } = mount([part], { live: true, busy: true });
    model.emit("msg:custom", { ...pushes[1].msg, seq: pushes[1].msg.seq }, pushes[1].buffers); // push 1 was lost
    model.emit("msg:custom", pushes[1].msg, pushes[1].buffers);
    const asked = model.sent.filter((m) => m.type === "resync");
    expect(asked).toEqual([{ type: "resync", record: "r0", have: 1, why: "push 3 after push 1" }]);
    expect(root.dataset.appends).toBeUndefined(); // nothing was added
    model.set("_records", [{ ...full, seq: 9 }]);
    expect(root.dataset.builds).toBe("2");
    expect(root.querySelectorAll(".tam-tok.tam-explained").length).toBe(4);
  });

  it("asks for the whole record for a push of another turn's tokens or of the wrong size", () => {
    const { part, pushes } = grownPayload(2); // push 1 starts the next turn: a page builds a new turn whole
    const { model } = mount([part], { live: true, busy: true });
    model.emit("msg:custom", pushes[0].msg, pushes[0].buffers);
    expect(model.sent.filter((m) => m.type === "resync").map((m) => m.why)).toEqual(["tokens of another turn"]);
    const other = grownPayload(3);
    const view = mount([other.part], { live: true, busy: true });
    view.model.emit("msg:custom", other.pushes[0].msg, other.pushes[0].buffers.slice(1));
    expect(view.model.sent.filter((m) => m.type === "resync").map((m) => m.why)).toEqual(["3 buffers for 2 methods"]);
  });
});
