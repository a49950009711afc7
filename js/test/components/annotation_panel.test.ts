// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { AnnotationPanel, reasonKey } from "../../src/components/annotation_panel";
import { note } from "../board_fixtures";

function make() {
  const cb = { onChange: vi.fn(), onAddReason: vi.fn() };
  const p = new AnnotationPanel(cb);
  document.body.appendChild(p.root);
  p.setReasons(["lack of knowledge", "missed object", "other"]);
  return { p, cb };
}

describe("AnnotationPanel", () => {
  it("numbers the reasons for the digit keys and marks the chosen one", () => {
    const { p } = make();
    p.show(note("q1", { reason: "missed object" }), [], String);
    const buttons = [...p.root.querySelectorAll<HTMLButtonElement>(".tam-ann-reason")];
    expect(buttons.map((b) => b.querySelector("kbd")!.textContent)).toEqual(["1", "2", "3"]);
    expect(buttons[1].classList.contains("tam-ann-chosen")).toBe(true);
    expect(p.reason(1)).toBe("missed object");
    expect([0, 8, 9, 10].map(reasonKey)).toEqual(["1", "9", "0", ""]);
  });

  it("emits reason (a second click clears it), note, flag and token changes", () => {
    const { p, cb } = make();
    p.show(note("q1", { reason: "other" }), [], String);
    p.root.querySelector<HTMLButtonElement>('[data-reason="lack of knowledge"]')!.click();
    expect(cb.onChange).toHaveBeenLastCalledWith({ reason: "lack of knowledge" });
    p.root.querySelector<HTMLButtonElement>('[data-reason="other"]')!.click();
    expect(cb.onChange).toHaveBeenLastCalledWith({ reason: null });
    const ta = p.root.querySelector<HTMLTextAreaElement>(".tam-ann-note")!;
    ta.value = "blurry";
    ta.dispatchEvent(new Event("change"));
    expect(cb.onChange).toHaveBeenLastCalledWith({ note: "blurry" });
    const flag = p.root.querySelector<HTMLInputElement>(".tam-ann-flag input")!;
    flag.checked = true;
    flag.dispatchEvent(new Event("change"));
    expect(cb.onChange).toHaveBeenLastCalledWith({ flag: true });
    p.setPinned({ index: 13, label: '" cat"' });
    p.root.querySelector<HTMLButtonElement>(".tam-ann-use-token")!.click();
    expect(cb.onChange).toHaveBeenLastCalledWith({ token: 13 });
  });

  it("shows suggestions with their evidence, apart from the annotation", () => {
    const { p, cb } = make();
    p.show(null, [{ reason: "missed object", evidence: "candidate ' case' rank 2", token: 14 }], String);
    const s = p.root.querySelector(".tam-suggestion")!;
    expect(s.textContent).toContain("suggested: missed object");
    expect(s.querySelector(".tam-suggestion-evidence")!.textContent).toBe("candidate ' case' rank 2");
    expect(p.root.querySelector(".tam-ann-chosen")).toBeNull(); // a suggestion is not an annotation
    s.querySelector<HTMLButtonElement>(".tam-suggestion-use")!.click();
    expect(cb.onChange).toHaveBeenLastCalledWith({ reason: "missed object", token: 14 });
  });

  it("disables everything and says why; reports the save state", () => {
    const { p, cb } = make();
    p.show(note("q1"), [], String);
    p.setDisabled("kernel disconnected: annotation is disabled");
    expect(p.root.querySelector(".tam-ann-off")!.textContent).toContain("annotation is disabled");
    expect([...p.root.querySelectorAll<HTMLButtonElement>("button")].every((b) => b.disabled)).toBe(true);
    p.setStatus("saving");
    expect(p.root.querySelector(".tam-ann-status")!.textContent).toBe("saving\u2026");
    p.setStatus("error", "not saved: x");
    expect(p.root.querySelector(".tam-ann-error")!.textContent).toBe("not saved: x");
    p.setDisabled(null);
    const form = p.root.querySelector<HTMLFormElement>(".tam-ann-add")!;
    p.root.querySelector<HTMLInputElement>(".tam-ann-add-input")!.value = " bad light ";
    form.dispatchEvent(new Event("submit"));
    expect(cb.onAddReason).toHaveBeenCalledWith("bad light");
  });
});
