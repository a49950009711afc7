// The token map explorer: DOM, painting, and the wiring between page events and the model.

import { colormapPacked, isColormap, tokenColor, COLORMAPS } from "./colormaps";
import { decodeFloat16, gridFrame, mapRow, parsePayload, rowScale } from "./decode";
import type { Candidate, GridMeta, Meta, Payload } from "./decode";
import { HeatPainter } from "./heatmap";
import type { Box } from "./heatmap";
import { initialToken, layoutStrip, navigableTokens, readableToken, stripTokens } from "./layout";
import { drawLegend, drawWarning, fmtNum, Legend, legendHeight, OTSU_TIP, PEAK_TIP, StripKey, warningBanner } from "./legend";
import type { StripLine } from "./layout";
import { boxShare, otsuShare, peak, regionParts } from "./stats";
import type { Region } from "./stats";

/** The part of anywidget's model API the view uses (the static page provides the same). */
export interface WidgetModel {
  get(name: string): any;
  set(name: string, value: any): void;
  save_changes(): void;
  on(event: string, cb: (...args: any[]) => void): void;
  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: any, callbacks?: any, buffers?: any[]): void;
}

// ------------------------------------------------------------------ perf hooks

interface TamPerf {
  firstRender: number | null;
  repaint: number[];
}

function perf(): TamPerf | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as { __tamPerf?: TamPerf };
  if (!w.__tamPerf) w.__tamPerf = { firstRender: null, repaint: [] };
  return w.__tamPerf;
}

/**
 * Record the time from an input event to the end of the next animation frame (`inFrame`: the
 * drawing happened inside a frame callback, so that frame is the one to wait for).
 */
function measureRepaint(ev: Event | null, inFrame = false): void {
  const p = perf();
  if (!p || !ev || typeof requestAnimationFrame === "undefined") return;
  const ts = ev.timeStamp;
  const afterFrame = () => {
    // a task queued from a frame callback runs once that frame has been rendered
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      p.repaint.push(performance.now() - ts);
      ch.port1.close();
    };
    ch.port2.postMessage(0);
  };
  if (inFrame) afterFrame();
  else requestAnimationFrame(afterFrame);
}

/** A `<label>` with a caption and a `<select>` of `[value, text]` options; `onChange` gets the value. */
function labelledSelect(
  caption: string,
  cls: string,
  options: [string, string][],
  value: string,
  onChange: (v: string) => void,
): [HTMLLabelElement, HTMLSelectElement] {
  const label = h("label", "tam-ctl");
  label.appendChild(h("span", undefined, caption));
  const sel = h("select", cls);
  for (const [v, text] of options) {
    const o = h("option", undefined, text);
    o.value = v;
    sel.appendChild(o);
  }
  sel.value = value;
  sel.addEventListener("change", () => onChange(sel.value));
  label.appendChild(sel);
  return [label, sel];
}

/** The packed colour table as signed words, for Int32Array pixel views. */
function signedLut(name: string): Int32Array {
  const lut = colormapPacked(name);
  return new Int32Array(lut.buffer, lut.byteOffset, lut.length);
}

// ------------------------------------------------------------------ helpers

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fileSafe(text: string): string {
  const s = text.replace(/\u2581/g, " ").trim().replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return s.slice(0, 40);
}

const MAX_PANEL_MULTI = 480;
const MAX_PANEL_SINGLE = 640;
const MIN_PANEL_MULTI = 240;
const MIN_PANEL_SINGLE = 360;
const THUMB_W = 112;
const PLAY_MS = 500;

// ------------------------------------------------------------------ on-demand maps

/** Map rows of every method: inline buffers, or chunks fetched from the kernel and cached. */
class MapStore {
  private chunks = new Map<string, (Uint8Array | undefined)[]>();
  private inflight = new Set<string>();
  private bulk: string | null = null;
  private background: string | null = null;
  error: string | null = null;

  constructor(
    private p: Payload,
    private send: (msg: unknown) => void,
    private arrived: (method: string) => void,
  ) {}

  private get nRows(): number {
    return this.p.meta.explained.length;
  }
  private get chunk(): number {
    return this.p.meta.chunk;
  }
  private nChunks(): number {
    return Math.ceil(this.nRows / this.chunk);
  }

  inline(method: string): boolean {
    return this.p.maps[method] != null;
  }

  /** Row `r` of `method`, or null while its chunk is on its way (it is requested). */
  row(method: string, r: number): Uint8Array | null {
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

  has(method: string, r: number): boolean {
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

  private request(method: string, c: number): void {
    const key = `${method}\u0000${c}`;
    if (this.inflight.has(key) || c < 0 || c >= this.nChunks()) return;
    this.inflight.add(key);
    const start = c * this.chunk;
    const stop = Math.min(this.nRows, start + this.chunk);
    this.send({ type: "maps", method, start, stop });
  }

  private missing(method: string): number {
    const list = this.chunks.get(method);
    for (let c = 0; c < this.nChunks(); c++) {
      if (!list?.[c] && !this.inflight.has(`${method}\u0000${c}`)) return c;
    }
    return -1;
  }

  private pump(): void {
    if (this.bulk && this.hasAll(this.bulk)) this.bulk = null;
    if (this.background && this.hasAll(this.background)) this.background = null;
    if (this.bulk) {
      while (this.inflight.size < 3) {
        const c = this.missing(this.bulk);
        if (c < 0) break;
        this.request(this.bulk, c);
      }
    } else if (this.background && this.inflight.size === 0) {
      const c = this.missing(this.background);
      if (c >= 0) this.request(this.background, c);
    }
  }

  /** A custom message from the kernel; true when it was an answer with map rows. */
  receive(msg: any, buffers: any[] | undefined): boolean {
    if (!msg || msg.type !== "maps") return false;
    const method = String(msg.method);
    const start = Number(msg.start);
    const stop = Number(msg.stop);
    const c = Math.floor(start / this.chunk);
    this.inflight.delete(`${method}\u0000${c}`);
    const buf = buffers?.[0];
    const n = this.p.meta.n_visual;
    if (msg.error || !buf) {
      this.error = String(msg.error ?? "the kernel sent no map rows");
      this.arrived(method);
      return true;
    }
    const bytes = buf instanceof Uint8Array ? buf : ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf as ArrayBuffer);
    if (start === c * this.chunk && bytes.length >= (stop - start) * n) {
      let list = this.chunks.get(method);
      if (!list) this.chunks.set(method, (list = []));
      list[c] = bytes;
    }
    this.pump();
    this.arrived(method);
    return true;
  }
}

// ------------------------------------------------------------------ panels

interface Thumb {
  f: number;
  el: HTMLElement;
  photo: HTMLCanvasElement;
  heat: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  img: ImageData;
  px: Int32Array;
  painter: HeatPainter;
}

interface Panel {
  gi: number;
  grid: GridMeta;
  video: boolean;
  el: HTMLElement;
  label: HTMLElement;
  stage: HTMLElement;
  photo: HTMLCanvasElement;
  heat: HTMLCanvasElement;
  rbox: HTMLElement;
  ctx: CanvasRenderingContext2D | null;
  img: ImageData | null;
  px: Int32Array | null;
  painters: (HeatPainter | undefined)[];
  /** painter whose box was last written into px */
  last: HeatPainter | null;
  /** image index on the photo canvas (-1: none yet) */
  photoOf: number;
  frame: number;
  thumbs: Thumb[];
}

// ------------------------------------------------------------------ the view

export class TamView {
  readonly root: HTMLElement;
  private p!: Payload;
  private meta!: Meta;
  private store!: MapStore;
  private method = "";
  private methodIdx = 0;
  private cmap = "jet";
  // Int32 views: packed opaque pixels are >= 2^31, which a Uint32Array would hand out as doubles
  // (a third slower per pixel in V8).
  private lut: Int32Array = signedLut("jet");
  private opacity = 0.6;
  private showSpecials = false;
  private frame = 0;
  private frameCount = 1;
  private region: Region | null = null;
  private pinned = -1;
  private hover = -1;
  private rowOf = new Map<number, number>();

