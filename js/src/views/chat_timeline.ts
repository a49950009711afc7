// The chat timeline: a multi-turn conversation top to bottom (each turn: the user's message with its
// pictures, the answer's token strip and sparkline), the shown token's map over the pictures it could
// see, and for a live chat a question box. The only place that talks to the model.

import { isColormap, signedLut } from "../colormaps";
import { decodeFloat16, parsePayload, rowScale } from "../decode";
import type { Meta, Payload } from "../decode";
import { fileSafe, h } from "../dom";
import { ImageCache } from "../images";
import { initialToken, readableToken } from "../layout";
import { methodInfo } from "../legend";
import { bind, commit, onMessage } from "../model";
import type { AnyModel, RecordEntry } from "../model";
import { watchKernel } from "../kernel";
import { markFirstRender, measureRepaint } from "../perf";
import { AskBox } from "../components/ask_box";
import { disconnectedBanner, warningBanner } from "../components/banner";
import { Controls } from "../components/controls";
import { keyAction } from "../components/keys";
import { Legend } from "../components/legend";
import { MapStore } from "../components/map_store";
import { HeatPanels } from "../components/panels";
import { composite, downloadPng } from "../components/png_export";
import { StripKey } from "../components/strip_key";
import type { StripEvents } from "../components/strip";
import { TokenInfo } from "../components/token_info";
import { TurnBlock, splitTurns } from "../components/turn";
import { Growth, isAppend } from "../components/growth";
import type { AppendMsg } from "../components/growth";

/** The synced attributes of the chat timeline (defaults and checks: `tam_widgets/widgets/state.py`). */
export interface ChatTimelineState {
  _view: string;
  _records: RecordEntry[];
  selected: number;
  method: string;
  colormap: string;
  opacity: number;
  show_specials: boolean;
  live: boolean;
  busy: boolean;
  error: string;
}

/** What a panel of a picture added after the shown token's turn says. */
export const NOT_YET = "not yet in the conversation";

interface Parts {
  controls: Controls;
  key: StripKey;
  legend: Legend;
  info: TokenInfo;
  panels: HeatPanels;
  store: MapStore;
  turns: TurnBlock[];
  list: HTMLElement;
  notes: HTMLElement[];
}

export class ChatTimelineView {
  readonly root: HTMLElement;
  private p: Payload | null = null;
  private meta!: Meta;
  private c: Parts | null = null;
  private ask: AskBox | null = null;
  private rowOf = new Map<number, number>();
  private turnOf = new Int32Array(0);
  private gridTurn: number[] = [];
  private method = "";
  private methodIdx = 0;
  private cmap = "";
  private lut!: Int32Array;
  private opacity = 1;
  private showSpecials = false;
  private pinned = -1;
  private hovered = -1;
  private relBuf = new Float32Array(0);
  private painted = false;
  /** while a turn is written and the user has not picked a token: show the newest token */
  private follow = false;
  private lost: string | null = null;
  private dead = false;
  /** turns on screen in the turn list (null: unknown, paint every turn at once) */
  private onScreen: Set<number> | null = null;
  private watcher: IntersectionObserver | null = null;
  /** turns whose strips still show an earlier pin's colours (painted when they scroll in, or when idle) */
  private stale = new Set<number>();
  private idle = 0;
  private images: ImageCache | null = null;
  private recolourFrame = 0;
  private unbind: (() => void)[] = [];
  /** what `append` pushes added to the record (null before the first record) */
  private growth: Growth | null = null;
  /** the page asked for the whole record again (a push did not follow its copy); cleared when it comes */
  private resyncAsked = false;
  /** each turn's sparkline values and their common top */
  private sparks: Float32Array[] = [];
  private sparkTop = 0;
  /** whole builds and appended pushes so far (`data-builds`, `data-appends` on the root) */
  private builds = 0;
  private appends = 0;

