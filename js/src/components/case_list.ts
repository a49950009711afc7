// The case board's list: a virtual list (only the rows in view exist in the DOM) of cases with
// thumbnail, question, model answer, ground truth, correctness, reason and flag. Asks for the
// thumbnails of the rows it shows (`onNeedThumb`), emits `onOpen(id)` on a click.

import type { CaseRow, Note } from "../cases";
import { h } from "../dom";

/** Height of one row in pixels (fixed: the list positions rows by index). */
export const ROW_HEIGHT = 64;
/** Rows rendered above and below the visible ones. */
const OVERSCAN = 4;

export interface CaseListCallbacks {
  onOpen(id: string): void;
  onNeedThumb(id: string): void;
}

/** A thumbnail: an object URL of the picture, or the reason there is none. */
export type Thumb = { url: string } | { error: string };

export class CaseList {
  readonly root: HTMLElement;
  private spacer: HTMLElement;
  private rows: readonly CaseRow[] = [];
  private order: number[] = [];
  private notes: Record<string, Note> = {};
  private thumbs = new Map<string, Thumb>();
  private current = "";
  private shown = new Map<number, HTMLElement>(); // position in `order` -> row element
  private frame = 0;
  /** the list's visible height (from its ResizeObserver: reading it would force a layout) */
  private viewH = 0;

  constructor(private cb: CaseListCallbacks) {
    this.root = h("div", "tam-case-list");
    this.root.setAttribute("role", "listbox");
    this.spacer = h("div", "tam-case-spacer");
    this.root.appendChild(this.spacer);
    this.root.addEventListener("scroll", () => this.schedule());
    this.root.addEventListener("click", (e) => {
      const el = (e.target as HTMLElement).closest<HTMLElement>(".tam-case");
      if (el?.dataset.case !== undefined) cb.onOpen(el.dataset.case);
    });
    if (typeof ResizeObserver !== "undefined")
      new ResizeObserver((entries) => {
        this.viewH = entries[0]?.contentRect.height ?? 0;
        this.schedule();
      }).observe(this.root);
  }

  /** The cases (all of them) and the positions shown, in order. */
  setRows(rows: readonly CaseRow[], order: number[]): void {
    const same = rows === this.rows && order.length === this.order.length && order.every((k, j) => k === this.order[j]);
    this.rows = rows;
    this.order = order;
    this.spacer.style.height = `${order.length * ROW_HEIGHT}px`;
    if (same) this.render(); // the rows under the pointer stay (a click across a re-filter still lands)
    else this.redraw();
  }

  /** Row `id` changed (e.g. its record was computed): draw it again. */
  updateRow(id: string): void {
    for (const [pos, el] of this.shown) {
      if (el.dataset.case !== id) continue;
      const fresh = this.makeRow(this.rows[this.order[pos]], pos);
      el.replaceWith(fresh);
      this.shown.set(pos, fresh);
    }
  }

  setNotes(notes: Record<string, Note>): void {
    this.notes = notes;
    this.redraw();
  }

  setThumb(id: string, thumb: Thumb): void {
    this.thumbs.set(id, thumb);
    for (const el of this.shown.values()) if (el.dataset.case === id) this.fillThumb(el.querySelector(".tam-case-thumb")!, id);
  }

  /** Is the case's row in the DOM (in view or near it)? */
  isShown(id: string): boolean {
    for (const el of this.shown.values()) if (el.dataset.case === id) return true;
    return false;
  }

  hasThumb(id: string): boolean {
    return this.thumbs.has(id);
  }

  thumb(id: string): Thumb | undefined {
    return this.thumbs.get(id);
  }

  /** Mark the opened case and scroll it into view. */
  setCurrent(id: string): void {
    this.current = id;
    for (const el of this.shown.values()) el.classList.toggle("tam-case-current", el.dataset.case === id);
    const pos = this.order.findIndex((k) => this.rows[k].id === id);
    if (pos >= 0) {
      const top = pos * ROW_HEIGHT;
      const view = this.viewH || this.root.clientHeight || ROW_HEIGHT * 8;
      if (top < this.root.scrollTop) this.root.scrollTop = top;
      else if (top + ROW_HEIGHT > this.root.scrollTop + view) this.root.scrollTop = top + ROW_HEIGHT - view;
    }
    this.render();
  }

  /** The id of the case `step` rows after the opened one in the shown order (clamped), or null. */
  neighbour(step: number): string | null {
    if (!this.order.length) return null;
    const pos = this.order.findIndex((k) => this.rows[k].id === this.current);
    const next = pos < 0 ? 0 : Math.max(0, Math.min(this.order.length - 1, pos + step));
    return this.rows[this.order[next]].id;
  }

