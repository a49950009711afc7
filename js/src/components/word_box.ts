// The comparison's word bar: a text box to look a word up in every answer, the colour-scale switch
// (each map in its own range, or one range for all panels) and a one-line message.

import { h } from "../dom";

export interface WordBoxEvents {
  /** the user typed `text` and pressed Enter (or left the box after editing) */
  onQuery(text: string): void;
  /** the scale switch changed ("own" or "shared") */
  onScale(scale: string): void;
}

/** [value, text] of the scale switch's options (the values are the `scale` attribute's). */
export const SCALE_OPTIONS: [string, string][] = [
  ["own", "own range per model"],
  ["shared", "one shared range"],
];

export class WordBox {
  readonly root: HTMLElement;
  readonly input: HTMLInputElement;
  readonly scale: HTMLSelectElement;
  readonly note: HTMLElement;

  constructor(ev: WordBoxEvents) {
    this.root = h("div", "tam-bar tam-wordbar");
    const label = h("label", "tam-ctl");
    label.appendChild(h("span", undefined, "word"));
    const input = (this.input = h("input", "tam-word-query"));
    input.type = "search";
    input.placeholder = "type a word, e.g. dog";
    input.setAttribute("aria-label", "show every model's map for this word");
    input.spellcheck = false;
    let sent = "";
    const send = () => {
      if (input.value === sent) return;
      sent = input.value;
      ev.onQuery(input.value);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        sent = "\u0000"; // Enter always looks the word up again
        send();
      }
      e.stopPropagation(); // typing never moves the pinned word
    });
    input.addEventListener("change", send);
    label.appendChild(input);
    const sLabel = h("label", "tam-ctl");
    sLabel.appendChild(h("span", undefined, "colour scale"));
    const sel = (this.scale = h("select", "tam-scale"));
    for (const [v, text] of SCALE_OPTIONS) {
      const o = h("option", undefined, text);
      o.value = v;
      sel.appendChild(o);
    }
    sel.title = "own: each model's map stretched over its own range; shared: every panel on one range";
    sel.addEventListener("change", () => ev.onScale(sel.value));
    sLabel.appendChild(sel);
    this.note = h("span", "tam-word-note");
    this.note.setAttribute("role", "status");
    this.root.append(label, sLabel, this.note);
  }

  setQuery(text: string): void {
    if (this.input.value !== text && document.activeElement !== this.input) this.input.value = text;
  }

  setScale(scale: string): void {
    if (this.scale.value !== scale) this.scale.value = scale;
  }

  /** A one-line message (`error`: styled as one); "" clears it. */
  message(text: string, error = false): void {
    if (this.note.textContent !== text) this.note.textContent = text;
    this.note.title = text;
    this.note.classList.toggle("tam-ro-err", error);
  }
}
