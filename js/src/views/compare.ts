// The comparison view: one column per model (rows when narrow), each with its label, question, answer
// strip, maps and summary line; a word hovered or pinned in one column is shown in every column (the
// alignment comes from Python: `_compare.alignment`). The only place that talks to the model.

import { isColormap, signedLut } from "../colormaps";
import { frameOfPicture, parsePayload, rowScale } from "../decode";
import type { Meta, Payload } from "../decode";
import { fileSafe, h } from "../dom";
import { ImageCache } from "../images";
import { methodInfo } from "../legend";
import { bind, commit, onMessage } from "../model";
import type { AnyModel, RecordEntry } from "../model";
import { watchKernel } from "../kernel";
import { markFirstRender, measureRepaint } from "../perf";
import { otsuShare } from "../stats";
import type { Region } from "../stats";
import { disconnectedBanner, warningBanner } from "../components/banner";
import { CompareSummary } from "../components/compare_summary";
import { Controls } from "../components/controls";
import { Legend } from "../components/legend";
import { MapStore } from "../components/map_store";
import { HeatPanels } from "../components/panels";
import { Player } from "../components/player";
import { composite, downloadPng } from "../components/png_export";
import { TokenStrip } from "../components/strip";
import { WordBox } from "../components/word_box";

/** The aligned words (`tam_widgets.compare.Alignment.to_json`). */
export interface AlignmentData {
  texts: string[];
  keys: string[];
  ranges: ([number, number] | null)[][];
  tokens: (number | null)[][];
}

/** `_compare` (`tam_widgets.compare.Comparison.to_json`). */
export interface CompareData {
  labels: string[];
  prompts: string[];
  alignment: AlignmentData;
  summaries: { answer: string; object_words: string[]; nouns_known: boolean; mean_peak: Record<string, number | null> }[];
}

/** The synced attributes of the comparison (defaults and checks: `tam_widgets/widgets/state.py`, COMPARE_ATTRS). */
export interface CompareState {
  _view: string;
  _records: RecordEntry[];
  _compare: CompareData;
  word: number;
  query: string;
  method: string;
  colormap: string;
  opacity: number;
  scale: string;
  /** [] or [picture, x0, y0, x1, y1] in stored pixels */
  region: number[];
  /** the video frame every column shows, as a picture index */
  frame: number;
}

/** A box on one of the compared pictures (stored pixels): [picture, x0, y0, x1, y1], corners sorted. */
export type PictureRegion = [number, number, number, number, number];

/** `v` as a picture region (corners sorted), or null (none, or not a box). */
export function parsePictureRegion(v: unknown, nImages: number): PictureRegion | null {
  if (!Array.isArray(v) || v.length !== 5) return null;
  const r = v.map(Number);
  if (r.some((x) => !Number.isFinite(x)) || !Number.isInteger(r[0]) || r[0] < 0 || r[0] >= nImages) return null;
  const box: PictureRegion = [r[0], Math.min(r[1], r[3]), Math.min(r[2], r[4]), Math.max(r[1], r[3]), Math.max(r[2], r[4])];
  return box[3] > box[1] && box[4] > box[2] ? box : null;
}

interface Column {
  m: number;
  root: HTMLElement;
  wordLabel: HTMLElement;
  p: Payload;
  meta: Meta;
  rowOf: Map<number, number>;
  /** token index -> aligned word (-1: none) */
  tokWord: Int32Array;
  methodIdx: number;
  strip: TokenStrip;
  panels: HeatPanels;
  legend: Legend;
  summary: CompareSummary;
  store: MapStore;
  /** remapped row for the shared scale */
  scratch: Uint8Array;
  marked: number[];
  /** what the panels and the info show now ("" : nothing yet), to skip unchanged columns on a hover */
  heatKey: string;
  infoKey: string;
  /** per picture, the display scale of its canvases (displayMeta) */
  scales: number[];
}

/** Widest picture a column paints, in canvas pixels: larger pictures are painted scaled down (three panels
 * repaint on every hover; a column is about this wide). */
export const MAX_CANVAS = 420;

