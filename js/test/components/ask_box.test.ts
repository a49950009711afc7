// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { AskBox } from "../../src/components/ask_box";

function box() {
  const ev = { onAsk: vi.fn(), onStop: vi.fn() };
  const b = new AskBox(ev);
  document.body.appendChild(b.root);
  return { b, ev };
}

const enter = (el: HTMLElement) => el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));

describe("AskBox", () => {
  it("Enter asks the trimmed question, then the box waits for the answer", () => {
    const { b, ev } = box();
    expect(b.stop.disabled).toBe(true);
    enter(b.input); // nothing typed: nothing asked
    expect(ev.onAsk).not.toHaveBeenCalled();
    b.input.value = "  Which dog is fatter?  ";
    enter(b.input);
    expect(ev.onAsk).toHaveBeenCalledWith("Which dog is fatter?");
    expect(b.input.value).toBe("");
    expect(b.input.disabled && b.send.disabled).toBe(true);
    expect(b.stop.disabled).toBe(false);
    b.stop.click();
    expect(ev.onStop).toHaveBeenCalledTimes(1);
    b.setBusy(false);
    expect(b.input.disabled).toBe(false);
    expect(b.status.textContent).toBe("");
    b.setError("a later failure of an ask from Python");
    expect(b.input.value).toBe(""); // an answered question does not come back
  });

  it("shows a turn's error until the next turn, and goes dead with the kernel", () => {
    const { b, ev } = box();
    b.input.value = "Which dog?";
    b.send.click();
    b.setError("MemoryError: CUDA out of memory"); // the kernel says why before it says the turn ended
    b.setBusy(false);
    expect(b.input.value).toBe("Which dog?"); // the failed question comes back to be sent again
    expect(b.status.classList.contains("tam-ask-error")).toBe(true);
    expect(b.status.textContent).toContain("out of memory");
    b.setError("");
    expect(b.status.classList.contains("tam-ask-error")).toBe(false);
    b.disable("the kernel is gone; rerun the cell");
    expect(b.input.disabled && b.send.disabled && b.stop.disabled).toBe(true);
    expect(b.status.textContent).toBe("cannot ask: the kernel is gone; rerun the cell");
    b.input.value = "hello";
    b.send.click();
    expect(ev.onAsk).toHaveBeenCalledTimes(1); // only the question asked before the kernel went
  });
});
