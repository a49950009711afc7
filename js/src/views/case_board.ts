// The failure-case board (`tam_widgets.FailureCaseBoard`): a filtered, sorted virtual list of a
// study's cases; the opened case's token map explorer (the `token_map` view on a child model) next to
// its ground truth; the annotation panel. The only place that talks to the model. Thumbnails, pictures
// and records are asked for case by case (request ids); on the offline page (`_thumbs` present) they
// are all in the document and nothing is sent.

import type { CaseRow, Filters, Note } from "../cases";
import { filterCases, questionTypes, recordId } from "../cases";
import { h } from "../dom";
import { readableToken } from "../layout";
import { bind, commit, onMessage } from "../model";
import type { AnyModel, RecordEntry } from "../model";
import { watchKernel } from "../kernel";
import { markFirstRender, perf } from "../perf";
import { disconnectedBanner } from "../components/banner";
import { AnnotationPanel } from "../components/annotation_panel";
import type { AnnotationChange } from "../components/annotation_panel";
import { CaseFilters } from "../components/case_filters";
import { CaseInfo } from "../components/case_info";
import { CaseList } from "../components/case_list";
import { TokenMapView } from "./token_map";

/** The board's synced attributes (defaults and checks: `tam_widgets/widgets/state.py`, `BOARD_ATTRS`). */
export interface CaseBoardState {
  _view: string;
  _records: RecordEntry[];
  _cases: CaseRow[];
  /** the annotations as of the kernel's last fold; `_notes_new`: the ones changed since (shown merged) */
  _notes: Record<string, Note>;
  _notes_new?: Record<string, Note>;
  /** offline page only: `{case id: [mime, base64]}` */
  _thumbs?: Record<string, [string, string]>;
  case: string;
  filters: Filters;
  sort: string;
  reasons: string[];
  read_only: boolean;
  selected: number;
  method: string;
  colormap: string;
  opacity: number;
  show_specials: boolean;
  frame: number;
  region: number[];
}

/** How long the page waits for a picture or an annotation's acknowledgement. */
export const REPLY_TIMEOUT_MS = 15_000;
/** How long it waits for a record (the model may be explaining the case). */
export const OPEN_TIMEOUT_MS = 600_000;
/** Thumbnail requests in flight at once. */
const THUMBS_IN_FLIGHT = 6;

type Listener = (...args: any[]) => void;

/**
 * The token map's model inside the board: the board's model with `_records` = the opened record and
 * `_view` = "token_map"; it forwards only `maps` replies (the row protocol) to the token map.
 */
export class ChildModel implements AnyModel<any> {
  private wrapped = new Map<Listener, Listener>();

  constructor(
    private parent: AnyModel<any>,
    private entry: RecordEntry,
  ) {}

  get widget_manager(): unknown {
    return (this.parent as { widget_manager?: unknown }).widget_manager;
  }

  get(name: string): any {
    if (name === "_records") return [this.entry];
    if (name === "_view") return "token_map";
    return this.parent.get(name);
  }

  set(name: string, value: unknown): void {
    this.parent.set(name, value);
  }

  save_changes(): void {
    this.parent.save_changes();
  }

  on(event: string, cb: Listener): void {
    if (event === "change:_records") return; // the record of a mounted map never changes
    let f = cb;
    if (event === "msg:custom") f = (msg: any, buffers: unknown) => msg?.type === "maps" && cb(msg, buffers);
    this.wrapped.set(cb, f);
    this.parent.on(event, f);
  }

  off(event?: string | null, cb?: Listener | null): void {
    if (!cb) return;
    const f = this.wrapped.get(cb);
    if (f) this.parent.off(event, f);
    this.wrapped.delete(cb);
  }

  /** Stop every listener the token map left. */
  offAll(): void {
    for (const f of this.wrapped.values()) this.parent.off(null, f);
    this.wrapped.clear();
  }

  send(content: unknown, callbacks?: unknown, buffers?: unknown[]): void {
    this.parent.send(content, callbacks, buffers);
  }
}

interface Pending {
  type: "picture" | "open" | "annotate";
  case: string;
  size?: string;
  timer: ReturnType<typeof setTimeout>;
}

function bytesOf(buf: unknown): Uint8Array | null {
  if (buf instanceof DataView) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  if (buf instanceof Uint8Array) return buf;
  return null;
}