  private lines: StripLine[] = [];
  private nav: number[] = [];
  private tokEls: (HTMLElement | undefined)[] = [];
  private tokBg: string[] = [];
  private tokFlags: Int8Array = new Int8Array(0);
  private relBuf: Float32Array = new Float32Array(0);
  private panels: Panel[] = [];
  private shares: Float32Array | null = null;
  private sharesKey = "";
  private images = new Map<number, Promise<CanvasImageSource | null>>();
  private playTimer: ReturnType<typeof setInterval> | null = null;
  private hoverFrame = 0;
  private hoverLate: Event | null = null;
  /** token whose map the panels show (-2: none painted yet) */
  private lastShown = -2;
  private drag: { panel: Panel; x0: number; y0: number; sx: number; sy: number; moved: boolean } | null = null;
  private painted = false;
  private prefetchStarted = false;
  private dead = false;
  private listeners: [string, (...a: any[]) => void][] = [];

  // DOM
  private bar!: HTMLElement;
  private methodSel!: HTMLSelectElement;
  private cmapSel!: HTMLSelectElement;
  private opacityIn!: HTMLInputElement;
  private specialsIn!: HTMLInputElement;
  private playBtn: HTMLButtonElement | null = null;
  private saveBtn!: HTMLButtonElement;
  private strip!: HTMLElement;
  private hoverBox!: HTMLElement;
  private key!: StripKey;
  private legend!: Legend;
  private readout!: HTMLElement;
  private cands!: HTMLUListElement;
  private panelsEl!: HTMLElement;

  constructor(
    private model: WidgetModel,
    host: HTMLElement,
  ) {
    this.root = h("div", "tam-view");
    this.root.tabIndex = 0;
    host.appendChild(this.root);
    this.listen("change:_payload", () => this.rebuild());
    this.listen("change:selected", () => this.onSelected());
    this.listen("change:method", () => this.onMethod());
    this.listen("change:colormap", () => this.onColormap());
    this.listen("change:opacity", () => this.onOpacity());
    this.listen("change:show_specials", () => this.onSpecials());
    this.listen("change:frame", () => this.onFrame());
    this.listen("change:region", () => this.onRegion());
    this.listen("msg:custom", (msg: unknown, buffers: unknown[]) => this.onCustom(msg, buffers));
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.rebuild();
  }

  private listen(event: string, cb: (...a: any[]) => void): void {
    this.model.on(event, cb);
    this.listeners.push([event, cb]);
  }

  destroy(): void {
    this.dead = true;
    this.stopPlay();
    if (this.hoverFrame) cancelAnimationFrame(this.hoverFrame);
    this.hoverFrame = 0;
    for (const [ev, cb] of this.listeners) this.model.off(ev, cb);
    this.listeners = [];
    this.root.remove();
  }

  // -------------------------------------------------------------- build

  private rebuild(): void {
    this.stopPlay();
    this.root.textContent = "";
    this.root.className = "tam-view";
    try {
      this.p = parsePayload(this.model.get("_payload"));
    } catch (err) {
      this.root.appendChild(h("div", "tam-error", `tam-widgets: ${(err as Error).message}`));
      return;
    }
    const meta = (this.meta = this.p.meta);
    this.rowOf = new Map(meta.explained.map((t, r) => [t, r]));
    this.store = new MapStore(
      this.p,
      (msg) => this.model.send(msg),
      (m) => this.onArrived(m),
    );
    this.images = new Map();
    this.relBuf = new Float32Array(meta.tokens.length);
    this.frameCount = Math.max(1, ...meta.grids.map((g) => g.shape[0] || 1));
    this.shares = null;
    this.sharesKey = "";
    this.painted = false;
    this.prefetchStarted = false;

    this.readState();
    this.buildBar();
    this.strip = h("div", "tam-strip");
    this.strip.setAttribute("role", "listbox");
    this.key = new StripKey();
    this.legend = new Legend();
    const info = h("div", "tam-info");
    this.readout = h("div", "tam-readout");
    const candBox = h("div", "tam-cand-box");
    candBox.appendChild(h("span", "tam-cand-head", "next token"));
    this.cands = h("ul", "tam-cands");
    candBox.appendChild(this.cands);
    info.append(this.readout, candBox);
    this.panelsEl = h("div", "tam-panels");
    if (meta.warning) this.root.appendChild(warningBanner(String(meta.warning)));
    this.root.append(this.bar, this.strip, this.key.root, info, this.legend.root, this.panelsEl);
    this.wireStrip();
    this.buildStrip();
    this.buildPanels();
    this.applyOpacity();
    this.readoutParts = null;
    if (meta.explained.length === 0) this.readout.textContent = "no explained tokens in this record";

    const sel = initialToken(meta, this.model.get("selected"));
    this.pinned = sel;
    if (sel >= 0 && this.model.get("selected") !== sel) {
      this.model.set("selected", sel);
      this.model.save_changes();
    }
    this.paintAll();
    if (this.pinned >= 0) this.revealToken(this.pinned);
  }

