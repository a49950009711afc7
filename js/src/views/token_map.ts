// The token map explorer: a composition of the components, and the only place that talks to the model.

import { isColormap, signedLut } from "../colormaps";
import { decodeFloat16, parsePayload, rowScale } from "../decode";
import type { Meta, Payload } from "../decode";
import { fileSafe, h } from "../dom";
import { ImageCache } from "../images";
import { initialToken, readableToken } from "../layout";
import { methodInfo } from "../legend";
import { bind, commit, onMessage } from "../model";
import type { AnyModel, TokenMapState } from "../model";
import { watchKernel } from "../kernel";
import { markFirstRender, measureRepaint } from "../perf";
import { parseRegion } from "../stats";
import type { Region } from "../stats";
import { disconnectedBanner, warningBanner } from "../components/banner";
import { Controls } from "../components/controls";
import { Legend } from "../components/legend";
import { Player } from "../components/player";
import { MapStore } from "../components/map_store";
import { keyAction } from "../components/keys";
import { HeatPanels } from "../components/panels";
import { composite, downloadPng } from "../components/png_export";
import { TokenStrip } from "../components/strip";
import { StripKey } from "../components/strip_key";
import { TokenInfo } from "../components/token_info";

interface Parts {
  controls: Controls;
  strip: TokenStrip;
  key: StripKey;
  legend: Legend;
  info: TokenInfo;
  panels: HeatPanels;
  store: MapStore;
}

export class TokenMapView {
  readonly root: HTMLElement;
  private p: Payload | null = null;
  private meta!: Meta;
  private c: Parts | null = null;
  private rowOf = new Map<number, number>();
  private method = "";
  private methodIdx = 0;
  private cmap = "";
  private lut!: Int32Array;
  private opacity = 1;
  private showSpecials = false;
  private frameCount = 1;
  private region: Region | null = null;
  private pinned = -1;
  private relBuf = new Float32Array(0);
  private player = new Player(
    () => this.setFrame((this.c!.panels.frame + 1) % this.frameCount, true),
    (on) => this.c?.controls.setPlaying(on),
  );
  /** token whose map the panels show (-2: none painted yet) */
  private lastShown = -2;
  private painted = false;
  private prefetchStarted = false;
  private dead = false;
  /** why the kernel is gone (rows can no longer be fetched), or null */
  private lost: string | null = null;
  private unbind: (() => void)[] = [];