  constructor(
    private model: AnyModel<ChatTimelineState>,
    host: HTMLElement,
  ) {
    this.root = h("div", "tam-view tam-timeline");
    this.root.tabIndex = 0;
    host.appendChild(this.root);
    const m = model;
    this.unbind.push(
      bind(m, "_records", () => this.onRecords(), false),
      bind(m, "selected", (v) => this.c && this.onSelected(v), false),
      bind(m, "method", (v) => this.c && this.setMethod(String(v)), false),
      bind(m, "colormap", (v) => this.c && this.setColormap(String(v)), false),
      bind(m, "opacity", (v) => this.c && this.setOpacity(v), false),
      bind(m, "show_specials", (v) => this.c && this.setSpecials(!!v), false),
      bind(m, "busy", (v) => this.onBusy(!!v), false),
      bind(m, "error", (v) => this.ask?.setError(String(v ?? "")), false),
      onMessage(m, (msg, buffers) => this.onCustom(msg, buffers)),
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.rebuild();
    this.unbind.push(watchKernel(m, host, (why) => ((this.lost = why), this.showLost())));
  }

  destroy(): void {
    this.dead = true;
    this.dispose();
    for (const off of this.unbind) off();
    this.unbind = [];
    this.root.remove();
  }

  private dispose(): void {
    this.watcher?.disconnect();
    this.watcher = null;
    this.onScreen = null;
    this.stale.clear();
    if (this.idle) clearTimeout(this.idle);
    this.idle = 0;
    if (this.recolourFrame) cancelAnimationFrame(this.recolourFrame);
    this.recolourFrame = 0;
    for (const t of this.c?.turns ?? []) t.dispose();
    this.c?.panels.dispose();
    this.c?.store.dispose();
    this.c = null;
    this.sparks = [];
    this.sparkTop = 0;
  }

  /** A new `_records`: built again, unless it is the record the page holds already (its pushes added it). */
  private onRecords(): void {
    const entry = (this.model.get("_records") ?? [])[0];
    const seq = typeof entry?.seq === "number" ? entry.seq : null;
    if (this.c && this.growth && !this.resyncAsked && seq !== null && seq === this.growth.seq) return;
    this.rebuild();
  }

  // -------------------------------------------------------------- build

  private rebuild(): void {
    const m = this.model;
    const oldScroll = this.c?.list.scrollTop ?? 0;
    this.dispose();
    this.root.textContent = "";
    this.root.className = "tam-view tam-timeline";
    const live = !!m.get("live");
    // one question box for the view's life: what was typed (or a failed question) survives pushed records
    if (live && !this.ask)
      this.ask = new AskBox({
        onAsk: (text) => ((this.follow = true), m.send({ type: "ask", text })),
        onStop: () => m.send({ type: "stop" }),
      });
    const entry = (m.get("_records") ?? [])[0];
    if (!entry) {
      // a live chat before its first turn: only the question box
      const list = h("div", "tam-tl-turns");
      list.appendChild(h("div", "tam-tl-empty", live ? "No turn yet: ask the model about the picture." : "No conversation to show."));
      if (this.ask) list.appendChild(this.ask.root);
      this.root.appendChild(list);
      this.afterBuild();
      return;
    }
    let p: Payload;
    try {
      p = this.p = parsePayload(entry);
    } catch (err) {
      this.root.appendChild(h("div", "tam-error", `tam-widgets: ${(err as Error).message}`));
      return;
    }
    const meta = (this.meta = p.meta);
    const growth = (this.growth = new Growth(meta, typeof entry.seq === "number" ? entry.seq : -1));
    this.resyncAsked = false;
    this.root.dataset.builds = String(++this.builds);
    const n = meta.tokens.length;
    this.rowOf = new Map(meta.explained.map((t, r) => [t, r]));
    this.relBuf = new Float32Array(n);
    this.turnOf = new Int32Array(n);
    meta.tokens.forEach((t, i) => (this.turnOf[i] = Math.max(0, Number(t[2]) || 0)));
    this.gridTurn = meta.grids.map((g) => Math.max(0, Number(g.turn ?? 0) || 0));
    this.painted = false;
    this.cmap = "";
    this.method = "";
    this.hovered = -1;
    const images = new ImageCache(p.images, meta);
    images.adopt(this.images); // a pushed record keeps its decoded pictures (no flicker while the model writes)
    this.images = images;
    const ev: StripEvents = {
      onHover: (i, e, inFrame) => ((this.hovered = i), this.paintShown(e, inFrame)),
      onLeave: (e) => ((this.hovered = -1), this.paintShown(e)),
      onPick: (i, e) => (this.root.focus({ preventScroll: true }), this.pin(i, e, true)),
    };
    const list = h("div", "tam-tl-turns");
    const turns = splitTurns(meta).map(
      (parts) => new TurnBlock(meta, parts, images, ev, (tok, e) => (this.root.focus({ preventScroll: true }), this.pin(tok, e, true))),
    );
    for (const t of turns) list.appendChild(t.root);
    if (this.ask) list.appendChild(this.ask.root);
    const panels = new HeatPanels(meta, images, {
      onRegion: () => panels.setRegion(null), // the timeline has no region tool
      onDragStart: () => this.root.focus({ preventScroll: true }),
      onFrame: (f, e) => ((panels.frame = f), this.paintHeat(), measureRepaint(e)),
    });
    const notes = panels.panels.map((pn) => {
      const note = h("div", "tam-notyet-note", NOT_YET);
      pn.el.querySelector(".tam-stage")?.appendChild(note);
      pn.label.title = `${pn.grid.label}: added in turn ${this.gridTurn[pn.gi] + 1}`;
      return note;
    });
    const c: Parts = (this.c = {
      controls: new Controls({
        title: meta.title,
        methods: meta.methods,
        playable: false,
        onMethod: (v) => (this.setMethod(v), commit(m, "method", this.method)),
        onColormap: (v) => (this.setColormap(v), commit(m, "colormap", this.cmap)),
        onOpacity: (v) => (this.setOpacity(v), commit(m, "opacity", this.opacity)),
        onSpecials: (v) => (commit(m, "show_specials", v), this.setSpecials(v)),
        onPlay: () => undefined,
        onSave: () => this.savePng(),
      }),
      key: new StripKey(),
      legend: new Legend(),
      info: new TokenInfo(),
      panels,
      store: new MapStore(entry.id ?? "r0", p, (msg) => m.send(msg), (k) => this.onArrived(k)),
      turns,
      list,
      notes,
    });
    c.store.tail = (method, r) => growth.row(meta.methods.findIndex((x) => x.name === method), r);
    if (meta.warning) this.root.appendChild(warningBanner(String(meta.warning)));
    const side = h("div", "tam-tl-side");
    side.append(c.info.root, c.legend.root, c.panels.root);
    const body = h("div", "tam-tl-body");
    body.append(list, side);
    this.root.append(c.controls.root, c.key.root, body);

    this.setMethod(String(m.get("method")));
    this.setColormap(String(m.get("colormap")));
    this.setOpacity(m.get("opacity"));
    this.showSpecials = !!m.get("show_specials");
    c.controls.setSpecials(this.showSpecials);
    for (const t of turns) t.build(this.showSpecials);
    this.paintSparks();
    this.watchTurns();

    const busy = !!m.get("busy");
    const newest = meta.explained.length ? meta.explained[meta.explained.length - 1] : -1;
    if (this.follow && busy && newest >= 0) this.pinned = newest;
    else {
      const sel = initialToken(meta, m.get("selected"));
      this.pinned = sel;
      if (sel >= 0 && m.get("selected") !== sel && !busy) commit(m, "selected", sel);
    }
    this.paintAll();
    if (this.follow && busy) {
      list.scrollTop = list.scrollHeight;
      this.stripOf(this.pinned)?.reveal(this.pinned);
    } else if (oldScroll) list.scrollTop = oldScroll;
    else if (this.pinned >= 0) this.reveal(this.pinned);
    this.afterBuild();
  }

  /** What every build ends with: the live parts' state and the kernel-loss banner. */
  private afterBuild(): void {
    this.ask?.setBusy(!!this.model.get("busy"));
    this.ask?.setError(String(this.model.get("error") ?? ""));
    if (this.lost) this.showLost();
  }

  /** The kernel is gone: say so, keep what is loaded, disable the question box. */
  private showLost(): void {
    if (this.dead || this.root.querySelector(".tam-disconnected-banner")) return;
    const why = this.lost!;
    this.root.classList.add("tam-disconnected");
    const banner = disconnectedBanner(why);
    const first = this.root.querySelector(".tam-warning");
    this.root.insertBefore(banner, first ? first.nextSibling : this.root.firstChild);
    this.ask?.disable("the kernel is gone; rerun the cell");
    const c = this.c;
    if (!c) return;
    c.store.disconnect(why);
    c.controls.disableMethods((name) => !c.store.hasAny(name));
    this.paintAll();
  }

  // -------------------------------------------------------------- state from either side

  private setMethod(name: string): void {
    const c = this.c!;
    const methods = this.meta.methods;
    const idx = methods.findIndex((x) => x.name === name);
    const i = idx >= 0 ? idx : 0;
    c.controls.setMethod(methods[i]?.name ?? "");
    if (i === this.methodIdx && this.method === methods[i]?.name) return;
    const first = this.method === "";
    this.methodIdx = i;
    this.method = methods[i]?.name ?? "";
    c.store.error = null;
    if (!first) {
      this.paintSparks();
      this.paintAll();
    }
  }

  private setColormap(name: string): void {
    const cm = isColormap(name) ? name : "jet";
    const c = this.c!;
    c.controls.setColormap(cm);
    if (cm === this.cmap) return;
    const first = this.cmap === "";
    this.cmap = cm;
    this.lut = signedLut(cm);
    c.panels.invalidate();
    if (!first) this.paintAll();
  }

  private setOpacity(v: unknown): void {
    const o = Number(v);
    if (!Number.isFinite(o)) return;
    this.opacity = Math.max(0, Math.min(1, o));
    this.c!.panels.setOpacity(this.opacity);
    this.c!.controls.setOpacity(this.opacity);
  }

  private setSpecials(v: boolean): void {
    this.c!.controls.setSpecials(v);
    if (v === this.showSpecials) return;
    this.showSpecials = v;
    for (const t of this.c!.turns) t.build(v);
    this.paintStrip();
    if (this.pinned >= 0) this.reveal(this.pinned);
  }

  private onSelected(v: unknown): void {
    const t = initialToken(this.meta, v);
    if (t === this.pinned) return;
    this.follow = false;
    this.pinned = t;
    this.paintAll();
    if (t >= 0) this.reveal(t);
  }

  private onBusy(busy: boolean): void {
    if (busy) this.follow = true;
    this.ask?.setBusy(busy);
    if (!busy && this.follow && this.c) {
      this.follow = false;
      if (this.pinned >= 0 && this.model.get("selected") !== this.pinned) commit(this.model, "selected", this.pinned);
    }
  }

  // -------------------------------------------------------------- page events

  private onKey(e: KeyboardEvent): void {
    const c = this.c;
    if (!c) return;
    const tag = (e.target as HTMLElement | null)?.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || tag === "BUTTON") return;
    let k: number | "escape" | null = null;
    if (e.key === "ArrowUp" || e.key === "ArrowDown") k = this.turnStep(e.key === "ArrowUp" ? -1 : 1);
    else k = keyAction(e, this.nav(), this.pinned);
    if (k === null || k === "escape") return;
    e.preventDefault();
    this.pin(k, e, true);
    this.reveal(k);
  }

