// The opened case: question, ground truth (VQA answers with counts, or STAR's choices with the right
// one marked), the model's answer with its correctness, an error on this case, a loading line, and
// the case's picture when there is no record to show its token map.

import type { CaseRow } from "../cases";
import { h } from "../dom";

export class CaseInfo {
  readonly root: HTMLElement;
  private head = h("div", "tam-ci-head");
  private question = h("div", "tam-ci-question");
  private truth = h("div", "tam-ci-truth");
  private answer = h("div", "tam-ci-answer");
  private state = h("div", "tam-ci-state");
  private picture = h("div", "tam-ci-picture");

  constructor() {
    this.root = h("div", "tam-case-info");
    this.root.append(this.head, this.question, this.answer, this.truth, this.state, this.picture);
  }

  show(row: CaseRow | null): void {
    this.picture.textContent = "";
    this.message("", "");
    if (!row) {
      this.head.textContent = "";
      this.question.textContent = "Open a case from the list (click it, or j / k).";
      this.truth.textContent = this.answer.textContent = "";
      return;
    }
    this.head.textContent = `case ${row.id}${row.qtype ? ` \u00b7 ${row.qtype}` : ""}${row.video ? " \u00b7 video" : ""}`;
    this.question.textContent = row.question;
    this.truth.textContent = "";
    this.truth.appendChild(h("span", "tam-ci-label", "ground truth: "));
    if (row.choices.length) {
      const list = h("ol", "tam-ci-choices");
      for (const c of row.choices) list.appendChild(h("li", c === row.truth ? "tam-ci-right" : undefined, c));
      this.truth.appendChild(list);
    } else this.truth.appendChild(h("span", "tam-ci-answers", row.answers));
    this.answer.textContent = "";
    this.answer.appendChild(h("span", "tam-ci-label", "model: "));
    const verdict = row.correct === true ? "correct" : row.correct === false ? "failed" : "unknown";
    this.answer.appendChild(h("span", `tam-ci-pred tam-ci-${verdict}`, row.prediction ?? "no answer yet"));
    if (row.score !== null)
      this.answer.appendChild(h("span", "tam-ci-score", ` (${verdict}, score ${row.score.toFixed(2)})`));
    if (row.error) this.message("error", `\u26a0 ${row.error}`);
  }

  /** A line under the case: loading, error, or a note ("" clears it). */
  message(kind: "loading" | "error" | "note" | "", text: string): void {
    this.state.className = `tam-ci-state${kind ? ` tam-ci-${kind}` : ""}`;
    this.state.textContent = text;
    this.state.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  /** Show the case's picture (an object URL) where no token map is shown. */
  setPicture(url: string | null): void {
    this.picture.textContent = "";
    if (!url) return;
    const img = h("img", "tam-ci-img");
    img.alt = "the case's picture";
    img.src = url;
    this.picture.appendChild(img);
  }
}