/** `meta` with pictures wider than `max` scaled down (their sizes and the grids' boxes): what a column paints. */
export function displayMeta(meta: Meta, max = MAX_CANVAS): Meta {
  const s = meta.images.map((im) => (im.width > max ? max / im.width : 1));
  if (s.every((x) => x === 1)) return meta;
  return {
    ...meta,
    images: meta.images.map((im, k) => ({ ...im, width: Math.round(im.width * s[k]), height: Math.round(im.height * s[k]) })),
    grids: meta.grids.map((g) => ({
      ...g,
      boxes: g.boxes.map((b, f) => b.map((v) => v * (s[g.frames[f] ?? 0] ?? 1)) as [number, number, number, number]),
    })),
  };
}

/** The word a typed text names: the first aligned word whose key is the text lower-cased and trimmed; -1 if none. */
export function findWord(keys: readonly string[], text: string): number {
  const t = text.trim().toLowerCase();
  return t ? keys.indexOf(t) : -1;
}

export class CompareView {
  readonly root: HTMLElement;
  private cols: Column[] = [];
  private data: CompareData | null = null;
  private controls: Controls | null = null;
  private box: WordBox | null = null;
  private pinned = -1;
  private hovered = -1;
  /** the column whose strip the hovered word came from */
  private hoverFrom = -1;
  private method = "";
  private cmap = "jet";
  private lut: Int32Array = signedLut("jet");
  private opacity = 0.55;
  private scale = "own";
  private region: PictureRegion | null = null;
  private showSpecials = false;
  private painted = false;
  private dead = false;
  private lost: string | null = null;
  /** the video frame every column shows, as a picture index */
  private picture = 0;
  /** the pictures that start a video step in some column, sorted: what play steps through */
  private videoPictures: number[] = [];
  private player = new Player(
    () => this.stepPicture(1),
    (on) => this.controls?.setPlaying(on),
  );
  private unbind: (() => void)[] = [];

