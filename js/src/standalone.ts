// Static-page entry point (Explanation.to_html): `TamWidgets.mount(el, doc)` with the payload's
// buffers as base64 strings, and an in-page model with the part of anywidget's API the view uses.

import { base64ToDataView } from "./decode";
import { renderView } from "./view";
import type { WidgetModel } from "./view";

export interface StaticDoc {
  state: Record<string, unknown>;
  meta: Record<string, unknown>;
  buffers: {
    maps?: Record<string, string | null>;
    scales?: string;
    relevance?: string;
    images?: string[];
  };
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
export class PageModel implements WidgetModel {
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

/** The `_payload` dict of a static document: base64 buffers decoded to DataViews. */
export function payloadFromDoc(doc: StaticDoc): Record<string, unknown> {
  const b = doc.buffers ?? {};
  const maps: Record<string, DataView | null> = {};
  for (const [k, v] of Object.entries(b.maps ?? {})) maps[k] = typeof v === "string" ? base64ToDataView(v) : null;
  return {
    meta: { ...doc.meta, on_demand: false },
    maps,
    scales: base64ToDataView(b.scales ?? ""),
    relevance: base64ToDataView(b.relevance ?? ""),
    images: (b.images ?? []).map((s) => base64ToDataView(s)),
  };
}

/** Render a static document into `el`; returns the page model (`model.destroy()` removes the view). */
export function mount(el: HTMLElement, doc: StaticDoc | string): PageModel & { destroy: () => void } {
  const d: StaticDoc = typeof doc === "string" ? JSON.parse(doc) : doc;
  const model = new PageModel({ ...(d.state ?? {}), _payload: payloadFromDoc(d) }) as PageModel & { destroy: () => void };
  model.destroy = renderView(model, el);
  return model;
}