  /** Read method / colormap / opacity / specials / frame / region from the model (with fallbacks). */
  private readState(): void {
    const methods = this.meta.methods;
    const m = this.model.get("method");
    const idx = methods.findIndex((x) => x.name === m);
    this.methodIdx = idx >= 0 ? idx : 0;
    this.method = methods[this.methodIdx]?.name ?? "";
    const c = this.model.get("colormap");
    this.cmap = isColormap(c) ? c : "jet";
    this.lut = signedLut(this.cmap);
    const o = Number(this.model.get("opacity"));
    this.opacity = Number.isFinite(o) ? Math.max(0, Math.min(1, o)) : 0.6;
    this.showSpecials = !!this.model.get("show_specials");
    this.frame = this.clampFrame(this.model.get("frame"));
    this.region = this.parseRegion(this.model.get("region"));
  }

  private clampFrame(v: unknown): number {
    const f = Math.floor(Number(v));
    return Number.isFinite(f) ? Math.max(0, Math.min(this.frameCount - 1, f)) : 0;
  }

  private parseRegion(v: unknown): Region | null {
    if (!Array.isArray(v) || v.length < 6) return null;
    const r = v.slice(0, 6).map(Number) as Region;
    if (r.some((x) => !Number.isFinite(x))) return null;
    const g = this.meta.grids[r[0]];
    if (!g || r[1] < 0 || r[1] >= g.shape[0]) return null;
    const [gi, f, a, b, c, d] = r;
    const box: Region = [gi, f, Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
    return box[4] > box[2] && box[5] > box[3] ? box : null;
  }

  private buildBar(): void {
    const bar = (this.bar = h("div", "tam-bar"));
    if (this.meta.title) bar.appendChild(h("span", "tam-title", this.meta.title));

    const [mLabel, methodSel] = labelledSelect(
      "method",
      "tam-method",
      this.meta.methods.map((m) => [m.name, m.label || m.name]),
      this.method,
      (v) => {
        this.setMethod(v);
        this.model.set("method", this.method);
        this.model.save_changes();
      },
    );
    this.methodSel = methodSel;
    const [cLabel, cmapSel] = labelledSelect(
      "colours",
      "tam-cmap",
      COLORMAPS.map((c) => [c, c]),
      this.cmap,
      (v) => {
        this.setColormap(v);
        this.model.set("colormap", this.cmap);
        this.model.save_changes();
      },
    );
    this.cmapSel = cmapSel;

    const oLabel = h("label", "tam-ctl");
    oLabel.appendChild(h("span", undefined, "opacity"));
    this.opacityIn = h("input", "tam-opacity");
    this.opacityIn.type = "range";
    this.opacityIn.min = "0";
    this.opacityIn.max = "1";
    this.opacityIn.step = "0.05";
    this.opacityIn.value = String(this.opacity);
    this.opacityIn.addEventListener("input", () => {
      this.opacity = Number(this.opacityIn.value);
      this.applyOpacity();
      this.model.set("opacity", this.opacity);
      this.model.save_changes();
    });
    oLabel.appendChild(this.opacityIn);

    const sLabel = h("label", "tam-ctl tam-check");
    this.specialsIn = h("input", "tam-specials");
    this.specialsIn.type = "checkbox";
    this.specialsIn.checked = this.showSpecials;
    this.specialsIn.addEventListener("change", () => {
      this.showSpecials = this.specialsIn.checked;
      this.model.set("show_specials", this.showSpecials);
      this.model.save_changes();
      this.buildStrip();
      this.paintStrip();
    });
    sLabel.append(this.specialsIn, h("span", undefined, "show specials"));

    bar.append(mLabel, cLabel, oLabel, sLabel);
    bar.appendChild(h("span", "tam-spacer"));
    this.playBtn = null;
    if (this.frameCount > 1) {
      const play = (this.playBtn = h("button", "tam-play", "\u25b6 play"));
      play.type = "button";
      play.title = "play the frames";
      play.addEventListener("click", () => (this.playTimer ? this.stopPlay() : this.startPlay()));
      bar.appendChild(play);
    }
    this.saveBtn = h("button", "tam-save", "save PNG");
    this.saveBtn.type = "button";
    this.saveBtn.title = "picture and heat of the shown token, with the colour legend, as a PNG file";
    this.saveBtn.addEventListener("click", () => this.savePng());
    bar.appendChild(this.saveBtn);
  }

  // -------------------------------------------------------------- strip

  private buildStrip(): void {
    const meta = this.meta;
    const n = meta.tokens.length;
    this.lines = layoutStrip(meta, this.showSpecials);
    this.nav = navigableTokens(this.lines);
    this.tokEls = new Array(n);
    this.tokBg = new Array(n).fill("");
    this.tokFlags = new Int8Array(n).fill(-1);
    const frag = document.createDocumentFragment();
    for (const line of this.lines) {
      const le = h("div", line.gap ? "tam-line tam-gap" : "tam-line");
      le.dataset.role = line.role;
      for (const w of line.words) {
        const we = h("span", "tam-word");
        for (const t of w.toks) {
          let cls = "tam-tok";
          if (t.explained) cls += " tam-explained";
          if (t.special) cls += " tam-special";
          if (t.newline) cls += " tam-nl";
          if (t.empty) cls += " tam-empty";
          if (t.bytes) cls += " tam-bytes";
          const te = h("span", cls);
          te.textContent = t.text;
          te.dataset.i = String(t.i);
          if (t.explained) te.setAttribute("role", "option");
          we.appendChild(te);
          this.tokEls[t.i] = te;
        }
        le.appendChild(we);
      }
      frag.appendChild(le);
    }
    this.strip.textContent = "";
    this.hoverBox = h("div", "tam-hoverbox");
    this.strip.appendChild(this.hoverBox);
    if (!this.lines.length) this.strip.appendChild(h("span", "tam-empty-strip", "(no tokens to show)"));
    this.strip.appendChild(frag);
  }

  private wireStrip(): void {
    const tokenOf = (e: Event): number => {
      const t = (e.target as HTMLElement | null)?.closest?.(".tam-tok.tam-explained") as HTMLElement | null;
      return t ? Number(t.dataset.i) : -1;
    };
    // Hover previews. Chrome also sends `pointerrawupdate` (secure contexts) as soon as the
    // pointer moves, while `pointerover` waits for the next frame: painting on the first of the
    // two takes the paint off the frame's critical path. At most one paint per frame; a newer
    // hover within the same frame is painted from the frame callback.
    const onOver = (e: Event) => {
      const i = tokenOf(e);
      if (i < 0 || i === this.hover) return;
      this.hover = i;
      this.placeHoverBox(i);
      if (this.hoverFrame) {
        this.hoverLate = e;
        return;
      }
      this.paintShown(e);
      this.hoverFrame = requestAnimationFrame(() => {
        this.hoverFrame = 0;
        const late = this.hoverLate;
        this.hoverLate = null;
        if (late && this.shown() !== this.lastShown) this.paintShown(late, true);
      });
    };
    this.strip.addEventListener("pointerrawupdate", onOver);
    this.strip.addEventListener("pointerover", onOver);
    this.strip.addEventListener("pointerleave", (e) => {
      if (this.hover < 0) return;
      this.hover = -1;
      this.hoverLate = null;
      this.placeHoverBox(-1);
      if (this.shown() !== this.lastShown) this.paintShown(e);
    });
    this.strip.addEventListener("click", (e) => {
      const i = tokenOf(e);
      if (i < 0) return;
      this.root.focus({ preventScroll: true });
      this.hover = i;
      this.pin(i, e);
    });
  }

  /**
   * Mark the hovered token with a bar on its own compositing layer, moved with a transform: a
   * :hover style on the token itself would re-raster the whole strip on every hover.
   */
  private placeHoverBox(i: number): void {
    const box = this.hoverBox;
    const el = i >= 0 ? this.tokEls[i] : undefined;
    if (!el) {
      box.style.visibility = "hidden";
      return;
    }
    const x = el.offsetLeft;
    const y = el.offsetTop + el.offsetHeight;
    box.style.width = `${el.offsetWidth}px`;
    box.style.transform = `translate(${x}px, ${y - 2}px)`;
    box.style.visibility = "visible";
  }

  /** Repaint heat + info for the shown token; `inFrame` when called from a frame callback. */
  private paintShown(ev: Event | null, inFrame = false): void {
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev, inFrame);
  }

