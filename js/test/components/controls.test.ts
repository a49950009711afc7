// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { Controls } from "../../src/components/controls";

function controls(playable = false) {
  const o = {
    title: "rec", methods: [{ name: "tam", label: "TAM" }, { name: "cam", label: "" }], playable,
    onMethod: vi.fn(), onColormap: vi.fn(), onOpacity: vi.fn(), onSpecials: vi.fn(), onPlay: vi.fn(), onSave: vi.fn(),
  };
  const c = new Controls(o);
  document.body.appendChild(c.root);
  return { c, o };
}

describe("Controls", () => {
  it("renders the hooks; the play button only for videos", () => {
    const { c } = controls();
    for (const sel of ["select.tam-method", "select.tam-cmap", "input.tam-opacity", "input.tam-specials", "button.tam-save"]) {
      expect(c.root.querySelector(sel), sel).not.toBeNull();
    }
    expect(c.root.querySelector(".tam-title")!.textContent).toBe("rec");
    expect([...c.method.options].map((o) => o.textContent)).toEqual(["TAM", "cam"]);
    expect(c.root.querySelector("button.tam-play")).toBeNull();
    expect(controls(true).c.root.querySelector("button.tam-play")).not.toBeNull();
  });

  it("reports the user's changes", () => {
    const { c, o } = controls(true);
    c.method.value = "cam";
    c.method.dispatchEvent(new Event("change"));
    expect(o.onMethod).toHaveBeenCalledWith("cam");
    c.colormap.value = "inferno";
    c.colormap.dispatchEvent(new Event("change"));
    expect(o.onColormap).toHaveBeenCalledWith("inferno");
    c.opacity.value = "0.3";
    c.opacity.dispatchEvent(new Event("input"));
    expect(o.onOpacity).toHaveBeenCalledWith(0.3);
    c.specials.checked = true;
    c.specials.dispatchEvent(new Event("change"));
    expect(o.onSpecials).toHaveBeenCalledWith(true);
    c.play!.click();
    c.save.click();
    expect([o.onPlay.mock.calls.length, o.onSave.mock.calls.length]).toEqual([1, 1]);
  });

  it("shows the values it is given", () => {
    const { c, o } = controls(true);
    c.setMethod("cam");
    c.setColormap("viridis");
    c.setOpacity(0.25);
    c.setSpecials(true);
    c.setPlaying(true);
    expect([c.method.value, c.colormap.value, c.opacity.value, c.specials.checked]).toEqual(["cam", "viridis", "0.25", true]);
    expect(c.play!.classList.contains("tam-playing")).toBe(true);
    c.setPlaying(false);
    expect(c.play!.textContent).toBe("\u25b6 play");
    expect(o.onMethod).not.toHaveBeenCalled(); // setting a value is not a user change
  });

  it("keeps play and save together at the end; the method picker's tooltip is the shown label", () => {
    const { c } = controls(true);
    const actions = c.root.lastElementChild!;
    expect(actions.className).toBe("tam-actions");
    expect([...actions.children].map((e) => e.className)).toEqual(["tam-play", "tam-save"]);
    expect(c.method.title).toBe("TAM");
    c.setMethod("cam");
    expect(c.method.title).toBe("cam");
  });
});
