// The question box under a live chat's last turn: a text input (Enter asks), Send, Stop, and a status
// line (writing, the last turn's error, a disconnected kernel).

import { h } from "../dom";

export interface AskEvents {
  /** the user asked `text` (non-empty, trimmed) */
  onAsk(text: string): void;
  /** the user pressed Stop */
  onStop(): void;
}

export class AskBox {
  readonly root: HTMLElement;
  readonly input: HTMLInputElement;
  readonly send: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
  readonly status: HTMLElement;
  private busy = false;
  private gone: string | null = null;
  /** the last question sent (back in the input when its turn fails) */
  private asked = "";

  constructor(private ev: AskEvents) {
    this.root = h("div", "tam-ask");
    const input = (this.input = h("input", "tam-ask-input"));
    input.type = "text";
    input.placeholder = "Ask a follow-up question and press Enter";
    input.setAttribute("aria-label", "question to the model");
    this.send = h("button", "tam-ask-send", "Send");
    this.send.type = "button";
    this.stop = h("button", "tam-ask-stop", "\u25a0 Stop");
    this.stop.type = "button";
    this.stop.title = "end the answer at the next token (what was written is kept)";
    this.status = h("div", "tam-ask-status");
    this.status.setAttribute("role", "status");
    const row = h("div", "tam-ask-row");
    row.append(input, this.send, this.stop);
    this.root.append(row, this.status);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
      e.stopPropagation(); // typing is not navigation
    });
    this.send.addEventListener("click", () => this.submit());
    this.stop.addEventListener("click", () => !this.gone && this.busy && this.ev.onStop());
    this.update();
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text || this.busy || this.gone) return;
    this.input.value = "";
    this.asked = text;
    this.setBusy(true);
    this.say("asking\u2026", "");
    this.ev.onAsk(text);
  }

  /** A turn is (or is no longer) being written. */
  setBusy(on: boolean): void {
    this.busy = on;
    // the turn ended well (its error, if any, comes before the end): the question is answered
    if (!on && !this.status.classList.contains("tam-ask-error")) this.asked = "";
    if (on && !this.status.classList.contains("tam-ask-error")) this.say("the model is writing\u2026", "");
    else if (!on && !this.status.classList.contains("tam-ask-error") && !this.gone) this.say("", "");
    this.update();
  }

  /** Show why the last turn failed ("" clears it); the failed question comes back into the empty input. */
  setError(text: string): void {
    if (text) {
      this.say(text, "tam-ask-error");
      if (!this.input.value && this.asked) this.input.value = this.asked;
      this.asked = "";
    }
    else if (this.status.classList.contains("tam-ask-error")) this.say(this.busy ? "the model is writing\u2026" : "", "");
  }

  /** The kernel is gone: nothing can be asked any more. */
  disable(reason: string): void {
    this.gone = reason;
    this.busy = false;
    this.say(`cannot ask: ${reason}`, "tam-ask-error");
    this.update();
  }

  private say(text: string, cls: string): void {
    this.status.textContent = text;
    this.status.className = cls ? `tam-ask-status ${cls}` : "tam-ask-status";
  }

  private update(): void {
    const off = !!this.gone;
    this.input.disabled = off || this.busy;
    this.send.disabled = off || this.busy;
    this.stop.disabled = off || !this.busy;
    this.root.classList.toggle("tam-busy", this.busy);
  }
}
