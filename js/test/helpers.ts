// Test fixtures: a small record payload (as Python sends it) and a fake anywidget model.

import type { Meta } from "../src/decode";
import type { AnyModel } from "../src/model";

/** float16 bits of a few exact values. */
const HALF: Record<number, number> = { 0: 0x0000, 0.25: 0x3400, 0.5: 0x3800, 1: 0x3c00 };

/**
 * A record of 6 tokens ("<s>", "Describe", " it", " A", " cat", ".") of which 3..5 are explained,
 * one 2x2 grid over a 4x4 picture (or a 3-frame video), methods tam and cam; `onDemand`: maps not inline.
 */
export function samplePayload(opts: { onDemand?: boolean; frames?: number; chunk?: number } = {}) {
  const frames = opts.frames ?? 1;
  const meta: Meta = {
    title: "test/record",
    tokens: [["<s>", "special", 0], ["Describe", "prompt", 0], [" it", "prompt", 0], [" A", "answer", 0], [" cat", "answer", 0], [".", "answer", 0]],
    explained: [3, 4, 5],
    words: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]],
    candidates: [[[" A", "41.2%", 1, 0], [" The", "20.0%", 0, 0]], [[" cat", "90.0%", 1, 0]], [[".", "50.0%", 1, 0]]],
    methods: [{ name: "tam", label: "TAM", legend: "TAM activation (0-1)" }, { name: "cam", label: "CAM", legend: "CAM score" }],
    warning: null,
    grids: [{ kind: frames > 1 ? "video" : "image", label: "image 1", offset: 0, shape: [frames, 2, 2],
      frames: Array.from({ length: frames }, (_, f) => f), boxes: Array.from({ length: frames }, () => [0, 0, 4, 4]) }],
    images: Array.from({ length: frames }, () => ({ width: 4, height: 4, mime: "image/png" })),
    n_visual: 4 * frames,
    on_demand: !!opts.onDemand,
    chunk: opts.chunk ?? 1,
    dark_text_below: 0.22,
  };
  const nv = meta.n_visual;
  const tam = new Uint8Array(3 * nv).map((_, k) => (k * 37) % 256);
  const cam = new Uint8Array(3 * nv).map((_, k) => 255 - ((k * 37) % 256));
  const scales = new Float32Array([0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2]);
  const rel = new Uint16Array(3 * 6);
  rel[2 * 6 + 3] = HALF[0.5]; // row 2 (token 5): token 3 at 0.5, token 4 at 1
  rel[2 * 6 + 4] = HALF[1];
  rel[1 * 6 + 3] = HALF[0.25];
  return {
    id: "r0",
    meta,
    maps: opts.onDemand ? { tam: null, cam: null } : { tam: new DataView(tam.buffer), cam: new DataView(cam.buffer) },
    scales: new DataView(scales.buffer),
    relevance: new DataView(rel.buffer),
    images: Array.from({ length: frames }, () => new DataView(new ArrayBuffer(0))),
    raw: { tam, cam },
  };
}

type Listener = (...args: any[]) => void;

/** A fake anywidget model: records what the view sets and sends; `set` from a test fires change events. */
export class FakeModel<S extends Record<string, any>> implements AnyModel<S> {
  state: S;
  sent: any[] = [];
  saves = 0;
  changes: [string, unknown][] = [];
  private events = new Map<string, Listener[]>();

  constructor(state: S) {
    this.state = { ...state };
  }
  get<K extends keyof S & string>(name: K): S[K] {
    return this.state[name];
  }
  set<K extends keyof S & string>(name: K, value: S[K]): void {
    const old = this.state[name];
    this.state[name] = value;
    this.changes.push([name, value]);
    if (JSON.stringify(old) !== JSON.stringify(value)) this.emit(`change:${name}`, this, value);
  }
  save_changes(): void {
    this.saves++;
  }
  on(event: string, cb: Listener): void {
    this.events.set(event, [...(this.events.get(event) ?? []), cb]);
  }
  off(event?: string | null, cb?: Listener | null): void {
    if (event) this.events.set(event, (this.events.get(event) ?? []).filter((f) => cb && f !== cb));
  }
  send(content: any): void {
    this.sent.push(content);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.events.get(event) ?? [])]) cb(...args);
  }
  listeners(): number {
    let n = 0;
    for (const l of this.events.values()) n += l.length;
    return n;
  }
}

/** The token map state Python would send (defaults from tam_widgets/widgets/state.py). */
export function tokenMapState(record = samplePayload()) {
  return {
    _view: "token_map", _records: [record], selected: -1, method: "tam", colormap: "jet", opacity: 0.55,
    show_specials: false, frame: 0, region: [] as number[],
  };
}