  constructor(
    private model: AnyModel<CompareState>,
    host: HTMLElement,
  ) {
    this.root = h("div", "tam-view tam-compare");
    this.root.tabIndex = 0;
    host.appendChild(this.root);
    const m = model;
    this.unbind.push(
      bind(m, "_records", () => this.rebuild(), false),
      bind(m, "_compare", () => this.rebuild(), false),
      bind(m, "word", (v) => this.data && this.setWord(Number(v), null), false),
      bind(m, "query", (v) => this.box?.setQuery(String(v ?? "")), false),
      bind(m, "method", (v) => this.data && this.setMethod(String(v)), false),
      bind(m, "colormap", (v) => this.data && this.setColormap(String(v)), false),
      bind(m, "opacity", (v) => this.data && this.setOpacity(v), false),
      bind(m, "scale", (v) => this.data && this.setScale(String(v)), false),
      bind(m, "region", (v) => this.data && this.onRegion(v), false),
      bind(m, "frame", (v) => this.data && this.setPicture(Number(v), false), false),
      onMessage(m, (msg, buffers) => this.onCustom(msg, buffers)),
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.rebuild();
    this.unbind.push(watchKernel(m, host, (why) => ((this.lost = why), this.data && this.showLost())));
  }

  destroy(): void {
    this.dead = true;
    this.dispose();
    for (const off of this.unbind) off();
    this.unbind = [];
    this.root.remove();
  }

  private dispose(): void {
    this.player.stop();
    for (const c of this.cols) {
      c.strip.dispose();
      c.panels.dispose();
      c.store.dispose();
    }
    this.cols = [];
    this.data = null;
  }

  // -------------------------------------------------------------- build

  private rebuild(): void {
    this.dispose();
    this.root.textContent = "";
    this.root.className = "tam-view tam-compare";
    const m = this.model;
    const entries = m.get("_records") ?? [];
    const data = m.get("_compare");
    let payloads: Payload[];
    try {
      if (!data || !Array.isArray(data.labels) || !data.alignment) throw new Error("the comparison has no _compare data");
      payloads = entries.map((e) => parsePayload(e));
      if (payloads.length !== data.labels.length) throw new Error("records and labels do not match");
    } catch (err) {
      this.root.appendChild(h("div", "tam-error", `tam-widgets: ${(err as Error).message}`));
      return;
    }
    this.painted = false;
    const al = data.alignment;
    const videoPictures = [
      ...new Set(payloads.flatMap((p) => p.meta.grids.filter((g) => (g.shape[0] || 1) > 1).flatMap((g) => g.frames))),
    ].sort((a, b) => a - b);
    this.videoPictures = videoPictures;
    const common = payloads[0].meta.methods.filter((x) => payloads.every((p) => p.meta.methods.some((y) => y.name === x.name)));
    this.controls = new Controls({
      title: `Comparison: ${data.labels.join(" \u00b7 ")}`,
      methods: common,
      playable: videoPictures.length > 1,
      onMethod: (v) => (this.setMethod(v), commit(m, "method", this.method)),
      onColormap: (v) => (this.setColormap(v), commit(m, "colormap", this.cmap)),
      onOpacity: (v) => (this.setOpacity(v), commit(m, "opacity", this.opacity)),
      onSpecials: (v) => this.setSpecials(v),
      onPlay: () => (this.videoPictures.length > 1 ? this.player.toggle() : undefined),
      onSave: () => this.savePng(),
    });
    this.box = new WordBox({
      onQuery: (text) => this.onQuery(text),
      onScale: (v) => (this.setScale(v), commit(m, "scale", this.scale)),
    });
    const warnings = [...new Set(payloads.map((p) => p.meta.warning).filter((w): w is string => !!w))];
    for (const w of warnings) this.root.appendChild(warningBanner(w));
    const grid = h("div", "tam-compare-cols");
    grid.style.setProperty("--tam-cols", String(payloads.length));
    this.root.append(this.controls.root, this.box.root, grid);

    payloads.forEach((p, k) => {
      const meta = p.meta;
      const root = h("div", "tam-compare-col");
      root.dataset.model = String(k);
      const head = h("div", "tam-compare-head");
      const label = h("span", "tam-compare-label", data.labels[k]);
      label.title = data.labels[k];
      const wordLabel = h("span", "tam-compare-word");
      head.append(label, wordLabel);
      const question = h("div", "tam-compare-question", data.prompts[k] ?? "");
      question.title = data.prompts[k] ?? "";
      const shown = displayMeta(meta);
      const tokWord = new Int32Array(meta.tokens.length).fill(-1);
      al.ranges.forEach((row, w) => {
        const r = row[k];
        if (r) for (let i = r[0]; i < r[1]; i++) tokWord[i] = w;
      });
      const col: Column = {
        m: k, root, wordLabel, p, meta, tokWord, methodIdx: 0, marked: [], heatKey: "", infoKey: "",
        scales: meta.images.map((im, i) => (shown.images[i] && im.width > 0 ? shown.images[i].width / im.width : 1)),
        rowOf: new Map(meta.explained.map((t, r) => [t, r])),
        strip: new TokenStrip(meta, {
          onHover: (i, ev, inFrame) => this.hover(col.tokWord[i], ev, inFrame, k),
          // Chrome sends the next strip's pointerrawupdate before this one's pointerleave: only the
          // strip the hover came from ends it
          onLeave: (ev) =>
            this.hoverFrom === k ? this.hover(-1, ev, false, -1) : col.strip.placeHoverBox(this.tokenOf(col, this.hovered)),
          onPick: (i, ev) => col.tokWord[i] >= 0 && this.pin(col.tokWord[i], ev),
        }),
        panels: new HeatPanels(shown, new ImageCache(p.images, meta), {
          onRegion: (r) => this.setRegion(this.pictureRegion(col, r), true),
          onDragStart: () => this.root.focus({ preventScroll: true }),
          onFrame: (f, ev, gi) => {
            this.player.stop();
            this.setPicture(col.meta.grids[gi]?.frames[f] ?? 0, true);
            measureRepaint(ev);
          },
        }),
        legend: new Legend(),
        summary: new CompareSummary(),
        store: new MapStore(entries[k].id ?? `r${k}`, p, (msg) => m.send(msg), (meth) => this.onArrived(meth)),
        scratch: new Uint8Array(meta.n_visual),
      };
      col.strip.build(this.showSpecials);
      root.append(head, question, col.strip.root, col.summary.root, col.legend.root, col.panels.root);
      grid.appendChild(root);
      this.cols.push(col);
    });
    this.data = data;

    this.setColormap(String(m.get("colormap")));
    this.setOpacity(m.get("opacity"));
    this.setScale(String(m.get("scale")));
    this.box.setQuery(String(m.get("query") ?? ""));
    this.method = "";
    this.setMethod(String(m.get("method")));
    const w = Number(m.get("word"));
    this.pinned = Number.isInteger(w) && w >= 0 && w < al.keys.length ? w : -1;
    this.region = null;
    this.setRegion(parsePictureRegion(m.get("region"), payloads[0].meta.images.length), false, false);
    this.showPicture(Number(m.get("frame") ?? 0));
    this.paintAll();
    this.revealPinned();
    if (this.lost) this.showLost();
  }

  /** The kernel is gone: say so, keep what is loaded, disable the methods that are not. */
  private showLost(): void {
    for (const c of this.cols) {
      c.store.disconnect(this.lost!);
      c.infoKey = "";
    }
    this.root.classList.add("tam-disconnected");
    this.root.insertBefore(disconnectedBanner(this.lost!), this.controls!.root);
    this.controls!.disableMethods((name) => !this.cols.every((c) => c.store.hasAny(name)));
    this.paintAll();
  }

  // -------------------------------------------------------------- state from either side

  private setMethod(name: string): void {
    const opts = Array.from(this.controls!.method.options).map((o) => o.value);
    const v = opts.includes(name) ? name : (opts[0] ?? "");
    this.controls!.setMethod(v);
    if (v === this.method) return;
    const first = this.method === "";
    this.method = v;
    for (const c of this.cols) {
      c.methodIdx = Math.max(0, c.meta.methods.findIndex((x) => x.name === v));
      c.store.error = null;
    }
    if (!first) this.paintAll();
    if (this.painted) this.prefetch();
  }

  private setColormap(name: string): void {
    const cm = isColormap(name) ? name : "jet";
    this.controls!.setColormap(cm);
    if (cm === this.cmap && this.painted) return;
    this.cmap = cm;
    this.lut = signedLut(cm);
    for (const c of this.cols) {
      c.panels.invalidate();
      c.heatKey = c.infoKey = "";
    }
    if (this.painted) this.paintAll();
  }

  private setOpacity(v: unknown): void {
    const o = Number(v);
    if (!Number.isFinite(o)) return;
    this.opacity = Math.max(0, Math.min(1, o));
    this.controls!.setOpacity(this.opacity);
    for (const c of this.cols) c.panels.setOpacity(this.opacity);
  }

  private setScale(v: string): void {
    const s = v === "shared" ? "shared" : "own";
    this.box!.setScale(s);
    if (s === this.scale) return;
    this.scale = s;
    if (this.painted) this.paintAll();
  }

  private setSpecials(on: boolean): void {
    this.controls!.setSpecials(on);
    if (on === this.showSpecials) return;
    this.showSpecials = on;
    for (const c of this.cols) c.strip.build(on);
    this.paintStrips();
    this.revealPinned();
  }

  private setWord(w: number, ev: Event | null): void {
    const al = this.data!.alignment;
    const v = Number.isInteger(w) && w >= 0 && w < al.keys.length ? w : -1;
    if (v === this.pinned) return;
    this.pinned = v;
    this.hovered = -1;
    for (const c of this.cols) c.strip.clearHover();
    this.paintAll();
    measureRepaint(ev);
    this.revealPinned();
  }

  private onRegion(v: unknown): void {
    const r = parsePictureRegion(v, this.cols[0]?.meta.images.length ?? 0);
    const cur = this.region;
    const same = (r === null && cur === null) || (r && cur && r.every((x, k) => x === cur[k]));
    if (!same) this.setRegion(r, false);
  }

  /** A box drawn on column `c`'s panel (display pixels of grid `gi`, frame `f`) as a picture region. */
  private pictureRegion(c: Column, r: number[]): PictureRegion | null {
    const g = c.meta.grids[r[0]];
    const pic = g?.frames[r[1]] ?? g?.frames[0];
    if (pic === undefined) return null;
    const s = c.scales[pic] || 1;
    return parsePictureRegion([pic, r[2] / s, r[3] / s, r[4] / s, r[5] / s], c.meta.images.length);
  }

  /** Column `c`'s region on its first grid frame laid over the region's picture (stored pixels), or null. */
  private columnRegion(c: Column, r: PictureRegion | null): Region | null {
    if (!r) return null;
    for (let g = 0; g < c.meta.grids.length; g++) {
      const f = c.meta.grids[g].frames.indexOf(r[0]);
      if (f >= 0) return [g, f, r[1], r[2], r[3], r[4]];
    }
    return null;
  }

  private setRegion(r: PictureRegion | null, sync: boolean, paint = true): void {
    this.region = r;
    if (sync) commit(this.model, "region", r ? [...r] : []);
    for (const c of this.cols) {
      const cr = this.columnRegion(c, r);
      const s = cr ? c.scales[r![0]] || 1 : 1;
      c.panels.setRegion(cr ? [cr[0], cr[1], cr[2] * s, cr[3] * s, cr[4] * s, cr[5] * s] : null);
    }
    this.root.classList.toggle("tam-region-mode", !!r);
    this.box?.message(r ? "region: each word coloured by the share of its map inside the box (hover a word for its %) \u2014 Esc clears" : "");
    if (paint) this.paintStrips();
  }

  /** Every column shows the video step holding picture `p` (columns without it keep theirs); true if one moved. */
  private showPicture(p: number): boolean {
    if (!Number.isInteger(p) || p < 0) return false;
    this.picture = p;
    let moved = false;
    for (const c of this.cols) {
      const f = frameOfPicture(c.meta, p);
      if (f === null || f === c.panels.frame) continue;
      c.panels.frame = f;
      c.heatKey = "";
      moved = true;
    }
    return moved;
  }

  /** A frame picked (or played) in one column, or `frame` set from Python: show it in every column. */
  private setPicture(p: number, sync: boolean): void {
    if (p === this.picture && !sync) return;
    const moved = this.showPicture(p);
    if (sync) commit(this.model, "frame", this.picture);
    if (moved) this.paintHeat();
  }

  /** Play: the next picture that starts a video step in some column (wrapping). */
  private stepPicture(d: number): void {
    const v = this.videoPictures;
    if (!v.length) return;
    let i = v.length - 1;
    while (i > 0 && v[i] > this.picture) i--;
    this.setPicture(v[(i + d + v.length) % v.length], true);
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.data?.alignment.keys.length ?? 0;
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (step && n && !e.altKey && !e.ctrlKey && !e.metaKey) {
      // ← → move the pinned word along the aligned words
      e.preventDefault();
      const w = this.pinned < 0 ? (step > 0 ? 0 : n - 1) : Math.max(0, Math.min(n - 1, this.pinned + step));
      if (w !== this.pinned) commit(this.model, "word", w);
      this.setWord(w, e);
      return;
    }
    if (e.key !== "Escape") return;
    for (const c of this.cols) c.panels.cancelDrag();
    if (this.region) {
      this.setRegion(null, true);
      e.preventDefault();
    }
  }

  // -------------------------------------------------------------- page events

  private hover(w: number, ev: Event, inFrame: boolean, from: number): void {
    this.hoverFrom = from;
    if (w === this.hovered) return;
    this.hovered = w;
    const al = this.data!.alignment;
    // the same word's bar in every other strip
    for (const c of this.cols) {
      const tok = w >= 0 ? al.tokens[w][c.m] : null;
      if (c.strip.hovered < 0 || tok === null) c.strip.placeHoverBox(tok ?? -1);
    }
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev, inFrame);
  }