function objectUrl(bytes: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([bytes as unknown as BlobPart], { type: mime }));
}

let nextRequest = 1;

/** Every annotation of a board's model: `_notes` updated with `_notes_new` (the kernel syncs changes in batches). */
export function boardNotes(model: AnyModel<CaseBoardState>): Record<string, Note> {
  const base = model.get("_notes") ?? {};
  const recent = model.get("_notes_new") ?? {};
  return Object.keys(recent).length ? { ...base, ...recent } : base;
}

export class CaseBoardView {
  readonly root: HTMLElement;
  private list: CaseList;
  private filters: CaseFilters;
  private info = new CaseInfo();
  private ann: AnnotationPanel;
  private mapHost = h("div", "tam-board-map");
  private map: TokenMapView | null = null;
  private child: ChildModel | null = null;
  private mapRecord: RecordEntry | null = null;
  private rows: CaseRow[] = [];
  private byId = new Map<string, number>();
  private notes: Record<string, Note> = {};
  private current = "";
  private pending = new Map<number, Pending>();
  private thumbQueue: string[] = [];
  private thumbAsked = new Set<string>();
  private pictures = new Map<string, string>(); // case id -> object URL of its full picture
  private lost: string | null = null;
  private offline: boolean;
  private unbind: (() => void)[] = [];