  dispose(): void {
    if (this.frame && typeof cancelAnimationFrame !== "undefined") cancelAnimationFrame(this.frame);
    for (const t of this.thumbs.values()) if ("url" in t && t.url.startsWith("blob:")) URL.revokeObjectURL?.(t.url);
  }

  private schedule(): void {
    if (this.frame) return;
    if (typeof requestAnimationFrame === "undefined") return this.render();
    this.frame = requestAnimationFrame(() => ((this.frame = 0), this.render()));
  }

  private redraw(): void {
    for (const el of this.shown.values()) el.remove();
    this.shown.clear();
    this.render();
  }

  /** Create the rows in view (plus a few), drop the others. */
  render(): void {
    const view = this.viewH || this.root.clientHeight || ROW_HEIGHT * 10;
    const first = Math.max(0, Math.floor(this.root.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.order.length, Math.ceil((this.root.scrollTop + view) / ROW_HEIGHT) + OVERSCAN);
    for (const [pos, el] of this.shown) {
      if (pos < first || pos >= last) {
        el.remove();
        this.shown.delete(pos);
      }
    }
    for (let pos = first; pos < last; pos++) {
      if (this.shown.has(pos)) continue;
      const el = this.makeRow(this.rows[this.order[pos]], pos);
      this.shown.set(pos, el);
      this.root.appendChild(el);
    }
  }

  private makeRow(row: CaseRow, pos: number): HTMLElement {
    const note = this.notes[row.id];
    const el = h("div", "tam-case");
    el.dataset.case = row.id;
    el.setAttribute("role", "option");
    el.style.top = `${pos * ROW_HEIGHT}px`;
    el.style.height = `${ROW_HEIGHT}px`;
    if (row.id === this.current) el.classList.add("tam-case-current");
    const verdict = row.correct === true ? "correct" : row.correct === false ? "failed" : "unknown";
    el.classList.add(`tam-case-${verdict}`);
    const thumb = h("div", "tam-case-thumb");
    this.fillThumb(thumb, row.id);
    const text = h("div", "tam-case-text");
    const q = h("div", "tam-case-q", row.question);
    q.title = row.question;
    const ans = h("div", "tam-case-a");
    ans.append(
      h("span", "tam-case-pred", row.prediction === null ? "no answer yet" : `“${row.prediction}”`),
      h("span", "tam-case-truth", ` · truth: ${row.answers}`),
    );
    ans.title = `model: ${row.prediction ?? "(none yet)"}\nground truth: ${row.answers}`;
    const tags = h("div", "tam-case-tags");
    const mark = { correct: "\u2713 correct", failed: "\u2717 failed", unknown: "\u00b7 not answered" }[verdict];
    const v = h("span", `tam-tag tam-tag-${verdict}`, row.score !== null && row.kind === "vqa" ? `${mark} ${row.score.toFixed(2)}` : mark);
    tags.appendChild(v);
    if (note?.flag) tags.appendChild(h("span", "tam-tag tam-tag-flag", "\u2691 flagged"));
    if (note?.reason) tags.appendChild(h("span", "tam-tag tam-tag-reason", note.reason));
    else if (row.suggestions.length) tags.appendChild(h("span", "tam-tag tam-tag-suggested", `suggested: ${row.suggestions[0].reason}`));
    if (row.qtype) tags.appendChild(h("span", "tam-tag tam-tag-qtype", row.qtype));
    if (row.error) {
      const e = h("span", "tam-tag tam-tag-error", "\u26a0 error");
      e.title = row.error;
      tags.appendChild(e);
    }
    for (const t of tags.children) (t as HTMLElement).title ||= t.textContent ?? ""; // tags may be cut short
    text.append(q, ans, tags);
    const id = h("div", "tam-case-id", row.id);
    id.title = `case ${row.id}`;
    el.append(thumb, text, id);
    return el;
  }

  private fillThumb(box: HTMLElement, id: string): void {
    box.textContent = "";
    let t = this.thumbs.get(id);
    if (!t) {
      this.cb.onNeedThumb(id); // may answer at once (the offline page holds its thumbnails)
      t = this.thumbs.get(id);
    }
    if (!t) {
      box.classList.add("tam-thumb-loading");
      return;
    }
    box.classList.remove("tam-thumb-loading");
    if ("url" in t) {
      const img = h("img");
      img.decoding = "async"; // a new page of rows must not wait for its pictures to decode
      img.alt = "";
      img.src = t.url;
      box.appendChild(img);
    } else {
      box.classList.add("tam-thumb-error");
      box.textContent = "\u26a0";
      box.title = t.error;
    }
  }
}
