// Map rows of one record: inline buffers, or chunks fetched from the kernel on demand and cached.
// Requests carry the record id and a request id; a reply is matched by both, and a request the
// kernel does not answer within `timeoutMs` becomes an error (shown in the readout) instead of a hang.

import { mapRow } from "../decode";
import type { GridMeta, Payload } from "../decode";
import { boxShare, regionParts } from "../stats";
import type { Region } from "../stats";

/** How long a row request may take before the page gives up on it. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** The message the page sends for rows `start:stop` of `method`. */
export interface MapsRequest {
  type: "maps";
  request: number;
  record: string;
  method: string;
  start: number;
  stop: number;
}

interface Pending {
  method: string;
  chunk: number;
  timer: ReturnType<typeof setTimeout> | null;
}

let nextRequest = 1;

export class MapStore {
  private chunks = new Map<string, (Uint8Array | undefined)[]>();
  private pending = new Map<number, Pending>();
  private shares: { key: string; values: Float32Array } | null = null;
  private bulk: string | null = null;
  private background: string | null = null;
  error: string | null = null;
  /** why rows can no longer be fetched (the kernel is gone), or null */
  lost: string | null = null;
  /** rows from `nRows` on (a record growing while a chat turn is written), or null */
  tail: ((method: string, r: number) => Uint8Array | null) | null = null;
  /** the record's rows when the store was made: those it holds or fetches (later ones come from `tail`) */
  private readonly base: number;

  constructor(
    readonly record: string,
    private p: Payload,
    private send: (msg: MapsRequest) => void,
    private arrived: (method: string) => void,
    private timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.base = p.meta.explained.length;
  }

  private get nRows(): number {
    return this.base;
  }
  private get chunk(): number {
    return this.p.meta.chunk;
  }
  private nChunks(): number {
    return Math.ceil(this.nRows / this.chunk);
  }
  private inflight(method: string, c: number): boolean {
    for (const q of this.pending.values()) if (q.method === method && q.chunk === c) return true;
    return false;
  }

  inline(method: string): boolean {
    return this.p.maps[method] != null;
  }

  /** Row `r` of `method`, or null while its chunk is on its way (it is requested). */
  row(method: string, r: number): Uint8Array | null {
    if (r >= this.base) return this.tail ? this.tail(method, r) : null;
    const n = this.p.meta.n_visual;
    const full = this.p.maps[method];
    if (full) return full.length >= (r + 1) * n ? mapRow(full, r, n) : null;
    const c = Math.floor(r / this.chunk);
    const data = this.chunks.get(method)?.[c];
    if (data) {
      const k = r - c * this.chunk;
      return data.subarray(k * n, (k + 1) * n);
    }
    this.request(method, c);
    return null;
  }

  /** Some rows of `method` are here (inline, or fetched before the kernel went away). */
  hasAny(method: string): boolean {
    return !!this.p.maps[method] || !!this.chunks.get(method)?.some((c) => !!c);
  }

  /**
   * The kernel is gone: nothing more is sent, and requests on their way are dropped (their
   * timers too); rows already here stay usable.
   */
  disconnect(reason: string): void {
    this.lost = reason;
    this.dispose();
    this.bulk = this.background = null;
  }

  has(method: string, r: number): boolean {
    if (r >= this.base) return !!this.tail?.(method, r);
    if (this.p.maps[method]) return true;
    return !!this.chunks.get(method)?.[Math.floor(r / this.chunk)];
  }

  hasAll(method: string): boolean {
    if (this.p.maps[method]) return true;
    const list = this.chunks.get(method);
    if (!list) return this.nRows === 0;
    for (let c = 0; c < this.nChunks(); c++) if (!list[c]) return false;
    return true;
  }

  /** Fetch every missing chunk of `method` (a few at a time); true when all rows are here. */
  ensureAll(method: string): boolean {
    if (this.hasAll(method)) return true;
    this.bulk = method;
    this.pump();
    return false;
  }

  /** Fetch the remaining chunks of `method` in the background, one at a time. */
  prefetch(method: string): void {
    if (this.p.maps[method]) return;
    this.background = method;
    this.pump();
  }

