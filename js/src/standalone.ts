// Static-page entry point (html.write_page): `TamWidgets.mount(el, doc)` renders a page document
// `{format, version, view, records: [{id, meta, buffers}], state}` (buffers as base64 strings) with an
// in-page model that has the part of anywidget's API the views use.

import { base64ToDataView } from "./decode";
import type { AnyModel, RecordEntry } from "./model";
import { renderView } from "./views";

export interface RecordDoc {
  id: string;
  meta: Record<string, unknown>;
  buffers: {
    maps?: Record<string, string | null>;
    scales?: string;
    relevance?: string;
    images?: string[];
  };
  /** the number of the live push the record is current at (a timeline's `_records[0].seq`), when known */
  seq?: number;
}

export interface PageDoc {
  format?: string;
  version?: number;
  view: string;
  records: RecordDoc[];
  state: Record<string, unknown>;
}

type Listener = (...args: any[]) => void;

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** A model without a kernel: `set` fires "change:<name>" listeners at once when the value changes. */
export class PageModel implements AnyModel<Record<string, any>> {
  private state: Record<string, unknown>;
  private events = new Map<string, Listener[]>();
  /** messages the view sent (there is no kernel to answer them) */
  readonly sent: unknown[] = [];

  constructor(state: Record<string, unknown>) {
    this.state = { ...state };
  }

  get(name: string): any {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    const old = this.state[name];
    this.state[name] = value;
    if (!same(old, value)) this.emit(`change:${name}`, this, value);
  }

  save_changes(): void {
    /* nothing to sync with */
  }

  on(event: string, cb: Listener): void {
    for (const name of event.split(/\s+/).filter(Boolean)) {
      const list = this.events.get(name) ?? [];
      list.push(cb);
      this.events.set(name, list);
    }
  }

  off(event?: string | null, cb?: Listener | null): void {
    if (!event) {
      if (!cb) this.events.clear();
      else for (const [k, list] of this.events) this.events.set(k, list.filter((f) => f !== cb));
      return;
    }
    for (const name of event.split(/\s+/).filter(Boolean)) {
      if (!cb) this.events.delete(name);
      else this.events.set(name, (this.events.get(name) ?? []).filter((f) => f !== cb));
    }
  }

  send(content: unknown): void {
    this.sent.push(content);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.events.get(event) ?? [])]) cb(...args);
  }
}

/** One record of a page document as a view gets it (`_records[k]`): base64 buffers decoded to DataViews. */
export function recordFromDoc(rec: RecordDoc): RecordEntry {
  const b = rec.buffers ?? {};
  const maps: Record<string, DataView | null> = {};
  for (const [k, v] of Object.entries(b.maps ?? {})) maps[k] = typeof v === "string" ? base64ToDataView(v) : null;
  return {
    id: rec.id,
    meta: { ...rec.meta, on_demand: false },
    maps,
    scales: base64ToDataView(b.scales ?? ""),
    relevance: base64ToDataView(b.relevance ?? ""),
    images: (b.images ?? []).map((s) => base64ToDataView(s)),
    ...(typeof rec.seq === "number" ? { seq: rec.seq } : {}),
  };
}

/** Render a page document into `el` (its `view`); returns the page model (`model.destroy()` removes the view). */
export function mount(el: HTMLElement, doc: PageDoc | string): PageModel & { destroy: () => void } {
  const d: PageDoc = typeof doc === "string" ? JSON.parse(doc) : doc;
  const state = { ...(d.state ?? {}), _view: d.view, _records: (d.records ?? []).map(recordFromDoc) };
  const model = new PageModel(state) as PageModel & { destroy: () => void };
  model.destroy = renderView(model, el);
  return model;
}