  /** Explained tokens of every turn in reading order. */
  private nav(): number[] {
    return this.c ? this.c.turns.flatMap((t) => t.nav()) : [];
  }

  /** The token at the same place of the previous (-1) or next (+1) turn that has explained tokens. */
  private turnStep(dir: -1 | 1): number | null {
    const turns = this.c!.turns;
    const cur = this.pinned >= 0 ? this.turnOf[this.pinned] : 0;
    const at = turns[cur]?.parts.explained.indexOf(this.pinned) ?? -1;
    for (let t = cur + dir; t >= 0 && t < turns.length; t += dir) {
      const list = turns[t].parts.explained;
      if (list.length) return list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at))];
    }
    return null;
  }

  private shown(): number {
    return this.hovered >= 0 ? this.hovered : this.pinned;
  }

  private pin(i: number, ev: Event | null, user: boolean): void {
    if (!this.rowOf.has(i)) return;
    if (user) this.follow = false;
    for (const t of this.c!.turns) {
      t.user.clearHover();
      t.answer.clearHover();
    }
    this.hovered = -1;
    const changed = i !== this.pinned;
    this.pinned = i;
    if (this.model.get("selected") !== i) commit(this.model, "selected", i);
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev);
    if (changed) this.recolourSoon();
  }

  /**
   * Recolour the words and sparklines for the new pin in the frame after the map's: the map and readout
   * answer the click within its frame; every turn's words follow one frame later.
   */
  private recolourSoon(): void {
    if (typeof requestAnimationFrame === "undefined") return this.recolour();
    if (this.recolourFrame) return;
    this.recolourFrame = requestAnimationFrame(() => {
      this.recolourFrame = requestAnimationFrame(() => this.recolour());
    });
  }

  private recolour(): void {
    this.recolourFrame = 0;
    if (this.dead || !this.c) return;
    this.paintStrip();
    this.paintMarks();
  }

  private stripOf(i: number) {
    const t = this.c?.turns[this.turnOf[i] ?? 0];
    return t ? t.stripOf(i) : null;
  }

  private reveal(i: number): void {
    const c = this.c;
    const el = this.stripOf(i)?.el(i);
    if (!c || !el) return;
    // scroll the turn list (never the page) so the token's line is in view
    const list = c.list;
    if (!list.isConnected || list.clientHeight === 0) return;
    const top = el.getBoundingClientRect().top - list.getBoundingClientRect().top + list.scrollTop;
    if (top < list.scrollTop || top + el.offsetHeight > list.scrollTop + list.clientHeight)
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }

  private onCustom(msg: unknown, buffers: unknown[] | undefined): void {
    const m = msg as { type?: unknown; error?: unknown } | null;
    if (isAppend(msg)) return this.onAppend(msg, buffers);
    if (m && (m.type === "ask" || m.type === "stop") && m.error) {
      this.ask?.setBusy(!!this.model.get("busy"));
      this.ask?.setError(String(m.error));
      return;
    }
    const c = this.c;
    if (c && !c.store.receive(msg, buffers as any[]) && c.store.replyError(msg)) this.paintInfo();
  }

  /**
   * A push of what a turn being written added: the tokens join the last turn's answer (its strip alone is
   * built again), the rows the maps; the newest token is shown while the page follows the model. A push
   * that does not follow the page's copy asks the kernel for the whole record instead.
   */
  private onAppend(msg: AppendMsg, buffers: unknown[] | undefined): void {
    const c = this.c;
    const g = this.growth;
    if (this.dead || !c || !g || msg.record !== c.store.record || msg.seq <= g.seq) return;
    const last = c.turns[c.turns.length - 1];
    const items = msg.tokens.items;
    const problem =
      g.problem(msg, buffers) ??
      (!last || items.some((t) => Number(t[2]) !== last.parts.turn) ? "tokens of another turn" : null) ??
      (!last.parts.answer.length && items.length && items[0][1] !== "answer" ? "tokens before the answer" : null);
    if (problem) return this.resync(problem);
    const meta = this.meta;
    const n0 = meta.tokens.length;
    const r0 = meta.explained.length;
    g.apply(msg, buffers!);
    const n = meta.tokens.length;
    msg.rows.explained.forEach((t, k) => this.rowOf.set(t, r0 + k));
    const turnOf = new Int32Array(n);
    turnOf.set(this.turnOf);
    for (let i = n0; i < n; i++) turnOf[i] = Math.max(0, Number(meta.tokens[i][2]) || 0);
    this.turnOf = turnOf;
    this.relBuf = new Float32Array(n);
    const added = Array.from({ length: n - n0 }, (_, k) => n0 + k);
    last.grow(meta, added, new Set(msg.rows.explained), this.showSpecials);
    this.root.dataset.appends = String(++this.appends);
    this.paintSparks(last.parts.turn);
    const newest = meta.explained[meta.explained.length - 1];
    if (this.follow && this.model.get("busy") && msg.rows.explained.length) {
      this.pinned = newest;
      this.paintAll();
      c.list.scrollTop = c.list.scrollHeight;
      this.stripOf(newest)?.reveal(newest);
    } else {
      this.paintStrip();
      this.paintMarks();
    }
  }

  /** Ask the kernel for the whole record (once until it comes). */
  private resync(why: string): void {
    const c = this.c;
    if (!c || this.resyncAsked) return;
    this.resyncAsked = true;
    this.model.send({ type: "resync", record: c.store.record, have: this.growth?.seq ?? -1, why });
  }

  /** `(lo, span)` of row `row` of method `j` (the shown method by default), wherever the row is kept. */
  private scaleOf(row: number, j = this.methodIdx): [number, number] {
    const g = this.growth;
    if (g && row >= g.baseRows) return g.scale(j, row) ?? [0, 1];
    return rowScale(this.p!.scales, j, row, g ? g.baseRows : this.meta.explained.length);
  }

  /** Text relevance of row `row` over every token into `relBuf` (0 past its tokens); false when absent. */
  private relevanceOf(row: number): boolean {
    const g = this.growth;
    const out = this.relBuf;
    if (row < 0) return false;
    if (g && row >= g.baseRows) return g.relevance(row, out);
    const nb = g ? g.baseTokens : this.meta.tokens.length;
    const p = this.p!;
    if (p.relevance.length < (row + 1) * nb * 2) return false;
    decodeFloat16(p.relevance, row * nb, nb, out);
    out.fill(0, nb);
    return true;
  }

  private onArrived(method: string): void {
    const c = this.c;
    if (this.dead || !c || method !== this.method) return;
    this.paintSparks();
    this.paintHeat();
    this.paintInfo();
  }

  // -------------------------------------------------------------- painting

  private paintAll = (): void => {
    if (!this.c) return;
    this.paintStrip();
    this.paintMarks();
    this.paintHeat();
    this.paintInfo();
  };

  private paintShown(ev: Event | null, inFrame = false): void {
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev, inFrame);
  }

  /**
   * Text relevance of the pinned token over every earlier token, in every turn: at once in the turns on
   * screen (and the pinned token's), the others when they scroll into view or the page is idle.
   */
  private paintStrip(): void {
    const c = this.c!;
    c.key.update(this.cmap, false);
    const row = this.rowOf.get(this.pinned) ?? -1;
    this.relOk = this.relevanceOf(row);
    const mine = this.pinned >= 0 ? this.turnOf[this.pinned] : -1;
    for (const t of c.turns) {
      const k = t.parts.turn;
      if (!this.onScreen || this.onScreen.has(k) || k === mine) this.paintTurn(k);
      else this.stale.add(k);
    }
    if (this.stale.size && !this.idle) this.idle = window.setTimeout(() => this.paintStale(), 120);
  }

  private relOk = false;

  private paintTurn(k: number): void {
    const c = this.c;
    const t = c?.turns[k];
    if (!t) return;
    this.stale.delete(k);
    const row = this.rowOf.get(this.pinned) ?? -1;
    const [lo, span] = this.scaleOf(Math.max(0, row));
    const rel = this.relOk ? this.relBuf : null;
    t.user.paintRelevance(this.pinned, rel, lo, span, this.cmap);
    t.answer.paintRelevance(this.pinned, rel, lo, span, this.cmap);
  }

  private paintStale(): void {
    this.idle = 0;
    if (this.dead || !this.c) return;
    for (const k of [...this.stale]) this.paintTurn(k);
  }

  /** Keep track of the turns on screen in the turn list (where IntersectionObserver exists). */
  private watchTurns(): void {
    const c = this.c!;
    if (typeof IntersectionObserver === "undefined") return;
    const seen = (this.onScreen = new Set<number>());
    const w = (this.watcher = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const k = Number((e.target as HTMLElement).dataset.turn);
          if (e.isIntersecting) {
            seen.add(k);
            if (this.stale.has(k)) this.paintTurn(k);
          } else seen.delete(k);
        }
      },
      { root: c.list, rootMargin: "200px 0px" },
    ));
    // until the first report every turn counts as on screen
    for (const t of c.turns) {
      seen.add(t.parts.turn);
      w.observe(t.root);
    }
  }

  /**
   * Each turn's sparkline: the peak of each answer token's map (map units) on one scale for the
   * conversation; `only`: just that turn's values changed (the others are redrawn if the top moved).
   */
  private paintSparks(only = -1): void {
    const c = this.c!;
    const values = c.turns.map((t, k) => {
      if (only >= 0 && k !== only && this.sparks[k]) return this.sparks[k];
      const out = new Float32Array(t.parts.explained.length).fill(Number.NaN);
      t.parts.explained.forEach((tok, k) => {
        const r = this.rowOf.get(tok)!;
        const data = c.store.inline(this.method) || c.store.has(this.method, r) ? c.store.row(this.method, r) : null;
        if (!data) return;
        let mx = 0;
        for (let j = 0; j < data.length; j++) if (data[j] > mx) mx = data[j];
        const [lo, span] = this.scaleOf(r);
        out[k] = lo + (span * mx) / 255;
      });
      return out;
    });
    let top = 0;
    for (const v of values) for (const x of v) if (Number.isFinite(x) && x > top) top = x;
    const moved = top !== this.sparkTop;
    this.sparks = values;
    this.sparkTop = top;
    c.turns.forEach((t, k) => {
      if (only < 0 || k === only || moved) t.spark.set(values[k], top, t.parts.explained.indexOf(this.pinned));
    });
  }

  private paintMarks(): void {
    for (const t of this.c!.turns) t.spark.mark(t.parts.explained.indexOf(this.pinned));
  }

  /** The shown token's map on the pictures it could see; later pictures say they were not there yet. */
  private paintHeat(): void {
    const c = this.c!;
    const tok = this.shown();
    const row = this.rowOf.get(tok) ?? -1;
    const data = row >= 0 ? c.store.row(this.method, row) : null;
    const turn = tok >= 0 ? this.turnOf[tok] : Number.MAX_SAFE_INTEGER;
    const sees = (gi: number) => this.gridTurn[gi] <= turn;
    this.root.classList.toggle("tam-loading", row >= 0 && !data);
    for (const pn of c.panels.panels) pn.el.classList.toggle("tam-notyet", !sees(pn.gi));
    c.panels.paint(data, this.lut, sees);
    if (data && !this.painted) {
      this.painted = true;
      markFirstRender();
    }
  }

  private methodInfo = () => methodInfo(this.meta.methods[this.methodIdx], this.method);

  private paintInfo(): void {
    const c = this.c!;
    const tok = this.shown();
    const row = this.rowOf.get(tok) ?? -1;
    const [lo, span] = this.scaleOf(Math.max(0, row));
    c.legend.update(this.cmap, lo, span, this.methodInfo().legend);
    const data = row >= 0 ? c.store.row(this.method, row) : null;
    const unloaded = !data && c.store.lost ? "not loaded before the kernel went away: rerun the cell for this map" : null;
    c.info.show(this.meta, tok, row, data, c.store.error ?? unloaded, lo, span);
  }

  private savePng(): void {
    const c = this.c!;
    const tok = this.shown();
    const label = String(this.meta.tokens[tok]?.[0] ?? "");
    const turn = tok >= 0 ? this.turnOf[tok] : 0;
    const canvas = composite(
      c.panels.panels.filter((pn) => this.gridTurn[pn.gi] <= turn),
      {
        title: `${this.meta.title ?? ""} \u00b7 turn ${turn + 1}`,
        token: readableToken(label, this.meta.tokens[tok]?.[3] === 1),
        methodLabel: this.methodInfo().label,
        warning: this.meta.warning ? String(this.meta.warning) : null,
        opacity: this.opacity,
        legendBar: c.legend.bar,
        legend: c.legend.texts(),
      },
    );
    if (canvas) downloadPng(canvas, `tam_turn${turn + 1}_${fileSafe(label) || `token${tok}`}.png`);
  }
}