  private pin(w: number, ev: Event): void {
    this.root.focus({ preventScroll: true });
    if (w !== this.pinned) commit(this.model, "word", w);
    this.setWord(w, ev);
  }

  private onQuery(text: string): void {
    const m = this.model;
    commit(m, "query", text);
    const al = this.data!.alignment;
    if (!text.trim()) return this.box!.message("");
    const w = findWord(al.keys, text);
    if (w < 0) return this.box!.message(`no model said ${JSON.stringify(text.trim())}`, true);
    const n = al.tokens[w].filter((t) => t !== null).length;
    this.box!.message(`${JSON.stringify(al.texts[w].trim())}: said by ${n} of ${this.cols.length} models`);
    if (w !== this.pinned) commit(m, "word", w);
    this.setWord(w, null);
  }

  private onCustom(msg: unknown, buffers: unknown[] | undefined): void {
    for (const c of this.cols) {
      if (c.store.receive(msg, buffers as any[])) return;
    }
    const rec = (msg as { record?: unknown } | null)?.record;
    const c = this.cols.find((x) => x.store.record === rec) ?? this.cols[0];
    if (c && c.store.replyError(msg)) this.paintInfo();
  }

  private onArrived(method: string): void {
    if (this.dead || !this.data || method !== this.method) return;
    this.paintHeat();
    this.paintInfo();
    if (this.region && this.cols.every((c) => c.store.hasAll(method))) this.paintStrips();
  }