  /** Token shown in the heatmap / readout / candidates: the hovered one, else the pinned one. */
  private shown(): number {
    return this.hover >= 0 ? this.hover : this.pinned;
  }

  private pin(i: number, ev: Event | null, sync = true): void {
    if (!this.rowOf.has(i)) return;
    const changed = i !== this.pinned;
    this.pinned = i;
    if (sync && this.model.get("selected") !== i) {
      this.model.set("selected", i);
      this.model.save_changes();
    }
    if (changed) this.paintStrip();
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev);
    if (ev instanceof KeyboardEvent) this.revealToken(i);
  }

  /** Scroll the strip (only the strip, never the page) so token i is in view. */
  private revealToken(i: number): void {
    const el = this.tokEls[i];
    const st = this.strip;
    if (!el || st.scrollHeight <= st.clientHeight) return;
    const top = el.offsetTop;
    const bottom = top + el.offsetHeight;
    if (top < st.scrollTop || bottom > st.scrollTop + st.clientHeight) {
      st.scrollTop = Math.max(0, top - st.clientHeight / 2);
    }
  }

  private setBg(i: number, bg: string, flags: number): void {
    const el = this.tokEls[i];
    if (!el) return;
    if (this.tokBg[i] !== bg) {
      this.tokBg[i] = bg;
      el.style.background = bg;
    }
    if (this.tokFlags[i] !== flags) {
      const old = this.tokFlags[i] < 0 ? -1 : this.tokFlags[i];
      this.tokFlags[i] = flags;
      const diff = old < 0 ? 7 : old ^ flags;
      if (diff & 1) {
        el.classList.toggle("tam-selected", !!(flags & 1));
        if (flags & 1) el.setAttribute("aria-selected", "true");
        else el.removeAttribute("aria-selected");
      }
      if (diff & 2) el.classList.toggle("tam-later", !!(flags & 2));
      if (diff & 4) el.classList.toggle("tam-dark", !!(flags & 4));
    }
  }

  /** Colour the strip: text relevance of the pinned token, or region shares in region mode. */
  private paintStrip(): void {
    const sel = this.pinned;
    const row = this.rowOf.get(sel) ?? -1;
    const tokens = stripTokens(this.lines);
    const regionMode = !!this.region;
    this.root.classList.toggle("tam-region-mode", regionMode);
    this.key.update(this.cmap, regionMode);
    if (!regionMode) this.key.loading(false);
    if (regionMode) {
      const ready = this.computeShares();
      this.key.loading(!ready);
      const shares = this.shares;
      let max = 0;
      if (shares) for (let k = 0; k < shares.length; k++) max = Math.max(max, shares[k]);
      for (const t of tokens) {
        let bg = "";
        let flags = t.i === sel ? 1 : 0;
        if (t.explained && shares && max > 0) {
          const c = tokenColor(this.cmap, shares[t.row] / max);
          bg = `rgb(${c.r},${c.g},${c.b})`;
          if (c.dark) flags |= 4;
        }
        this.setBg(t.i, bg, flags);
        const el = this.tokEls[t.i];
        if (el && t.explained) el.title = shares ? `${(shares[t.row] * 100).toFixed(1)}% of its map inside the region` : "";
      }
      return;
    }
    if (row >= 0 && this.p.relevance.length >= (row + 1) * this.meta.tokens.length * 2) {
      decodeFloat16(this.p.relevance, row * this.meta.tokens.length, this.meta.tokens.length, this.relBuf);
    } else {
      this.relBuf.fill(0);
    }
    const [lo, span0] = rowScale(this.p.scales, this.methodIdx, Math.max(0, row), this.meta.explained.length);
    const span = span0 > 0 ? span0 : 1;
    for (const t of tokens) {
      const el = this.tokEls[t.i];
      if (el && el.title) el.title = "";
      if (sel >= 0 && t.i > sel) {
        this.setBg(t.i, "", 2);
        continue;
      }
      let flags = t.i === sel ? 1 : 0;
      let bg = "";
      const r = this.relBuf[t.i];
      if (row >= 0 && r !== 0 && Number.isFinite(r)) {
        const v = Math.max(0, Math.min(1, (r - lo) / span));
        const c = tokenColor(this.cmap, v);
        bg = `rgb(${c.r},${c.g},${c.b})`;
        if (c.dark) flags |= 4;
      }
      this.setBg(t.i, bg, flags);
    }
  }

