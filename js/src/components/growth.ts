// A record that grows while a chat turn is written: the kernel sends only what each push adds (an `append`
// message, numbered after the last push); this keeps the added rows beside the record's own buffers and
// adds the tokens, words, explained tokens and candidates to its meta. A push that does not follow the
// page's copy (a gap in the numbers, tokens or rows) is refused: the view then asks for the whole record.

import { asBytes, decodeFloat16, decodeFloat32 } from "../decode";
import type { Candidate, Meta, TokenTuple } from "../decode";

/** What the kernel sends for a grown record (`tam_widgets.widgets.payload.append_payload`). */
export interface AppendMsg {
  type: "append";
  record: string;
  seq: number;
  tokens: { start: number; items: TokenTuple[] };
  words: { start: number; items: [number, number][] };
  rows: { start: number; explained: number[]; candidates: Candidate[][] };
  n_tokens: number;
}

export function isAppend(msg: unknown): msg is AppendMsg {
  const m = msg as Partial<AppendMsg> | null;
  return !!m && m.type === "append" && typeof m.seq === "number" && !!m.tokens && !!m.rows && !!m.words;
}

/** Rows `base ..` of every method, their scales and text relevance, added by `append` messages. */
export class Growth {
  /** rows the record's own buffers hold (the rows before are not here) */
  readonly baseRows: number;
  /** tokens the record's own relevance rows span */
  readonly baseTokens: number;
  private maps: Uint8Array[];
  private scales: Float32Array[];
  private rel: Uint8Array[] = [];
  private rows = 0;

  constructor(
    private meta: Meta,
    public seq: number,
  ) {
    this.baseRows = meta.explained.length;
    this.baseTokens = meta.tokens.length;
    this.maps = meta.methods.map(() => new Uint8Array(0));
    this.scales = meta.methods.map(() => new Float32Array(0));
  }

  /** Why `msg` cannot be added to the page's copy (null: it can). */
  problem(msg: AppendMsg, buffers: unknown[] | undefined): string | null {
    const meta = this.meta;
    const k = msg.rows.explained.length;
    const nm = meta.methods.length;
    if (msg.seq !== this.seq + 1) return `push ${msg.seq} after push ${this.seq}`;
    if (msg.tokens.start !== meta.tokens.length || msg.tokens.start + msg.tokens.items.length !== msg.n_tokens)
      return `tokens from ${msg.tokens.start} for a page holding ${meta.tokens.length}`;
    if (msg.rows.start !== meta.explained.length || msg.rows.candidates.length !== k)
      return `rows from ${msg.rows.start} for a page holding ${meta.explained.length}`;
    if (msg.words.start > meta.words.length) return `words from ${msg.words.start} for ${meta.words.length}`;
    if (!buffers || buffers.length !== nm + 2) return `${buffers?.length ?? 0} buffers for ${nm} methods`;
    const nv = meta.n_visual;
    for (let j = 0; j < nm; j++) if (asBytes(buffers[j] as ArrayBuffer).length !== k * nv) return "map rows of the wrong size";
    if (asBytes(buffers[nm] as ArrayBuffer).length !== nm * k * 8) return "scales of the wrong size";
    if (asBytes(buffers[nm + 1] as ArrayBuffer).length !== k * msg.n_tokens * 2) return "relevance of the wrong size";
    return null;
  }

  /** Add `msg` (checked with `problem` first) to the meta and the rows. */
  apply(msg: AppendMsg, buffers: unknown[]): void {
    const meta = this.meta;
    const nm = meta.methods.length;
    const k = msg.rows.explained.length;
    const nv = meta.n_visual;
    meta.tokens.push(...msg.tokens.items);
    meta.words.splice(msg.words.start, meta.words.length - msg.words.start, ...msg.words.items);
    meta.explained.push(...msg.rows.explained);
    meta.candidates.push(...msg.rows.candidates);
    const scales = decodeFloat32(buffers[nm] as ArrayBuffer); // [nm, k, 2]
    for (let j = 0; j < nm; j++) {
      this.maps[j] = grow(this.maps[j], this.rows * nv, asBytes(buffers[j] as ArrayBuffer));
      this.scales[j] = grow(this.scales[j], this.rows * 2, scales.subarray(j * k * 2, (j + 1) * k * 2));
    }
    const rel = asBytes(buffers[nm + 1] as ArrayBuffer);
    const stride = msg.n_tokens * 2;
    for (let r = 0; r < k; r++) this.rel.push(rel.slice(r * stride, (r + 1) * stride));
    this.rows += k;
    this.seq = msg.seq;
  }

  /** Row `r` (>= baseRows) of method `j`, or null when it is not here. */
  row(j: number, r: number): Uint8Array | null {
    const k = r - this.baseRows;
    const nv = this.meta.n_visual;
    if (k < 0 || k >= this.rows || j < 0) return null;
    return this.maps[j].subarray(k * nv, (k + 1) * nv);
  }

  /** `(lo, span)` of row `r` (>= baseRows) of method `j`, or null. */
  scale(j: number, r: number): [number, number] | null {
    const k = r - this.baseRows;
    if (k < 0 || k >= this.rows || j < 0 || j >= this.scales.length) return null;
    return [this.scales[j][k * 2], this.scales[j][k * 2 + 1]];
  }

  /** Text relevance of row `r` (>= baseRows) over the tokens into `out` (0 past the row's tokens); false if absent. */
  relevance(r: number, out: Float32Array): boolean {
    const b = this.rel[r - this.baseRows];
    if (!b) return false;
    const n = Math.min(out.length, b.length >> 1);
    decodeFloat16(b, 0, n, out);
    out.fill(0, n);
    return true;
  }
}

type Growable = Uint8Array | Float32Array;

/** `old[0:used]` followed by `add`, in a buffer of the same kind that doubles when full. */
function grow<T extends Growable>(old: T, used: number, add: T): T {
  let buf = old;
  if (used + add.length > old.length) {
    buf = new (old.constructor as new (n: number) => T)(Math.max(used + add.length, 2 * old.length));
    buf.set(old.subarray(0, used));
  }
  buf.set(add, used);
  return buf;
}
