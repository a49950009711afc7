// The case board's filter bar: correctness, reason, flag, question type, text search, sort order,
// and the count of cases shown. Emits the whole filter on every change.

import type { Filters } from "../cases";
import { NO_REASON } from "../cases";
import { h } from "../dom";

export interface CaseFiltersCallbacks {
  onFilters(f: Filters): void;
  onSort(sort: string): void;
}

function select(cls: string, label: string): HTMLSelectElement {
  const s = h("select", cls);
  s.setAttribute("aria-label", label);
  s.title = label;
  return s;
}

function fill(s: HTMLSelectElement, options: [string, string][]): void {
  const value = s.value;
  s.textContent = "";
  for (const [v, text] of options) {
    const o = h("option", undefined, text);
    o.value = v;
    s.appendChild(o);
  }
  if (options.some(([v]) => v === value)) s.value = value;
}

export class CaseFilters {
  readonly root: HTMLElement;
  readonly correct = select("tam-f-correct", "correctness");
  readonly reason = select("tam-f-reason", "reason");
  readonly flag = select("tam-f-flag", "flag");
  readonly qtype = select("tam-f-qtype", "question type");
  readonly text: HTMLInputElement;
  readonly sort = select("tam-f-sort", "sort by");
  private count = h("span", "tam-f-count");
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = "";

  constructor(private cb: CaseFiltersCallbacks) {
    this.root = h("div", "tam-case-filters");
    fill(this.correct, [["all", "all cases"], ["failed", "failed"], ["correct", "correct"], ["unknown", "not answered"]]);
    fill(this.flag, [["all", "flag: any"], ["flagged", "flagged"], ["unflagged", "not flagged"]]);
    fill(this.sort, [["order", "sort: study order"], ["score", "sort: score (worst first)"],
      ["question_type", "sort: question type"], ["reason", "sort: reason"], ["flag", "sort: flagged first"]]);
    this.text = h("input", "tam-f-text");
    this.text.type = "search";
    this.text.placeholder = "search question, answers, notes";
    this.text.setAttribute("aria-label", "search");
    for (const s of [this.correct, this.reason, this.flag, this.qtype]) s.addEventListener("change", () => this.emit());
    this.sort.addEventListener("change", () => cb.onSort(this.sort.value));
    // typing filters after a short pause (the list itself filters 5,000 cases in a few ms)
    this.text.addEventListener("input", () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.emit(), 120);
    });
    this.text.addEventListener("change", () => this.emit());
    this.root.append(this.correct, this.reason, this.flag, this.qtype, this.text, this.sort, this.count);
  }

  /** The reasons and question types to choose from. */
  setOptions(reasons: readonly string[], qtypes: readonly string[]): void {
    fill(this.reason, [["", "reason: any"], [NO_REASON, "no reason"], ...reasons.map((r): [string, string] => [r, r])]);
    fill(this.qtype, [["", "question type: any"], ...qtypes.map((q): [string, string] => [q, q])]);
    this.qtype.hidden = qtypes.length === 0;
  }

  /** Show `f` and `sort` (from the model). */
  set(f: Filters, sort: string): void {
    this.correct.value = f.correct;
    this.reason.value = f.reason;
    this.flag.value = f.flag;
    this.qtype.value = f.question_type;
    if (this.text.value !== f.text) this.text.value = f.text;
    this.sort.value = sort;
    this.last = JSON.stringify(this.value());
  }

  setCount(shown: number, total: number): void {
    this.count.textContent = shown === total ? `${total} cases` : `${shown} of ${total} cases`;
  }

  value(): Filters {
    return { correct: this.correct.value, reason: this.reason.value, flag: this.flag.value,
      question_type: this.qtype.value, text: this.text.value };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private emit(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const v = this.value();
    const key = JSON.stringify(v);
    if (key === this.last) return; // e.g. the search field's "change" on blur after its "input" was handled
    this.last = key;
    this.cb.onFilters(v);
  }
}
