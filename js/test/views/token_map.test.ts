// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderView } from "../../src/views";
import { FakeModel, samplePayload, tokenMapState } from "../helpers";

function mount(record = samplePayload(), state: Record<string, unknown> = {}) {
  const model = new FakeModel({ ...tokenMapState(record), ...state });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const destroy = renderView(model, el);
  const root = el.querySelector<HTMLElement>(".tam-view")!;
  return { model, el, root, destroy };
}

const selected = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>(".tam-tok.tam-selected")].map((t) => Number(t.dataset.i));

afterEach(() => {
  vi.useRealTimers();
  document.body.textContent = "";
});

describe("TokenMapView", () => {
  it("starts on the first explained answer token and writes it back", () => {
    const { model, root } = mount();
    expect(selected(root)).toEqual([3]);
    expect(model.state.selected).toBe(3);
    expect(model.saves).toBe(1);
    expect(root.querySelector<HTMLSelectElement>("select.tam-method")!.value).toBe("tam");
    expect(root.querySelector<HTMLInputElement>("input.tam-opacity")!.value).toBe("0.55");
    expect(root.querySelector<HTMLElement>("canvas.tam-heat")!.style.opacity).toBe("0.55");
    expect(root.querySelector(".tam-ro-stats")!.textContent).toMatch(/^peak /);
  });

  it("changes from the model reach the components", () => {
    const { model, root } = mount();
    model.set("selected", 5);
    expect(selected(root)).toEqual([5]);
    model.set("method", "cam");
    expect(root.querySelector<HTMLSelectElement>("select.tam-method")!.value).toBe("cam");
    expect(root.querySelector(".tam-legend-text")!.textContent).toContain("CAM score");
    model.set("colormap", "inferno");
    expect(root.querySelector<HTMLSelectElement>("select.tam-cmap")!.value).toBe("inferno");
    model.set("opacity", 0.2);
    expect(root.querySelector<HTMLElement>("canvas.tam-heat")!.style.opacity).toBe("0.2");
    model.set("show_specials", true);
    expect(root.querySelector('.tam-tok.tam-special[data-i="0"]')).not.toBeNull();
    model.set("region", [0, 0, 0, 0, 2, 2]);
    expect(root.classList.contains("tam-region-mode")).toBe(true);
    expect(root.querySelector('.tam-tok[data-i="4"]')!.getAttribute("title")).toMatch(/% of its map inside the region$/);
    model.set("region", []);
    expect(root.classList.contains("tam-region-mode")).toBe(false);
  });

  it("events of the components reach the model", () => {
    const { model, root } = mount();
    root.querySelector<HTMLElement>('.tam-tok[data-i="4"]')!.click();
    expect(model.state.selected).toBe(4);
    const method = root.querySelector<HTMLSelectElement>("select.tam-method")!;
    method.value = "cam";
    method.dispatchEvent(new Event("change"));
    expect(model.state.method).toBe("cam");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(model.state.selected).toBe(5);
    model.set("region", [0, 0, 0, 0, 2, 2]);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.state.region).toEqual([]);
    expect(root.classList.contains("tam-region-mode")).toBe(false);
  });

  it("asks for rows with request and record ids, and matches the reply by both", () => {
    const rec = samplePayload({ onDemand: true, chunk: 3 });
    const { model, root } = mount(rec);
    expect(root.classList.contains("tam-loading")).toBe(true);
    const [req] = model.sent;
    expect(req).toMatchObject({ type: "maps", record: "r0", method: "tam", start: 0, stop: 3 });
    const rows = new DataView(rec.raw.tam.buffer);
    model.emit("msg:custom", { ...req, record: "r1" }, [rows]); // another record's rows never land here
    expect(root.classList.contains("tam-loading")).toBe(true);
    model.emit("msg:custom", { ...req, request: req.request + 1 }, [rows]); // nor a reply to another request
    expect(root.classList.contains("tam-loading")).toBe(true);
    model.emit("msg:custom", req, [rows]);
    expect(root.classList.contains("tam-loading")).toBe(false);
    expect(root.querySelector(".tam-ro-stats")!.textContent).toMatch(/^peak /);
  });

  it("a row request without an answer turns into an error in the readout", () => {
    vi.useFakeTimers();
    const { root } = mount(samplePayload({ onDemand: true }));
    expect(root.querySelector(".tam-loading-text")).not.toBeNull();
    vi.advanceTimersByTime(15_001);
    const err = root.querySelector(".tam-readout .tam-ro-err")!.textContent;
    expect(err).toMatch(/^no answer from the kernel within 15 s/);
    expect(err).toContain("the kernel may be gone");
  });

  it("shows the kernel's refusals; destroy removes the view and its listeners", () => {
    const { model, root, destroy, el } = mount();
    const before = model.listeners();
    model.emit("msg:custom", { type: "error", error: "refused: a test" }, []);
    expect(root.querySelector(".tam-ro-err")!.textContent).toBe("the kernel refused a message: refused: a test");
    destroy();
    expect(el.querySelector(".tam-view")).toBeNull();
    expect(before).toBeGreaterThan(0);
    expect(model.listeners()).toBe(0);
  });

  it("kernel loss: a banner, what was loaded stays, the rest says it is unavailable at once", () => {
    const rec = samplePayload({ onDemand: true, chunk: 2 });
    const { model, root } = mount(rec);
    const [req] = model.sent;
    const rows = rec.raw.tam.subarray(0, 2 * 4);
    model.emit("msg:custom", req, [new DataView(rows.buffer, rows.byteOffset, rows.byteLength)]); // rows 0-1 of tam
    expect(root.querySelector(".tam-disconnected-banner")).toBeNull();
    const sent = model.sent.length;
    model.emit("comm:close");
    const banner = root.querySelector(".tam-disconnected-banner")!;
    expect(banner.textContent).toMatch(/^kernel disconnected: showing what was loaded/);
    expect(root.classList.contains("tam-disconnected")).toBe(true);
    expect(root.querySelector(".tam-ro-stats")!.textContent).toMatch(/^peak /); // the pinned row was loaded
    root.querySelector<HTMLElement>('.tam-tok[data-i="5"]')!.click(); // row 2: never loaded
    expect(model.state.selected).toBe(5);
    expect(root.querySelector(".tam-ro-err")!.textContent).toMatch(/^not loaded before the kernel went away/);
    expect(model.sent.length).toBe(sent); // nothing more is asked of a kernel that is gone
    const opts = [...root.querySelector<HTMLSelectElement>("select.tam-method")!.options];
    expect(opts.filter((o) => o.disabled).map((o) => o.value)).toEqual(opts.map((o) => o.value).filter((v) => v !== "tam"));
    model.emit("comm:close"); // once is enough
    expect(root.querySelectorAll(".tam-disconnected-banner")).toHaveLength(1);
  });

  it("kernel loss from JupyterLab's kernel status, and a view opened without a live comm", () => {
    const slots: ((s: unknown, v: string) => void)[] = [];
    const signal = { connect: (f: any) => slots.push(f), disconnect: (f: any) => slots.splice(slots.indexOf(f), 1) };
    const model = new FakeModel(tokenMapState(samplePayload()));
    (model as any).widget_manager = { kernel: { status: "idle", statusChanged: signal } };
    const el = document.createElement("div");
    document.body.appendChild(el);
    const destroy = renderView(model, el);
    expect(el.querySelector(".tam-disconnected-banner")).toBeNull();
    slots[0](null, "busy");
    expect(el.querySelector(".tam-disconnected-banner")).toBeNull();
    slots[0](null, "restarting");
    expect(el.querySelector(".tam-disconnected-banner")!.textContent).toContain("the kernel is restarting");
    expect(slots).toHaveLength(0); // stops watching once lost
    destroy();
    // ipywidgets marks the element of a model without a live comm (saved widget state, no kernel)
    const host = document.createElement("div");
    host.className = "jupyter-widgets-disconnected";
    document.body.appendChild(host);
    renderView(new FakeModel(tokenMapState(samplePayload())), host);
    expect(host.querySelector(".tam-disconnected-banner")!.textContent).toContain("no kernel");
    expect(host.querySelector(".tam-ro-stats")!.textContent).toMatch(/^peak /); // inline maps still show
  });

  it("kernel loss from ipywidgets' comm_live_update (the element marked disconnected)", async () => {
    const { model, el, root } = mount();
    model.emit("comm_live_update"); // still live: nothing happens
    await Promise.resolve();
    expect(root.querySelector(".tam-disconnected-banner")).toBeNull();
    el.classList.add("jupyter-widgets-disconnected");
    model.emit("comm_live_update");
    await Promise.resolve();
    expect(root.querySelector(".tam-disconnected-banner")!.textContent).toContain("no longer connected");
  });

  it("an unknown view says so", () => {
    const model = new FakeModel({ ...tokenMapState(), _view: "nope" });
    const el = document.createElement("div");
    renderView(model, el);
    expect(el.textContent).toContain('no view "nope"');
  });
});