  // -------------------------------------------------------------- painting

  /** The aligned word the panels show: the hovered one, else the pinned one. */
  private shown(): number {
    return this.hovered >= 0 ? this.hovered : this.pinned;
  }

  private tokenOf(c: Column, w: number): number {
    const t = w >= 0 ? this.data!.alignment.tokens[w]?.[c.m] : null;
    return t === null || t === undefined ? -1 : t;
  }

  private paintAll(): void {
    this.paintStrips();
    this.paintHeat();
    this.paintInfo();
  }

  /** Mark the pinned word in every strip (its first token selected, the rest of the word outlined). */
  private paintStrips(): void {
    const al = this.data!.alignment;
    for (const c of this.cols) {
      for (const i of c.marked) c.strip.el(i)?.classList.remove("tam-aligned");
      c.marked = [];
      const r = this.pinned >= 0 ? al.ranges[this.pinned][c.m] : null;
      // region mode: every word coloured by the share of its map inside the box (null while rows load)
      const cr = this.columnRegion(c, this.region);
      const shares = cr ? c.store.regionShares(this.method, cr, c.meta.grids) : null;
      c.strip.paintShares(this.tokenOf(c, this.pinned), shares, this.cmap);
      if (r) {
        for (let i = r[0]; i < r[1]; i++) {
          c.strip.el(i)?.classList.add("tam-aligned");
          c.marked.push(i);
        }
      }
    }
  }