  constructor(
    private model: AnyModel<TokenMapState>,
    host: HTMLElement,
  ) {
    this.root = h("div", "tam-view");
    this.root.tabIndex = 0;
    host.appendChild(this.root);
    const m = model;
    this.unbind.push(
      bind(m, "_records", () => this.rebuild(), false),
      bind(m, "selected", (v) => this.c && this.onSelected(v), false),
      bind(m, "method", (v) => this.c && this.setMethod(String(v)), false),
      bind(m, "colormap", (v) => this.c && this.setColormap(String(v)), false),
      bind(m, "opacity", (v) => this.c && this.setOpacity(v), false),
      bind(m, "show_specials", (v) => this.c && this.setSpecials(!!v), false),
      bind(m, "frame", (v) => this.c && this.setFrame(v, false), false),
      bind(m, "region", (v) => this.c && this.onRegion(v), false),
      onMessage(m, (msg, buffers) => this.onCustom(msg, buffers)),
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.rebuild();
    this.unbind.push(watchKernel(m, host, (why) => ((this.lost = why), this.c && this.showLost())));
  }

  destroy(): void {
    this.dead = true;
    this.player.stop();
    this.dispose();
    for (const off of this.unbind) off();
    this.unbind = [];
    this.root.remove();
  }

  private dispose(): void {
    this.c?.strip.dispose();
    this.c?.panels.dispose();
    this.c?.store.dispose();
    this.c = null;
  }

  // -------------------------------------------------------------- build

  private rebuild(): void {
    this.player.stop();
    this.dispose();
    this.root.textContent = "";
    this.root.className = "tam-view";
    const m = this.model;
    const entry = (m.get("_records") ?? [])[0];
    try {
      this.p = parsePayload(entry);
    } catch (err) {
      this.root.appendChild(h("div", "tam-error", `tam-widgets: ${(err as Error).message}`));
      return;
    }
    const p = this.p;
    const meta = (this.meta = p.meta);
    this.rowOf = new Map(meta.explained.map((t, r) => [t, r]));
    this.relBuf = new Float32Array(meta.tokens.length);
    this.frameCount = Math.max(1, ...meta.grids.map((g) => g.shape[0] || 1));
    this.painted = false;
    this.prefetchStarted = false;
    this.cmap = "";
    this.method = "";
    const images = new ImageCache(p.images, meta);
    const c: Parts = (this.c = {
      controls: new Controls({
        title: meta.title,
        methods: meta.methods,
        playable: this.frameCount > 1,
        onMethod: (v) => (this.setMethod(v), commit(m, "method", this.method)),
        onColormap: (v) => (this.setColormap(v), commit(m, "colormap", this.cmap)),
        onOpacity: (v) => (this.setOpacity(v), commit(m, "opacity", this.opacity)),
        onSpecials: (v) => (commit(m, "show_specials", v), this.setSpecials(v)),
        onPlay: () => (this.frameCount > 1 ? this.player.toggle() : undefined),
        onSave: () => this.savePng(),
      }),
      strip: new TokenStrip(meta, {
        onHover: (_i, ev, inFrame) => this.paintShown(ev, inFrame),
        onLeave: (ev) => this.shown() !== this.lastShown && this.paintShown(ev),
        onPick: (i, ev) => (this.root.focus({ preventScroll: true }), this.pin(i, ev)),
      }),
      key: new StripKey(),
      legend: new Legend(),
      info: new TokenInfo(),
      panels: new HeatPanels(meta, images, {
        onRegion: (r) => this.setRegion(r, true),
        onDragStart: () => this.root.focus({ preventScroll: true }),
        onFrame: (f, ev) => (this.player.stop(), this.setFrame(f, true), measureRepaint(ev)),
      }),
      store: new MapStore(entry.id ?? "r0", p, (msg) => m.send(msg), (k) => this.onArrived(k)),
    });
    if (meta.warning) this.root.appendChild(warningBanner(String(meta.warning)));
    this.root.append(c.controls.root, c.strip.root, c.key.root, c.info.root, c.legend.root, c.panels.root);

    this.setMethod(String(m.get("method")));
    this.setColormap(String(m.get("colormap")));
    this.setOpacity(m.get("opacity"));
    this.showSpecials = !!m.get("show_specials");
    c.controls.setSpecials(this.showSpecials);
    c.strip.build(this.showSpecials);
    c.panels.frame = this.clampFrame(m.get("frame"));
    this.region = parseRegion(meta, m.get("region"));
    c.panels.setRegion(this.region);
    if (meta.explained.length === 0) c.info.readout.message("no explained tokens in this record");

    const sel = initialToken(meta, m.get("selected"));
    this.pinned = sel;
    if (sel >= 0 && m.get("selected") !== sel) commit(m, "selected", sel);
    this.paintAll();
    if (this.pinned >= 0) c.strip.reveal(this.pinned);
    if (this.lost) this.showLost();
  }

  /** The kernel is gone: say so, keep what is loaded, disable the methods that are not. */
  private showLost(): void {
    const c = this.c!;
    c.store.disconnect(this.lost!);
    this.root.classList.add("tam-disconnected");
    this.root.insertBefore(disconnectedBanner(this.lost!), c.controls.root);
    c.controls.disableMethods((name) => !c.store.hasAny(name));
    this.paintAll();
  }

  private clampFrame = (v: unknown): number =>
    Number.isFinite(Math.floor(Number(v))) ? Math.max(0, Math.min(this.frameCount - 1, Math.floor(Number(v)))) : 0;

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
    if (!first) this.paintAll();
    if (this.painted && this.meta.on_demand) c.store.prefetch(this.method);
  }

  private setColormap(name: string): void {
    const cm = isColormap(name) ? name : "jet";
    const c = this.c!;
    c.controls.setColormap(cm);
    if (cm === this.cmap) return;
    const first = this.cmap === "";
    this.cmap = cm;
    this.lut = signedLut(cm);
    c.panels.invalidate(); // every panel must be repainted with the new colours
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
    this.c!.strip.build(v);
    this.paintStrip();
    if (this.pinned >= 0) this.c!.strip.reveal(this.pinned);
  }

  private setFrame(f: unknown, sync: boolean): void {
    const v = this.clampFrame(f);
    const panels = this.c!.panels;
    if (v === panels.frame) return;
    panels.frame = v;
    if (sync) commit(this.model, "frame", v);
    this.paintHeat();
  }

  private onSelected(v: unknown): void {
    const t = initialToken(this.meta, v);
    if (t === this.pinned) return;
    this.c!.strip.clearHover();
    this.pinned = t;
    this.paintAll();
    if (t >= 0) this.c!.strip.reveal(t);
  }

  private onRegion(v: unknown): void {
    const r = parseRegion(this.meta, v);
    const cur = this.region;
    const same = (r === null && cur === null) || (r && cur && r.every((x, k) => x === cur[k]));
    if (!same) this.setRegion(r, false);
  }

  private setRegion(region: Region | null, sync: boolean): void {
    this.region = region;
    if (sync) commit(this.model, "region", region ? [...region] : []);
    this.c!.panels.setRegion(region);
    this.paintStrip();
  }

  // -------------------------------------------------------------- page events

  private onKey(e: KeyboardEvent): void {
    const c = this.c;
    const k = c ? keyAction(e, c.strip.nav, this.pinned) : null;
    if (!c || k === null) return;
    if (k === "escape") {
      c.panels.cancelDrag();
      if (this.region) {
        this.setRegion(null, true);
        e.preventDefault();
      }
      return;
    }
    e.preventDefault();
    c.strip.clearHover();
    this.pin(k, e);
  }