  /** Region shares of every row for the current method; false while rows are still loading. */
  private computeShares(): boolean {
    const region = this.region;
    if (!region) return true;
    const key = `${this.method}|${region.join(",")}`;
    if (this.sharesKey === key && this.shares) return true;
    if (!this.store.ensureAll(this.method)) {
      this.shares = null;
      return false;
    }
    const parts = regionParts(this.meta.grids, region);
    const n = this.meta.explained.length;
    const out = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const data = this.store.row(this.method, r);
      out[r] = data ? boxShare(data, parts) : 0;
    }
    this.shares = out;
    this.sharesKey = key;
    return true;
  }

  // -------------------------------------------------------------- panels

  private frameOf(g: GridMeta): number {
    return Math.min(this.frame, Math.max(0, (g.shape[0] || 1) - 1));
  }

  private imageSize(g: GridMeta, f: number): [number, number] {
    const idx = g.frames[f] ?? g.frames[0];
    const im = idx !== undefined ? this.meta.images[idx] : undefined;
    if (im && im.width > 0 && im.height > 0) return [im.width, im.height];
    const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, g.shape[2] * 14, g.shape[1] * 14];
    return [Math.max(1, Math.ceil(b[2])), Math.max(1, Math.ceil(b[3]))];
  }

  private buildPanels(): void {
    const grids = this.meta.grids;
    this.panels = [];
    this.panelsEl.textContent = "";
    this.panelsEl.classList.toggle("tam-multi", grids.length > 1);
    grids.forEach((g, gi) => {
      const video = (g.shape[0] || 1) > 1;
      const el = h("div", "tam-panel");
      el.dataset.grid = String(gi);
      el.dataset.kind = g.kind;
      const label = h("div", "tam-panel-label", g.label);
      const stage = h("div", "tam-stage");
      const photo = h("canvas", "tam-photo");
      const heat = h("canvas", "tam-heat");
      heat.dataset.grid = String(gi);
      const rbox = h("div", "tam-rbox");
      stage.append(photo, heat, rbox);
      el.append(label, stage);
      const panel: Panel = {
        gi, grid: g, video, el, label, stage, photo, heat, rbox,
        ctx: null, img: null, px: null, painters: [], last: null, photoOf: -1, frame: -1, thumbs: [],
      };
      if (video) this.buildThumbs(panel);
      this.wireStage(panel);
      this.panelsEl.appendChild(el);
      this.panels.push(panel);
    });
    this.sizePanels();
  }

  private sizePanels(): void {
    const multi = this.panels.length > 1;
    const max = multi ? MAX_PANEL_MULTI : MAX_PANEL_SINGLE;
    const min = multi ? MIN_PANEL_MULTI : MIN_PANEL_SINGLE;
    for (const panel of this.panels) {
      const [w] = this.imageSize(panel.grid, this.frameOf(panel.grid));
      const css = Math.min(max, Math.max(w, min));
      panel.el.style.width = `${css}px`;
    }
  }

  private buildThumbs(panel: Panel): void {
    const g = panel.grid;
    const strip = h("div", "tam-frames");
    for (let f = 0; f < g.shape[0]; f++) {
      const [iw, ih] = this.imageSize(g, f);
      const tw = THUMB_W;
      const th = Math.max(1, Math.round((ih * tw) / iw));
      const el = h("div", "tam-thumb");
      el.dataset.frame = String(f);
      el.title = `frame ${f + 1}`;
      const st = h("div", "tam-thumb-stage");
      const photo = h("canvas", "tam-thumb-photo");
      const heat = h("canvas", "tam-thumb-heat");
      photo.width = heat.width = tw;
      photo.height = heat.height = th;
      st.append(photo, heat);
      el.append(st, h("span", "tam-thumb-label", String(f + 1)));
      const ctx = heat.getContext("2d");
      const s = tw / iw;
      const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, iw, ih];
      const box: Box = [b[0] * s, b[1] * s, b[2] * s, b[3] * s];
      const img = ctx ? ctx.createImageData(tw, th) : null;
      if (ctx && img) {
        panel.thumbs.push({
          f, el, photo, heat, ctx, img,
          px: new Int32Array(img.data.buffer),
          painter: new HeatPainter(g.shape[1], g.shape[2], box, tw, th),
        });
      }
      el.addEventListener("click", (e) => {
        e.stopPropagation();
        this.stopPlay();
        this.setFrame(f, true);
        measureRepaint(e);
      });
      strip.appendChild(el);
      const idx = g.frames[f] ?? g.frames[0];
      if (idx !== undefined) {
        void this.image(idx).then((src) => {
          const c = photo.getContext("2d");
          if (src && c) c.drawImage(src, 0, 0, tw, th);
        });
      }
    }
    panel.el.appendChild(strip);
  }

  /** Decoded picture `idx` (cached); null when it cannot be decoded. */
  private image(idx: number): Promise<CanvasImageSource | null> {
    let pr = this.images.get(idx);
    if (!pr) {
      const bytes = this.p.images[idx];
      const mime = this.meta.images[idx]?.mime || "image/png";
      if (!bytes || !bytes.length) pr = Promise.resolve(null);
      else {
        const blob = new Blob([bytes as unknown as BlobPart], { type: mime });
        pr =
          typeof createImageBitmap === "function"
            ? createImageBitmap(blob).catch(() => this.imageViaElement(blob))
            : this.imageViaElement(blob);
      }
      this.images.set(idx, pr);
    }
    return pr;
  }

  private imageViaElement(blob: Blob): Promise<CanvasImageSource | null> {
    return new Promise((resolve) => {
      const url = URL.createObjectURL(blob);
      const im = new Image();
      im.onload = () => {
        URL.revokeObjectURL(url);
        resolve(im);
      };
      im.onerror = () => {
        URL.revokeObjectURL(url);
        resolve(null);
      };
      im.src = url;
    });
  }

  /** Make the big canvases of a panel show frame `f` (size, photo, painter). */
  private preparePanel(panel: Panel, f: number): HeatPainter | null {
    const g = panel.grid;
    const [w, hgt] = this.imageSize(g, f);
    if (panel.heat.width !== w || panel.heat.height !== hgt || !panel.ctx) {
      panel.heat.width = panel.photo.width = w;
      panel.heat.height = panel.photo.height = hgt;
      panel.ctx = panel.heat.getContext("2d");
      panel.img = panel.ctx ? panel.ctx.createImageData(w, hgt) : null;
      panel.px = panel.img ? new Int32Array(panel.img.data.buffer) : null;
      panel.last = null;
      panel.painters = [];
      panel.photoOf = -1;
    }
    if (panel.frame !== f) {
      panel.frame = f;
      panel.heat.dataset.frame = String(f);
      panel.label.textContent = panel.video ? `${g.label} \u00b7 frame ${f + 1}/${g.shape[0]}` : g.label;
      for (const t of panel.thumbs) t.el.classList.toggle("tam-current", t.f === f);
      this.placeRegionBox(panel);
    }
    const idx = g.frames[f] ?? g.frames[0];
    if (idx !== undefined && panel.photoOf !== idx) {
      panel.photoOf = idx;
      const c = panel.photo.getContext("2d");
      c?.clearRect(0, 0, w, hgt);
      void this.image(idx).then((src) => {
        if (src && c && panel.photoOf === idx && !this.dead) c.drawImage(src, 0, 0, w, hgt);
      });
    }
    let painter = panel.painters[f];
    if (!painter) {
      const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, w, hgt];
      painter = panel.painters[f] = new HeatPainter(g.shape[1], g.shape[2], b as Box, w, hgt);
    }
    return painter;
  }

  /** Draw the shown token's map on every panel (current frame) and every frame thumbnail. */
  private paintHeat(): void {
    const tok = this.shown();
    this.lastShown = tok;
    const row = this.rowOf.get(tok) ?? -1;
    const data = row >= 0 ? this.store.row(this.method, row) : null;
    const loading = row >= 0 && !data;
    this.root.classList.toggle("tam-loading", loading);
    for (const panel of this.panels) {
      const f = this.frameOf(panel.grid);
      const painter = this.preparePanel(panel, f);
      const { ctx, img, px } = panel;
      if (!ctx || !img || !px || !painter) continue;
      if (panel.last !== painter || !data) {
        px.fill(0);
        if (data) painter.paint(gridFrame(data, panel.grid, f), this.lut, px);
        ctx.putImageData(img, 0, 0);
        panel.last = data ? painter : null;
      } else {
        painter.paint(gridFrame(data, panel.grid, f), this.lut, px);
        const [x, y, w, hh] = painter.rect;
        ctx.putImageData(img, 0, 0, x, y, w, hh);
      }
      for (const t of panel.thumbs) {
        if (data) t.painter.paint(gridFrame(data, panel.grid, t.f), this.lut, t.px);
        else t.px.fill(0);
        t.ctx.putImageData(t.img, 0, 0);
      }
    }
    if (data && !this.painted) {
      this.painted = true;
      const p = perf();
      if (p && p.firstRender == null) p.firstRender = performance.now();
      this.startPrefetch();
    }
  }

  private startPrefetch(): void {
    if (this.prefetchStarted || !this.meta.on_demand) return;
    this.prefetchStarted = true;
    // let the first picture settle before pulling the rest of the method in the background
    setTimeout(() => {
      if (!this.dead) this.store.prefetch(this.method);
    }, 50);
  }

  /** Candidates and readout of the shown token (text nodes updated in place). */
  private paintInfo(): void {
    const tok = this.shown();
    const row = this.rowOf.get(tok) ?? -1;
    const [lo, span] = rowScale(this.p.scales, this.methodIdx, Math.max(0, row), this.meta.explained.length);
    this.legend.update(this.cmap, lo, span, this.methodInfo().legend);
    if (row < 0) {
      this.setCands([]);
      if (this.meta.explained.length) this.setReadout("", "", "");
      return;
    }
    const t = this.meta.tokens[tok];
    const text = readableToken(String(t?.[0] ?? ""), t?.[3] === 1);
    this.setCands((this.meta.candidates[row] ?? []).slice(0, 3));
    const data = this.store.row(this.method, row);
    if (this.store.error) return this.setReadout(text, this.store.error, "tam-ro-err");
    if (!data) return this.setReadout(text, "loading\u2026", "tam-loading-text");
    const pk = peak(data, this.meta.grids);
    const value = lo + (span * pk.value) / 255;
    const g = this.meta.grids[pk.grid];
    const where = g ? (g.shape[0] > 1 ? `${g.label}, frame ${pk.frame + 1}` : g.label) : "";
    const { share } = otsuShare(data);
    const txt = `peak ${fmtNum(value)}${where ? ` (${where})` : ""} \u00b7 ${(share * 100).toFixed(1)}% above Otsu`;
    this.setReadout(text, txt, "tam-ro-stats");
  }

  /** The current method's label and legend text. */
  private methodInfo(): { label: string; legend: string } {
    const m = this.meta.methods[this.methodIdx];
    const label = m?.label || this.method;
    return { label, legend: m?.legend || `${label} (colours: the map's values, low to high)` };
  }

  private readoutParts: [HTMLElement, Text, HTMLElement] | null = null;

  private setReadout(tok: string, rest: string, cls: string): void {
    if (!this.readoutParts || this.readoutParts[0].parentNode !== this.readout) {
      this.readout.textContent = "";
      this.readoutParts = [h("span", "tam-ro-tok"), document.createTextNode(""), h("span")];
      this.readout.append(...this.readoutParts);
    }
    const [a, sep, b] = this.readoutParts;
    if (a.textContent !== tok) a.textContent = tok;
    const s = tok && rest ? " \u00b7 " : "";
    if (sep.data !== s) sep.data = s;
    if (b.textContent !== rest) b.textContent = rest;
    if (b.className !== cls) {
      b.className = cls;
      b.title = cls === "tam-ro-stats" ? `${PEAK_TIP}\n\n${OTSU_TIP}` : "";
    }
  }

  private setCands(list: Candidate[]): void {
    const ul = this.cands;
    while (ul.children.length > list.length) ul.lastElementChild!.remove();
    while (ul.children.length < list.length) {
      const li = h("li");
      li.append(h("span", "tam-cand-text"), " ", h("span", "tam-cand-p"));
      ul.appendChild(li);
    }
    list.forEach(([ct, prob, chosen, bytes], k) => {
      const li = ul.children[k] as HTMLElement;
      const t = readableToken(String(ct), bytes === 1);
      const p = String(prob);
      const a = li.firstElementChild as HTMLElement;
      const b = li.lastElementChild as HTMLElement;
      if (a.textContent !== t) a.textContent = t;
      if (b.textContent !== p) b.textContent = p;
      li.classList.toggle("tam-cand-chosen", chosen === 1);
      li.classList.toggle("tam-cand-bytes", bytes === 1);
    });
  }

  private paintAll(): void {
    this.paintStrip();
    this.paintHeat();
    this.paintInfo();
    for (const p of this.panels) this.placeRegionBox(p);
  }

  private applyOpacity(): void {
    const o = String(this.opacity);
    for (const p of this.panels) {
      p.heat.style.opacity = o;
      for (const t of p.thumbs) t.heat.style.opacity = o;
    }
    if (this.opacityIn && this.opacityIn.value !== o) this.opacityIn.value = o;
  }

  // -------------------------------------------------------------- frames / play

  private setFrame(f: number, sync: boolean): void {
    const v = this.clampFrame(f);
    if (v === this.frame) return;
    this.frame = v;
    if (sync) {
      this.model.set("frame", v);
      this.model.save_changes();
    }
    this.paintHeat();
  }

  private startPlay(): void {
    if (this.playTimer || this.frameCount < 2) return;
    this.playTimer = setInterval(() => this.setFrame((this.frame + 1) % this.frameCount, true), PLAY_MS);
    if (this.playBtn) {
      this.playBtn.textContent = "\u275a\u275a pause";
      this.playBtn.classList.add("tam-playing");
    }
  }

  private stopPlay(): void {
    if (this.playTimer) clearInterval(this.playTimer);
    this.playTimer = null;
    if (this.playBtn) {
      this.playBtn.textContent = "\u25b6 play";
      this.playBtn.classList.remove("tam-playing");
    }
  }

  // -------------------------------------------------------------- region query

  private wireStage(panel: Panel): void {
    const st = panel.stage;
    const toImage = (e: PointerEvent): [number, number] => {
      const r = panel.heat.getBoundingClientRect();
      const x = ((e.clientX - r.left) / (r.width || 1)) * panel.heat.width;
      const y = ((e.clientY - r.top) / (r.height || 1)) * panel.heat.height;
      return [Math.max(0, Math.min(panel.heat.width, x)), Math.max(0, Math.min(panel.heat.height, y))];
    };
    st.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const [x, y] = toImage(e);
      this.drag = { panel, x0: x, y0: y, sx: e.clientX, sy: e.clientY, moved: false };
      try {
        st.setPointerCapture(e.pointerId);
      } catch {
        /* synthetic pointers cannot be captured */
      }
      e.preventDefault();
      this.root.focus({ preventScroll: true });
    });
    st.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d || d.panel !== panel) return;
      if (!d.moved && Math.hypot(e.clientX - d.sx, e.clientY - d.sy) < 4) return;
      d.moved = true;
      const [x, y] = toImage(e);
      this.showBox(panel, [d.x0, d.y0, x, y]);
    });
    const finish = (e: PointerEvent) => {
      const d = this.drag;
      if (!d || d.panel !== panel) return;
      this.drag = null;
      if (!d.moved) return;
      const [x, y] = toImage(e);
      const box = [Math.min(d.x0, x), Math.min(d.y0, y), Math.max(d.x0, x), Math.max(d.y0, y)].map((v) => Math.round(v * 10) / 10);
      if (box[2] - box[0] < 1 || box[3] - box[1] < 1) {
        this.placeRegionBox(panel);
        return;
      }
      const region: Region = [panel.gi, this.frameOf(panel.grid), box[0], box[1], box[2], box[3]];
      this.setRegion(region, true);
    };
    st.addEventListener("pointerup", finish);
    st.addEventListener("pointercancel", () => {
      this.drag = null;
      this.placeRegionBox(panel);
    });
  }

  private showBox(panel: Panel, b: readonly number[]): void {
    const W = panel.heat.width || 1;
    const H = panel.heat.height || 1;
    const x0 = Math.min(b[0], b[2]);
    const y0 = Math.min(b[1], b[3]);
    const s = panel.rbox.style;
    s.left = `${(x0 / W) * 100}%`;
    s.top = `${(y0 / H) * 100}%`;
    s.width = `${(Math.abs(b[2] - b[0]) / W) * 100}%`;
    s.height = `${(Math.abs(b[3] - b[1]) / H) * 100}%`;
    panel.rbox.classList.add("tam-on");
  }

  private placeRegionBox(panel: Panel): void {
    const r = this.region;
    if (r && r[0] === panel.gi && r[1] === this.frameOf(panel.grid)) this.showBox(panel, r.slice(2));
    else panel.rbox.classList.remove("tam-on");
  }

  private setRegion(region: Region | null, sync: boolean): void {
    this.region = region;
    this.shares = null;
    this.sharesKey = "";
    if (sync) {
      this.model.set("region", region ? [...region] : []);
      this.model.save_changes();
    }
    for (const p of this.panels) this.placeRegionBox(p);
    this.paintStrip();
  }

  // -------------------------------------------------------------- keyboard

  private onKey(e: KeyboardEvent): void {
    const tag = (e.target as HTMLElement | null)?.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || tag === "BUTTON") {
      if (e.key !== "Escape") return;
    }
    if (e.key === "Escape") {
      if (this.drag) {
        const p = this.drag.panel;
        this.drag = null;
        this.placeRegionBox(p);
      }
      if (this.region) {
        this.setRegion(null, true);
        e.preventDefault();
      }
      return;
    }
    const nav = this.nav;
    if (!nav.length) return;
    let target = -1;
    const at = nav.indexOf(this.pinned);
    if (e.key === "ArrowRight") target = nav[at < 0 ? 0 : Math.min(nav.length - 1, at + 1)];
    else if (e.key === "ArrowLeft") target = nav[at < 0 ? 0 : Math.max(0, at - 1)];
    else if (e.key === "Home") target = nav[0];
    else if (e.key === "End") target = nav[nav.length - 1];
    else return;
    e.preventDefault();
    this.hover = -1;
    this.placeHoverBox(-1);
    this.pin(target, e);
  }

  // -------------------------------------------------------------- model → page

  private onSelected(): void {
    if (!this.meta) return;
    const t = initialToken(this.meta, this.model.get("selected"));
    if (t === this.pinned) return;
    this.hover = -1;
    this.placeHoverBox(-1);
    this.pinned = t;
    this.paintStrip();
    this.paintHeat();
    this.paintInfo();
    if (t >= 0) this.revealToken(t);
  }

  private setMethod(name: string): void {
    const idx = this.meta.methods.findIndex((m) => m.name === name);
    const i = idx >= 0 ? idx : 0;
    this.methodSel.value = this.meta.methods[i]?.name ?? "";
    if (i === this.methodIdx && this.method === this.meta.methods[i]?.name) return;
    this.methodIdx = i;
    this.method = this.meta.methods[i]?.name ?? "";
    this.store.error = null;
    this.paintAll();
    if (this.painted && this.meta.on_demand) this.store.prefetch(this.method);
  }

  private onMethod(): void {
    if (this.meta) this.setMethod(String(this.model.get("method")));
  }

  private setColormap(name: string): void {
    const c = isColormap(name) ? name : "jet";
    this.cmapSel.value = c;
    if (c === this.cmap) return;
    this.cmap = c;
    this.lut = signedLut(c);
    // every panel must be repainted with the new colours
    for (const p of this.panels) p.last = null;
    this.paintStrip();
    this.paintHeat();
    this.paintInfo();
  }

  private onColormap(): void {
    if (this.meta) this.setColormap(String(this.model.get("colormap")));
  }

  private onOpacity(): void {
    if (!this.meta) return;
    const o = Number(this.model.get("opacity"));
    if (!Number.isFinite(o)) return;
    this.opacity = Math.max(0, Math.min(1, o));
    this.applyOpacity();
  }

  private onSpecials(): void {
    if (!this.meta) return;
    const v = !!this.model.get("show_specials");
    this.specialsIn.checked = v;
    if (v === this.showSpecials) return;
    this.showSpecials = v;
    this.buildStrip();
    this.paintStrip();
  }

  private onFrame(): void {
    if (this.meta) this.setFrame(this.model.get("frame"), false);
  }

  private onRegion(): void {
    if (!this.meta) return;
    const r = this.parseRegion(this.model.get("region"));
    const same = (r === null && this.region === null) || (r && this.region && r.every((v, k) => v === this.region![k]));
    if (!same) this.setRegion(r, false);
  }

  private onCustom(msg: unknown, buffers: unknown[]): void {
    if (!this.store) return;
    if (this.store.receive(msg, buffers as any[])) return;
    // any other reply carrying an error (the kernel could not read a message): say so in the readout
    const err = (msg as { error?: unknown } | null)?.error;
    if (err) {
      this.store.error = `the kernel refused a message: ${String(err)}`;
      this.paintInfo();
    }
  }

  private onArrived(method: string): void {
    if (this.dead || method !== this.method) return;
    const row = this.rowOf.get(this.shown()) ?? -1;
    if (row >= 0 && (this.root.classList.contains("tam-loading") || !this.painted) && this.store.has(method, row)) {
      this.paintHeat();
      this.paintInfo();
    } else if (this.store.error) {
      this.paintInfo();
    }
    if (this.region && !this.shares && this.store.hasAll(method)) this.paintStrip();
  }

  // -------------------------------------------------------------- save

  private savePng(): void {
    const tok = this.shown();
    const label = String(this.meta.tokens[tok]?.[0] ?? "");
    const canvas = this.composite(readableToken(label, this.meta.tokens[tok]?.[3] === 1));
    if (!canvas) return;
    const name = `tam_${fileSafe(label) || `token${tok}`}.png`;
    canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.style.display = "none";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }, "image/png");
  }

  /**
   * The saved picture: a caption (record, token, method), the provenance warning if any, photo +
   * heat (current opacity) of every panel at the current frame side by side, and the colour legend.
   */
  composite(text: string): HTMLCanvasElement | null {
    const panels = this.panels.filter((p) => p.heat.width > 0);
    if (!panels.length) return null;
    // small pictures are enlarged (whole factors) so the file is readable
    const tallest = Math.max(...panels.map((p) => p.heat.height));
    const s = Math.max(1, Math.min(4, Math.floor(360 / tallest)));
    const gap = 8;
    const cap = 30;
    const width = Math.max(480, panels.reduce((sum, p) => sum + p.heat.width * s, 0) + gap * (panels.length - 1));
    const c = document.createElement("canvas");
    const probe = c.getContext("2d");
    if (!probe) return null;
    const warning = this.meta.warning ? String(this.meta.warning) : null;
    const legend = this.legend.texts();
    // measure the variable-height parts on a scratch canvas first (resizing a canvas clears it)
    const warnH = drawWarning(probe, 0, width, warning);
    const legH = legendHeight(probe, width, legend[2]);
    c.width = width;
    c.height = cap + warnH + tallest * s + legH;
    const ctx = c.getContext("2d");
    if (!ctx) return null;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.fillStyle = "#1f2328";
    ctx.font = "15px system-ui, -apple-system, 'Segoe UI', sans-serif";
    ctx.textBaseline = "middle";
    const title = this.meta.title ? `${this.meta.title} \u00b7 ` : "";
    ctx.fillText(`${title}${text} \u2014 ${this.methodInfo().label}`, 6, cap / 2, width - 12);
    let y = cap;
    y += drawWarning(ctx, y, width, warning);
    ctx.imageSmoothingEnabled = true;
    let x = 0;
    for (const p of panels) {
      const w = p.heat.width * s;
      const hh = p.heat.height * s;
      ctx.globalAlpha = 1;
      ctx.drawImage(p.photo, x, y, w, hh);
      ctx.globalAlpha = this.opacity;
      ctx.drawImage(p.heat, x, y, w, hh);
      x += w + gap;
    }
    ctx.globalAlpha = 1;
    y += tallest * s;
    drawLegend(ctx, y, width, this.legend.bar, legend);
    return c;
  }
}

/** anywidget-style render: build the view into `el`; returns the cleanup function. */
export function renderView(model: WidgetModel, el: HTMLElement): () => void {
  const view = new TamView(model, el);
  return () => view.destroy();
}