  constructor(
    private model: AnyModel<CaseBoardState>,
    host: HTMLElement,
  ) {
    const m = model;
    this.offline = m.get("_thumbs") !== undefined;
    this.root = h("div", "tam-view tam-board");
    this.root.tabIndex = 0;
    // JupyterLab: keys pressed in the board are the board's (j, k, digits, f), not notebook shortcuts
    this.root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.list = new CaseList({ onOpen: (id) => this.open(id, true), onNeedThumb: (id) => this.needThumb(id) });
    this.filters = new CaseFilters({
      // the model's change event refilters (anywidget's model, like the page model, fires it on set)
      onFilters: (f) => commit(m, "filters", f),
      onSort: (s) => commit(m, "sort", s),
    });
    this.ann = new AnnotationPanel({ onChange: (c) => this.annotate(c), onAddReason: (r) => this.addReason(r) });
    const detail = h("div", "tam-board-detail");
    const side = h("div", "tam-board-side");
    side.append(this.info.root, this.ann.root);
    detail.append(this.mapHost, side);
    const body = h("div", "tam-board-body");
    body.append(this.list.root, detail);
    this.root.append(this.filters.root, body);
    host.appendChild(this.root);

    this.rows = m.get("_cases") ?? [];
    this.indexRows();
    this.notes = boardNotes(m);
    this.list.setNotes(this.notes);
    this.setReasons();
    this.filters.set(m.get("filters"), m.get("sort"));
    this.refilter();
    markFirstRender();
    this.updateDisabled();
    this.unbind.push(
      bind(m, "_cases", (v) => ((this.rows = v ?? []), this.indexRows(), this.refilter(), this.showCurrent()), false),
      bind(m, "_notes", () => this.readNotes(), false),
      bind(m, "_notes_new", () => this.readNotes(), false),
      bind(m, "reasons", () => (this.setReasons(), this.showNote()), false),
      bind(m, "filters", (v) => (this.filters.set(v, m.get("sort")), this.refilter()), false),
      bind(m, "sort", (v) => (this.filters.set(m.get("filters"), v), this.refilter()), false),
      bind(m, "read_only", () => this.updateDisabled(), false),
      bind(m, "case", (v) => v !== this.current && this.open(String(v ?? ""), false), false),
      bind(m, "selected", () => this.showPinned(), false),
      onMessage(m, (msg, buffers) => this.onReply(msg, buffers)),
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    // before the first case opens: reopened from saved widget state, there is no kernel to ask
    this.unbind.push(watchKernel(m, host, (why) => this.onLost(why)));
    const start = String(m.get("case") ?? "");
    if (start && this.byId.has(start)) this.open(start, false);
    else this.info.show(null);
  }

  destroy(): void {
    this.unmountMap();
    for (const q of this.pending.values()) clearTimeout(q.timer);
    this.pending.clear();
    for (const off of this.unbind) off();
    this.unbind = [];
    this.list.dispose();
    this.filters.dispose();
    for (const url of this.pictures.values()) if (url.startsWith("blob:")) URL.revokeObjectURL?.(url);
    this.root.remove();
  }

  // -------------------------------------------------------------- list

  private indexRows(): void {
    this.byId = new Map(this.rows.map((r, k) => [r.id, k]));
    this.filters.setOptions(this.model.get("reasons") ?? [], questionTypes(this.rows));
    this.filters.set(this.model.get("filters"), this.model.get("sort"));
  }

  /** The annotations changed (from the page, Python, or `board.refresh()`): show them. */
  private readNotes(): void {
    this.notes = boardNotes(this.model);
    this.list.setNotes(this.notes);
    this.refilter();
    this.showNote();
  }

  private setReasons(): void {
    const reasons = this.model.get("reasons") ?? [];
    this.ann.setReasons(reasons);
    this.filters.setOptions(reasons, questionTypes(this.rows));
    this.filters.set(this.model.get("filters"), this.model.get("sort"));
  }

  /** Filter and sort the list (timed: `window.__tamPerf.filter`, ms per run, list drawn included). */
  private refilter(): void {
    const t0 = typeof performance !== "undefined" ? performance.now() : 0;
    const order = filterCases(this.rows, this.notes, this.filters.value(), this.filters.sort.value);
    this.list.setRows(this.rows, order);
    this.list.setCurrent(this.current);
    this.filters.setCount(order.length, this.rows.length);
    const p = perf() as (ReturnType<typeof perf> & { filter?: number[] }) | null;
    if (p) (p.filter ??= []).push(performance.now() - t0);
  }

  private row(id: string): CaseRow | null {
    const k = this.byId.get(id);
    return k === undefined ? null : this.rows[k];
  }

  // -------------------------------------------------------------- thumbnails and pictures

  private needThumb(id: string): void {
    const thumbs = this.model.get("_thumbs");
    if (thumbs) {
      const t = thumbs[id];
      // a data: URL straight from the document (no decoding into bytes and a Blob: cheaper per new row)
      this.list.setThumb(id, t ? { url: `data:${t[0]};base64,${t[1]}` } : { error: "no picture in this page" });
      return;
    }
    if (this.lost) return this.list.setThumb(id, { error: "not loaded before the kernel went away" });
    if (this.thumbAsked.has(id)) return;
    this.thumbAsked.add(id);
    this.thumbQueue.push(id);
    queueMicrotask(() => this.pumpThumbs());
  }

  private pumpThumbs(): void {
    let inflight = 0;
    for (const q of this.pending.values()) if (q.type === "picture" && q.size === "thumb") inflight++;
    while (inflight < THUMBS_IN_FLIGHT && this.thumbQueue.length) {
      const id = this.thumbQueue.shift()!;
      if (!this.list.isShown(id)) {
        this.thumbAsked.delete(id); // scrolled away: asked again when shown
        continue;
      }
      this.request({ type: "picture", case: id, size: "thumb" });
      inflight++;
    }
  }

  private showPicture(id: string): void {
    const url = this.pictures.get(id);
    if (url) return this.info.setPicture(url);
    const t = this.model.get("_thumbs")?.[id];
    if (t) {
      const u = `data:${t[0]};base64,${t[1]}`;
      this.pictures.set(id, u);
      return this.info.setPicture(u);
    }
    if (!this.offline && !this.lost) this.request({ type: "picture", case: id, size: "full" });
  }

  // -------------------------------------------------------------- kernel requests

  private request(msg: { type: Pending["type"]; case: string; [k: string]: unknown }): number {
    const request = nextRequest++;
    const ms = msg.type === "open" ? OPEN_TIMEOUT_MS : REPLY_TIMEOUT_MS;
    const timer = setTimeout(() => this.onTimeout(request), ms);
    this.pending.set(request, { type: msg.type, case: msg.case, size: msg.size as string | undefined, timer });
    this.model.send({ ...msg, request });
    return request;
  }

  private onTimeout(request: number): void {
    const q = this.pending.get(request);
    if (!q) return;
    this.pending.delete(request);
    this.fail(q, `no answer from the kernel after ${q.type === "open" ? OPEN_TIMEOUT_MS / 1000 : REPLY_TIMEOUT_MS / 1000} s (is it busy, or gone? rerun the cell)`);
  }

  /** A request that will not be answered: say so where it belongs. */
  private fail(q: Pending, why: string): void {
    if (q.type === "picture" && q.size === "thumb") {
      this.list.setThumb(q.case, { error: why });
      this.pumpThumbs();
    } else if (q.type === "annotate" && q.case === this.current) this.ann.setStatus("error", `not saved: ${why}`);
    else if (q.case === this.current) {
      this.root.classList.remove("tam-case-loading");
      this.info.message("error", `\u26a0 ${why}`);
    }
  }

  private onReply(msg: unknown, buffers: unknown[] | undefined): void {
    const r = msg as { type?: string; request?: unknown; case?: string; error?: string; [k: string]: any } | null;
    if (!r || r.type === "maps") return;
    const q = this.pending.get(Number(r.request));
    if (!q) {
      if (r.error && r.request == null) this.info.message("error", `\u26a0 the kernel refused a message: ${r.error}`);
      return;
    }
    this.pending.delete(Number(r.request));
    clearTimeout(q.timer);
    if (r.row && typeof r.row === "object" && this.byId.has(String(r.row.id))) {
      this.rows[this.byId.get(String(r.row.id))!] = r.row as CaseRow;
      this.list.updateRow(String(r.row.id));
    }
    if (q.type === "picture") {
      const bytes = bytesOf(buffers?.[0]);
      if (r.error || !bytes) {
        if (q.size === "thumb") this.fail(q, String(r.error ?? "no picture came"));
        else if (q.case === this.current) this.info.message("error", `\u26a0 ${r.error ?? "no picture came"}`);
        return;
      }
      const url = objectUrl(bytes, String(r.mime ?? "image/jpeg"));
      if (q.size === "thumb") {
        this.list.setThumb(q.case, { url });
        this.pumpThumbs();
      } else {
        this.pictures.set(q.case, url);
        if (q.case === this.current && !this.map) this.info.setPicture(url);
      }
      return;
    }
    if (q.type === "annotate") {
      if (q.case !== this.current) return;
      if (r.error) this.ann.setStatus("error", String(r.error));
      else {
        // the synced `_notes_new` came before this reply; the acknowledged row is shown whatever the order
        const note = r.annotation as Note;
        this.notes = { ...this.notes, [note.case_id]: note };
        this.list.setNotes(this.notes);
        this.showNote();
        this.ann.setStatus("saved", `saved ${new Date().toLocaleTimeString()}`);
      }
      return;
    }
    // open
    if (q.case !== this.current) return;
    this.root.classList.remove("tam-case-loading");
    this.showCurrent();
    const entry = r.record ? this.records().find((e) => e.id === r.record) : undefined;
    if (r.error) {
      this.info.message("error", `\u26a0 ${r.error}`);
      this.showPicture(q.case);
    } else if (entry) this.mountMap(entry);
    else {
      this.info.message("note", "no record yet (the board has no explainer): the picture, question and ground truth; annotate on the right");
      this.showPicture(q.case);
    }
  }

  // -------------------------------------------------------------- opening a case

  private records(): RecordEntry[] {
    return (this.model.get("_records") ?? []) as RecordEntry[];
  }

  private open(id: string, fromPage: boolean): void {
    const row = this.row(id);
    if (!row) return;
    const same = id === this.current && this.map;
    this.current = id; // before the commit: its change event must not open the case a second time
    if (fromPage && this.model.get("case") !== id) commit(this.model, "case", id);
    this.list.setCurrent(id);
    this.ann.setStatus("");
    this.showCurrent();
    if (same) return;
    this.unmountMap();
    this.root.classList.remove("tam-case-loading");
    const entry = this.records().find((e) => e.id === recordId(row));
    if (entry) return this.mountMap(entry);
    if (this.offline) {
      this.info.message("note", "no record of this case in this page: its picture, question and ground truth");
      return this.showPicture(id);
    }
    if (this.lost) {
      this.info.message("error", "this case's record is not in this page: opening it needs the kernel (rerun the cell)");
      return this.showPicture(id);
    }
    this.root.classList.add("tam-case-loading");
    this.info.message("loading", row.cached ? "loading the case's record\u2026" : "opening the case (a case without a record is explained now when the board has an explainer)\u2026");
    this.request({ type: "open", case: id });
  }

  /** The opened case's row, annotation and suggestions. */
  private showCurrent(): void {
    this.info.show(this.row(this.current));
    this.showNote();
  }

  private showNote(): void {
    const row = this.row(this.current);
    const rec = this.mapRecord;
    const tokens = (rec?.meta as { tokens?: [string, string, number, number?][] } | undefined)?.tokens ?? [];
    const label = (i: number) => (tokens[i] ? `${readableToken(tokens[i][0], tokens[i][3] === 1)} (${i})` : `${i}`);
    this.ann.show(this.notes[this.current] ?? null, row?.correct === false ? row.suggestions : [], label);
    this.showPinned();
  }

  private showPinned(): void {
    const rec = this.mapRecord;
    const sel = Number(this.model.get("selected"));
    const tokens = (rec?.meta as { tokens?: [string, string, number, number?][] } | undefined)?.tokens;
    const t = tokens?.[sel];
    this.ann.setPinned(t ? { index: sel, label: readableToken(t[0], t[3] === 1) } : null);
  }

  private mountMap(entry: RecordEntry): void {
    this.unmountMap();
    const m = this.model;
    // a new case starts where the explorer starts (its first answer token), on the whole picture
    if (m.get("selected") !== -1) m.set("selected", -1);
    if ((m.get("region") ?? []).length) m.set("region", []);
    if (m.get("frame") !== 0) m.set("frame", 0);
    m.save_changes();
    this.mapRecord = entry;
    this.child = new ChildModel(m as AnyModel<any>, entry);
    this.info.setPicture(null);
    this.info.message("", "");
    this.map = new TokenMapView(this.child, this.mapHost);
    this.showNote();
  }

  private unmountMap(): void {
    this.map?.destroy();
    this.child?.offAll();
    this.map = null;
    this.child = null;
    this.mapRecord = null;
    this.mapHost.textContent = "";
  }

  // -------------------------------------------------------------- annotating

  private disabledWhy(): string | null {
    if (this.lost) return "kernel disconnected: annotation is disabled (nothing can be saved); rerun the cell";
    if (this.offline) return "read-only page: annotations are shown as saved; annotate in the notebook";
    if (this.model.get("read_only")) return "read-only board: this study has no store, so annotations cannot be saved";
    return null;
  }

  private updateDisabled(): void {
    this.ann.setDisabled(this.disabledWhy());
    this.root.classList.toggle("tam-board-readonly", this.disabledWhy() !== null);
  }

  private annotate(change: AnnotationChange): void {
    const why = this.disabledWhy();
    if (why) return this.ann.setStatus("error", why);
    if (!this.current) return this.ann.setStatus("error", "open a case first");
    this.ann.setStatus("saving");
    this.request({ type: "annotate", case: this.current, ...change });
  }

  private addReason(reason: string): void {
    const why = this.disabledWhy();
    if (why) return this.ann.setStatus("error", why);
    const reasons = this.model.get("reasons") ?? [];
    if (!reasons.includes(reason)) commit(this.model, "reasons", [...reasons, reason]);
  }

  // -------------------------------------------------------------- keyboard and kernel

  private onKey(e: KeyboardEvent): void {
    const tag = (e.target as HTMLElement | null)?.tagName;
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    const k = e.key;
    if (k === "j" || k === "ArrowDown" || k === "k" || k === "ArrowUp") {
      const next = this.list.neighbour(k === "j" || k === "ArrowDown" ? 1 : -1);
      if (next) this.open(next, true);
      e.preventDefault();
    } else if (/^[0-9]$/.test(k) && this.current) {
      const reason = this.ann.reason(k === "0" ? 9 : Number(k) - 1);
      if (reason !== undefined) {
        e.preventDefault();
        this.annotate({ reason });
      }
    } else if (k === "f" && this.current) {
      e.preventDefault();
      this.annotate({ flag: !this.notes[this.current]?.flag });
    }
  }

  private onLost(why: string): void {
    this.lost = why;
    this.root.classList.add("tam-disconnected");
    this.root.insertBefore(disconnectedBanner(why), this.root.firstChild);
    for (const [request, q] of [...this.pending]) {
      clearTimeout(q.timer);
      this.pending.delete(request);
      this.fail(q, "the kernel went away before answering");
    }
    for (const id of this.thumbQueue) this.list.setThumb(id, { error: "not loaded before the kernel went away" });
    this.thumbQueue = [];
    this.updateDisabled();
  }
}