  /** Token shown in the heatmap / readout / candidates: the hovered one, else the pinned one. */
  private shown(): number {
    const hv = this.c?.strip.hovered ?? -1;
    return hv >= 0 ? hv : this.pinned;
  }

  private pin(i: number, ev: Event | null): void {
    if (!this.rowOf.has(i)) return;
    const changed = i !== this.pinned;
    this.pinned = i;
    if (this.model.get("selected") !== i) commit(this.model, "selected", i);
    if (changed) this.paintStrip();
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev);
    if (ev instanceof KeyboardEvent) this.c!.strip.reveal(i);
  }

  private onCustom(msg: unknown, buffers: unknown[] | undefined): void {
    const c = this.c;
    if (c && !c.store.receive(msg, buffers as any[]) && c.store.replyError(msg)) this.paintInfo();
  }

  private onArrived(method: string): void {
    const c = this.c;
    if (this.dead || !c || method !== this.method) return;
    const row = this.rowOf.get(this.shown()) ?? -1;
    if (row >= 0 && (this.root.classList.contains("tam-loading") || !this.painted) && c.store.has(method, row)) {
      this.paintHeat();
      this.paintInfo();
    } else if (c.store.error) this.paintInfo();
    if (this.region && c.store.hasAll(method)) this.paintStrip();
  }

  // -------------------------------------------------------------- painting

  private paintAll = (): void => (this.paintStrip(), this.paintHeat(), this.paintInfo());

  /** Repaint heat + info for the shown token; `inFrame` when called from a frame callback. */
  private paintShown(ev: Event | null, inFrame = false): void {
    this.paintHeat();
    this.paintInfo();
    measureRepaint(ev, inFrame);
  }

  /** Colour the strip: text relevance of the pinned token, or region shares in region mode. */
  private paintStrip(): void {
    const c = this.c!;
    const sel = this.pinned;
    const regionMode = !!this.region;
    this.root.classList.toggle("tam-region-mode", regionMode);
    c.key.update(this.cmap, regionMode);
    if (regionMode) {
      const shares = c.store.regionShares(this.method, this.region!, this.meta.grids);
      c.key.loading(!shares);
      c.strip.paintShares(sel, shares, this.cmap);
      return;
    }
    c.key.loading(false);
    const row = this.rowOf.get(sel) ?? -1;
    const n = this.meta.tokens.length;
    const p = this.p!;
    const has = row >= 0 && p.relevance.length >= (row + 1) * n * 2;
    if (has) decodeFloat16(p.relevance, row * n, n, this.relBuf);
    const [lo, span] = rowScale(p.scales, this.methodIdx, Math.max(0, row), this.meta.explained.length);
    c.strip.paintRelevance(sel, has ? this.relBuf : null, lo, span, this.cmap);
  }

  /** Draw the shown token's map on every panel (current frame) and every frame thumbnail. */
  private paintHeat(): void {
    const c = this.c!;
    const tok = this.shown();
    this.lastShown = tok;
    const row = this.rowOf.get(tok) ?? -1;
    const data = row >= 0 ? c.store.row(this.method, row) : null;
    this.root.classList.toggle("tam-loading", row >= 0 && !data);
    c.panels.paint(data, this.lut);
    if (data && !this.painted) {
      this.painted = true;
      markFirstRender();
      if (!this.prefetchStarted && this.meta.on_demand) {
        this.prefetchStarted = true;
        // let the first picture settle before pulling the rest of the method in the background
        setTimeout(() => !this.dead && this.c?.store.prefetch(this.method), 50);
      }
    }
  }

  private methodInfo = () => methodInfo(this.meta.methods[this.methodIdx], this.method);

  /** Candidates, legend and readout of the shown token. */
  private paintInfo(): void {
    const c = this.c!;
    const tok = this.shown();
    const row = this.rowOf.get(tok) ?? -1;
    const [lo, span] = rowScale(this.p!.scales, this.methodIdx, Math.max(0, row), this.meta.explained.length);
    c.legend.update(this.cmap, lo, span, this.methodInfo().legend);
    const data = row >= 0 ? c.store.row(this.method, row) : null;
    const unloaded = !data && c.store.lost ? "not loaded before the kernel went away: rerun the cell for this map" : null;
    c.info.show(this.meta, tok, row, data, c.store.error ?? unloaded, lo, span);
  }

  /** Save PNG: the shown token's picture, legend and caption as a file. */
  private savePng(): void {
    const c = this.c!;
    const tok = this.shown();
    const label = String(this.meta.tokens[tok]?.[0] ?? "");
    const canvas = composite(c.panels.panels, {
      title: this.meta.title ?? "",
      token: readableToken(label, this.meta.tokens[tok]?.[3] === 1),
      methodLabel: this.methodInfo().label,
      warning: this.meta.warning ? String(this.meta.warning) : null,
      opacity: this.opacity,
      legendBar: c.legend.bar,
      legend: c.legend.texts(),
    });
    if (canvas) downloadPng(canvas, `tam_${fileSafe(label) || `token${tok}`}.png`);
  }
}