  /**
   * Every row's share of its map mass inside `region` (cached per method and region), or null
   * while rows are still on their way (they are requested).
   */
  regionShares(method: string, region: Region, grids: readonly GridMeta[]): Float32Array | null {
    const key = `${method}|${region.join(",")}`;
    if (this.shares?.key === key) return this.shares.values;
    if (!this.ensureAll(method)) return null;
    const parts = regionParts(grids, region);
    const values = new Float32Array(this.nRows);
    for (let r = 0; r < values.length; r++) {
      const data = this.row(method, r);
      values[r] = data ? boxShare(data, parts) : 0;
    }
    this.shares = { key, values };
    return values;
  }

  /** Stop every timer (the view is going away). */
  dispose(): void {
    for (const q of this.pending.values()) if (q.timer) clearTimeout(q.timer);
    this.pending.clear();
  }

  private request(method: string, c: number): void {
    if (this.lost || this.inflight(method, c) || c < 0 || c >= this.nChunks()) return;
    const request = nextRequest++;
    const start = c * this.chunk;
    const stop = Math.min(this.nRows, start + this.chunk);
    const timer =
      this.timeoutMs > 0
        ? setTimeout(() => {
            if (!this.pending.delete(request)) return;
            const secs = Math.round(this.timeoutMs / 100) / 10;
            this.error = `no answer from the kernel within ${secs} s for rows ${start}-${stop} of ${method}: the kernel may be gone (restarted or shut down); rerun the cell`;
            this.arrived(method);
          }, this.timeoutMs)
        : null;
    this.pending.set(request, { method, chunk: c, timer });
    this.send({ type: "maps", request, record: this.record, method, start, stop });
  }

  private missing(method: string): number {
    const list = this.chunks.get(method);
    for (let c = 0; c < this.nChunks(); c++) if (!list?.[c] && !this.inflight(method, c)) return c;
    return -1;
  }

  private pump(): void {
    if (this.bulk && this.hasAll(this.bulk)) this.bulk = null;
    if (this.background && this.hasAll(this.background)) this.background = null;
    if (this.bulk) {
      while (this.pending.size < 3) {
        const c = this.missing(this.bulk);
        if (c < 0) break;
        this.request(this.bulk, c);
      }
    } else if (this.background && this.pending.size === 0) {
      const c = this.missing(this.background);
      if (c >= 0) this.request(this.background, c);
    }
  }

  /**
   * Any other reply carrying an error (the kernel could not read a message) for this record:
   * keep it as the store's error and return true. A maps reply the store could not match (no
   * request id) still says what went wrong.
   */
  replyError(msg: unknown): boolean {
    const m = msg as { error?: unknown; record?: unknown; type?: unknown } | null;
    if (!m?.error || (m.record !== undefined && m.record !== this.record)) return false;
    this.error = m.type === "maps" ? String(m.error) : `the kernel refused a message: ${String(m.error)}`;
    return true;
  }

  /**
   * A custom message from the kernel: true when it answered one of this store's requests (same
   * record and request id); false for anything else (another record's reply, a stale one).
   */
  receive(msg: any, buffers: any[] | undefined): boolean {
    if (!msg || msg.type !== "maps" || msg.record !== this.record) return false;
    const q = this.pending.get(Number(msg.request));
    if (!q || q.method !== String(msg.method) || Number(msg.start) !== q.chunk * this.chunk) return false;
    this.pending.delete(Number(msg.request));
    if (q.timer) clearTimeout(q.timer);
    const { method, chunk: c } = q;
    const stop = Number(msg.stop);
    const buf = buffers?.[0];
    const n = this.p.meta.n_visual;
    if (msg.error || !buf) {
      this.error = String(msg.error ?? "the kernel sent no map rows");
      this.arrived(method);
      return true;
    }
    const bytes =
      buf instanceof Uint8Array
        ? buf
        : ArrayBuffer.isView(buf)
          ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
          : new Uint8Array(buf as ArrayBuffer);
    if (bytes.length >= (stop - c * this.chunk) * n) {
      let list = this.chunks.get(method);
      if (!list) this.chunks.set(method, (list = []));
      list[c] = bytes;
    }
    this.pump();
    this.arrived(method);
    return true;
  }
}
