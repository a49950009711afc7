// The typed model every view talks to: anywidget's model in a notebook, `PageModel` on a static page.
// Views alone use it; components take data and callbacks and never see it.

import type { Payload } from "./decode";

/** The part of anywidget's model API the views use, typed by the synced state. */
export interface AnyModel<State> {
  get<K extends keyof State & string>(name: K): State[K];
  set<K extends keyof State & string>(name: K, value: State[K]): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: any, callbacks?: any, buffers?: any[]): void;
}

/** One record as a view gets it (`_records[k]`): its id and payload (buffers as DataViews). */
export interface RecordEntry {
  id: string;
  [key: string]: unknown;
}

/** The synced attributes of the token map explorer (defaults and checks: `tam_widgets/widgets/state.py`). */
export interface TokenMapState {
  _view: string;
  _records: RecordEntry[];
  selected: number;
  method: string;
  colormap: string;
  opacity: number;
  show_specials: boolean;
  frame: number;
  region: number[];
}

/** A parsed record: its id and payload. */
export interface ViewRecord {
  id: string;
  payload: Payload;
}

/**
 * Bind a synced attribute to a component setter: `apply` gets the value now (unless `now` is
 * false) and on every change from the other side. Returns the function that unbinds it.
 */
export function bind<S, K extends keyof S & string>(
  model: AnyModel<S>,
  name: K,
  apply: (value: S[K]) => void,
  now = true,
): () => void {
  const cb = () => apply(model.get(name));
  model.on(`change:${name}`, cb);
  if (now) cb();
  return () => model.off(`change:${name}`, cb);
}

/** Set a synced attribute from the page and send it to the other side. */
export function commit<S, K extends keyof S & string>(model: AnyModel<S>, name: K, value: S[K]): void {
  model.set(name, value);
  model.save_changes();
}

/** Listen to custom messages from the kernel; returns the function that stops listening. */
export function onMessage<S>(model: AnyModel<S>, cb: (msg: unknown, buffers: unknown[] | undefined) => void): () => void {
  const f = (msg: unknown, buffers: unknown[] | undefined) => cb(msg, buffers);
  model.on("msg:custom", f);
  return () => model.off("msg:custom", f);
}
