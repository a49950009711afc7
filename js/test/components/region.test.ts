// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { RegionTool } from "../../src/components/region";

function tool() {
  const stage = document.createElement("div");
  const surface = document.createElement("canvas");
  surface.width = 200;
  surface.height = 100;
  surface.getBoundingClientRect = () => ({ left: 0, top: 0, width: 400, height: 200 }) as DOMRect;
  const rbox = document.createElement("div");
  stage.append(surface, rbox);
  document.body.appendChild(stage);
  const ev = { onStart: vi.fn(), onBox: vi.fn(), onCancel: vi.fn() };
  return { t: new RegionTool(stage, surface, rbox, ev), stage, rbox, ev };
}

const pointer = (type: string, x: number, y: number) =>
  new MouseEvent(type, { clientX: x, clientY: y, button: 0, bubbles: true }) as unknown as PointerEvent;

describe("RegionTool", () => {
  it("turns a drag into a box in the picture's pixels", () => {
    const { stage, rbox, ev } = tool();
    stage.dispatchEvent(pointer("pointerdown", 40, 20));
    expect(ev.onStart).toHaveBeenCalled();
    stage.dispatchEvent(pointer("pointermove", 120, 100));
    expect(rbox.classList.contains("tam-on")).toBe(true);
    stage.dispatchEvent(pointer("pointerup", 120, 100));
    expect(ev.onBox).toHaveBeenCalledWith([20, 10, 60, 50]);
  });

  it("a click or a tiny drag is no region", () => {
    const { stage, t, ev } = tool();
    stage.dispatchEvent(pointer("pointerdown", 40, 20));
    stage.dispatchEvent(pointer("pointerup", 40, 20));
    expect(ev.onBox).not.toHaveBeenCalled();
    stage.dispatchEvent(pointer("pointerdown", 40, 20));
    expect(t.dragging).toBe(true);
    stage.dispatchEvent(pointer("pointermove", 41, 26));
    stage.dispatchEvent(pointer("pointerup", 41, 26));
    expect(ev.onCancel).toHaveBeenCalled();
    expect(ev.onBox).not.toHaveBeenCalled();
  });

  it("shows and hides a box; cancel drops a drag", () => {
    const { t, rbox, stage } = tool();
    t.show([150, 80, 50, 20]);
    expect([rbox.style.left, rbox.style.top, rbox.style.width, rbox.style.height]).toEqual(["25%", "20%", "50%", "60%"]);
    t.hide();
    expect(rbox.classList.contains("tam-on")).toBe(false);
    stage.dispatchEvent(pointer("pointerdown", 40, 20));
    expect(t.cancel()).toBe(true);
    expect(t.cancel()).toBe(false);
  });
});