  /** Every column's `(lo, span)` of the shown word's row, the shared range when `scale` is shared. */
  private ranges(w: number): ([number, number] | null)[] {
    const own = this.cols.map((c) => {
      const row = c.rowOf.get(this.tokenOf(c, w)) ?? -1;
      return row >= 0 ? rowScale(c.p.scales, c.methodIdx, row, c.meta.explained.length) : null;
    });
    if (this.scale !== "shared") return own;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of own) {
      if (!r) continue;
      lo = Math.min(lo, r[0]);
      hi = Math.max(hi, r[0] + r[1]);
    }
    if (!Number.isFinite(lo)) return own;
    return own.map((r) => (r ? [lo, hi - lo] : null));
  }

  /** Draw the shown word's map in every column (an absent word: no map). */
  private paintHeat(): void {
    const w = this.shown();
    const shared = this.scale === "shared" ? this.ranges(w) : null;
    let any = false;
    for (const c of this.cols) {
      const row = c.rowOf.get(this.tokenOf(c, w)) ?? -1;
      let data = row >= 0 ? c.store.row(this.method, row) : null;
      // a column whose map is the same as painted (same row, method, colours and range) is left alone
      const key = data ? `${row}|${this.method}|${this.cmap}|${shared ? shared[c.m]!.join(",") : ""}|${c.panels.frame}` : "-";
      if (key === c.heatKey) {
        any = any || !!data;
        continue;
      }
      c.heatKey = key;
      const loading = row >= 0 && !data;
      if (c.root.classList.contains("tam-loading") !== loading) c.root.classList.toggle("tam-loading", loading);
      if (data && shared) data = this.remap(c, row, data, shared[c.m]!);
      c.panels.paint(data, this.lut);
      any = any || !!data;
    }
    if (any && !this.painted) {
      this.painted = true;
      markFirstRender();
      // rows fetched on demand: let the first pictures settle, then pull the rest of the method in the background
      setTimeout(() => this.prefetch(), 50);
    }
  }

  private prefetch(): void {
    if (this.dead || !this.data) return;
    for (const c of this.cols) if (c.meta.on_demand) c.store.prefetch(this.method);
  }

  /** A row's u8 values on the shared range `[lo, lo + span]` instead of its own. */
  private remap(c: Column, row: number, data: Uint8Array, shared: [number, number]): Uint8Array {
    const [lo, span] = rowScale(c.p.scales, c.methodIdx, row, c.meta.explained.length);
    const [slo, sspan] = shared;
    const lut = new Uint8Array(256);
    const k = sspan > 0 ? span / 255 / sspan : 0;
    const b = sspan > 0 ? (lo - slo) / sspan : 0;
    for (let u = 0; u < 256; u++) lut[u] = Math.max(0, Math.min(255, Math.round((b + k * u) * 255)));
    const out = c.scratch;
    for (let i = 0; i < data.length; i++) out[i] = lut[data[i]];
    return out;
  }

  /** Word labels, legends and summary lines of the shown word. */
  private paintInfo(): void {
    const data = this.data!;
    const al = data.alignment;
    const w = this.shown();
    const ranges = this.ranges(w);
    for (const c of this.cols) {
      const tok = this.tokenOf(c, w);
      const row = c.rowOf.get(tok) ?? -1;
      const rowData = row >= 0 ? c.store.row(this.method, row) : null;
      const [lo, span] = ranges[c.m] ?? [0, 1];
      const key = `${w}|${this.method}|${this.cmap}|${this.scale}|${lo}|${span}|${!!rowData}|${c.store.error ?? ""}`;
      if (key === c.infoKey) continue;
      c.infoKey = key;
      const said = w >= 0 && al.ranges[w][c.m] !== null;
      const text = w < 0 ? "" : said ? this.wordText(c, w) : al.texts[w].trim();
      const label = w < 0 ? "no word selected" : said ? `\u201c${text}\u201d` : `\u201c${text}\u201d absent`;
      if (c.wordLabel.textContent !== label) c.wordLabel.textContent = label;
      c.wordLabel.title = said || w < 0 ? "" : "this model did not say this word: no map";
      const absent = w >= 0 && !said;
      if (c.root.classList.contains("tam-absent") !== absent) c.root.classList.toggle("tam-absent", absent);
      const info = methodInfo(c.meta.methods[c.methodIdx], this.method);
      c.legend.update(this.cmap, lo, span, this.scale === "shared" ? `${info.legend} \u2014 one range for all models` : info.legend);
      const s = data.summaries[c.m];
      c.summary.update({
        answer: s?.answer ?? "",
        meanPeak: s?.mean_peak?.[this.method] ?? null,
        objectWords: s?.object_words ?? [],
        nounsKnown: !!s?.nouns_known,
        word: said ? text : null,
        share: rowData ? otsuShare(rowData).share : null,
        candidates: row >= 0 ? (c.meta.candidates[row] ?? []) : [],
      });
    }
  }

  private wordText(c: Column, w: number): string {
    const r = this.data!.alignment.ranges[w][c.m]!;
    let s = "";
    for (let i = r[0]; i < r[1]; i++) s += String(c.meta.tokens[i]?.[0] ?? "");
    return s.trim();
  }

  private revealPinned(): void {
    for (const c of this.cols) {
      const t = this.tokenOf(c, this.pinned);
      if (t >= 0) c.strip.reveal(t);
    }
  }

  /** Save PNG: every column's picture of the shown word side by side. */
  private savePng(): void {
    const w = this.shown();
    const label = w >= 0 ? this.data!.alignment.texts[w].trim() : "";
    const parts = this.cols
      .map((c) =>
        composite(c.panels.panels, {
          title: this.data!.labels[c.m],
          token: w >= 0 && this.tokenOf(c, w) >= 0 ? JSON.stringify(label) : `${JSON.stringify(label)} absent`,
          methodLabel: methodInfo(c.meta.methods[c.methodIdx], this.method).label,
          warning: c.meta.warning ? String(c.meta.warning) : null,
          opacity: this.opacity,
          legendBar: c.legend.bar,
          legend: c.legend.texts(),
        }),
      )
      .filter((x): x is HTMLCanvasElement => !!x);
    if (!parts.length) return;
    const out = document.createElement("canvas");
    out.width = parts.reduce((s, p) => s + p.width, 0) + 8 * (parts.length - 1);
    out.height = Math.max(...parts.map((p) => p.height));
    const ctx = out.getContext("2d");
    if (!ctx) return;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    let x = 0;
    for (const p of parts) {
      ctx.drawImage(p, x, 0);
      x += p.width + 8;
    }
    downloadPng(out, `tam_compare_${fileSafe(label) || "word"}.png`);
  }
}
