// The case board's annotation panel: a reason from the taxonomy (numbered: digits pick them),
// a note, a flag, the token the reason is about, the suggested reasons with their evidence (shown
// as suggestions, never as the annotation), a line saying whether the change is saved, and a field
// to add a reason to the taxonomy. Emits changes; the view sends them and reports the kernel's ack.

import type { Note, Suggestion } from "../cases";
import { h } from "../dom";

export interface AnnotationChange {
  reason?: string | null;
  note?: string;
  flag?: boolean;
  token?: number | null;
}

export interface AnnotationCallbacks {
  onChange(change: AnnotationChange): void;
  onAddReason(reason: string): void;
}

/** The digit key of the k-th reason (1..9, then 0 for the 10th), or "" past ten. */
export const reasonKey = (k: number): string => (k < 9 ? String(k + 1) : k === 9 ? "0" : "");

export class AnnotationPanel {
  readonly root: HTMLElement;
  private reasonBox = h("div", "tam-ann-reasons");
  private note: HTMLTextAreaElement;
  private flag: HTMLInputElement;
  private tokenLine = h("div", "tam-ann-token");
  private tokenButton: HTMLButtonElement;
  private clearToken: HTMLButtonElement;
  private suggestBox = h("div", "tam-ann-suggestions");
  private status = h("div", "tam-ann-status");
  private off = h("div", "tam-ann-off");
  private addInput: HTMLInputElement;
  private reasons: readonly string[] = [];
  private current: Note | null = null;
  /** the token the page has pinned (offered as the annotation's token) and its label */
  private pinned: { index: number; label: string } | null = null;
  private disabled = false;

  constructor(private cb: AnnotationCallbacks) {
    this.root = h("div", "tam-ann");
    this.root.appendChild(h("div", "tam-ann-head", "Why did it fail?"));
    this.note = h("textarea", "tam-ann-note");
    this.note.rows = 2;
    this.note.placeholder = "note (saved when you leave the field)";
    this.note.setAttribute("aria-label", "note");
    this.note.addEventListener("change", () => cb.onChange({ note: this.note.value }));
    const flagLabel = h("label", "tam-ann-flag");
    this.flag = h("input");
    this.flag.type = "checkbox";
    this.flag.addEventListener("change", () => cb.onChange({ flag: this.flag.checked }));
    flagLabel.append(this.flag, document.createTextNode(" \u2691 flag (f)"));
    this.tokenButton = h("button", "tam-ann-use-token", "use pinned token");
    this.tokenButton.type = "button";
    this.tokenButton.addEventListener("click", () => this.pinned && cb.onChange({ token: this.pinned.index }));
    this.clearToken = h("button", "tam-ann-clear-token", "clear");
    this.clearToken.type = "button";
    this.clearToken.addEventListener("click", () => cb.onChange({ token: null }));
    const tokenRow = h("div", "tam-ann-token-row");
    tokenRow.append(this.tokenLine, this.tokenButton, this.clearToken);
    const add = h("form", "tam-ann-add");
    this.addInput = h("input", "tam-ann-add-input");
    this.addInput.placeholder = "add a reason to the list";
    this.addInput.setAttribute("aria-label", "new reason");
    const addBtn = h("button", undefined, "add");
    addBtn.type = "submit";
    add.append(this.addInput, addBtn);
    add.addEventListener("submit", (e) => {
      e.preventDefault();
      const r = this.addInput.value.trim();
      if (r) cb.onAddReason(r);
      this.addInput.value = "";
    });
    this.off.hidden = true;
    this.off.setAttribute("role", "status");
    this.root.append(this.off, this.suggestBox, this.reasonBox, this.note, flagLabel, tokenRow, add, this.status);
  }

  setReasons(reasons: readonly string[]): void {
    this.reasons = reasons;
    this.renderReasons();
  }

  /** Show a case's annotation (null: none yet) and its suggestions. */
  show(note: Note | null, suggestions: readonly Suggestion[], tokenLabel: (i: number) => string): void {
    const same = this.current?.case_id === note?.case_id;
    this.current = note;
    if (!same || document.activeElement !== this.note) this.note.value = note?.note ?? "";
    this.flag.checked = !!note?.flag;
    this.tokenLine.textContent = note?.token != null ? `about token ${tokenLabel(note.token)}` : "about no particular token";
    this.clearToken.hidden = note?.token == null;
    this.renderReasons();
    this.suggestBox.textContent = "";
    for (const s of suggestions) {
      const item = h("div", "tam-suggestion");
      item.append(h("span", "tam-suggestion-mark", "suggested: "), h("strong", undefined, s.reason));
      const ev = h("div", "tam-suggestion-evidence", s.evidence);
      const use = h("button", "tam-suggestion-use", "use this reason");
      use.type = "button";
      use.disabled = this.disabled || !this.reasons.includes(s.reason);
      use.addEventListener("click", () =>
        this.cb.onChange(s.token !== undefined ? { reason: s.reason, token: s.token } : { reason: s.reason }));
      item.append(ev, use);
      this.suggestBox.appendChild(item);
    }
  }

  /** The token pinned in the map (offered by "use pinned token"), or null. */
  setPinned(pinned: { index: number; label: string } | null): void {
    this.pinned = pinned;
    this.tokenButton.disabled = this.disabled || !pinned;
    this.tokenButton.textContent = pinned ? `use pinned token ${pinned.label}` : "use pinned token";
  }

  /** Saving state: "saving", "saved" (with the time), or an error message. */
  setStatus(kind: "saving" | "saved" | "error" | "", text = ""): void {
    this.status.className = `tam-ann-status${kind ? ` tam-ann-${kind}` : ""}`;
    this.status.textContent = text || (kind === "saving" ? "saving\u2026" : "");
  }

  /** Turn annotation off (`why` says so) or back on (null). */
  setDisabled(why: string | null): void {
    this.disabled = why !== null;
    this.off.hidden = !why;
    this.off.textContent = why ?? "";
    this.root.classList.toggle("tam-ann-disabled", this.disabled);
    for (const el of this.root.querySelectorAll<HTMLInputElement | HTMLButtonElement | HTMLTextAreaElement>("input, button, textarea"))
      el.disabled = this.disabled;
    this.setPinned(this.pinned);
  }

  /** The k-th reason (digit keys), or undefined. */
  reason(k: number): string | undefined {
    return this.reasons[k];
  }

  get flagged(): boolean {
    return this.flag.checked;
  }

  private renderReasons(): void {
    this.reasonBox.textContent = "";
    this.reasons.forEach((r, k) => {
      const b = h("button", "tam-ann-reason");
      b.type = "button";
      const key = reasonKey(k);
      if (key) b.appendChild(h("kbd", undefined, key));
      b.appendChild(document.createTextNode(r));
      b.dataset.reason = r;
      b.setAttribute("aria-pressed", String(this.current?.reason === r));
      if (this.current?.reason === r) b.classList.add("tam-ann-chosen");
      b.disabled = this.disabled;
      b.addEventListener("click", () => this.cb.onChange({ reason: this.current?.reason === r ? null : r }));
      this.reasonBox.appendChild(b);
    });
  }
}
