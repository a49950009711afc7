// The heat panels: per grid a photo canvas with the heat canvas over it (the shown frame), the
// region tool on its stage, and a frame strip for videos. The view hands it a map row and a colour table.

import type { GridMeta, Meta } from "../decode";
import { gridFrame } from "../decode";
import { h } from "../dom";
import { HeatPainter } from "../heatmap";
import type { Box } from "../heatmap";
import { imageSize } from "../images";
import type { ImageCache } from "../images";
import type { Region } from "../stats";
import { FrameStrip } from "./frames";
import { RegionTool } from "./region";

const MAX_PANEL_MULTI = 480;
const MAX_PANEL_SINGLE = 640;
const MIN_PANEL_MULTI = 240;
const MIN_PANEL_SINGLE = 360;

export interface PanelEvents {
  /** a region was dragged on grid `grid`'s shown frame */
  onRegion(region: Region): void;
  /** a drag started on a picture */
  onDragStart(): void;
  /** frame `f` of grid `grid`'s thumbnails was clicked */
  onFrame(f: number, ev: Event, grid: number): void;
}

export interface Panel {
  gi: number;
  grid: GridMeta;
  video: boolean;
  el: HTMLElement;
  label: HTMLElement;
  photo: HTMLCanvasElement;
  heat: HTMLCanvasElement;
  tool: RegionTool;
  frames: FrameStrip | null;
  ctx: CanvasRenderingContext2D | null;
  img: ImageData | null;
  px: Int32Array | null;
  painters: (HeatPainter | undefined)[];
  /** painter whose box was last written into px */
  last: HeatPainter | null;
  /** image index on the photo canvas (-1: none yet) */
  photoOf: number;
  frame: number;
}

export class HeatPanels {
  readonly root: HTMLElement;
  readonly panels: Panel[] = [];
  /** the frame asked for (each grid shows min(frame, its last frame)) */
  frame = 0;
  private region: Region | null = null;
  private dead = false;

  constructor(
    private meta: Meta,
    private images: ImageCache,
    ev: PanelEvents,
  ) {
    const grids = meta.grids;
    this.root = h("div", "tam-panels");
    this.root.classList.toggle("tam-multi", grids.length > 1);
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
        gi, grid: g, video, el, label, photo, heat, frames: null,
        tool: new RegionTool(stage, heat, rbox, {
          onStart: () => ev.onDragStart(),
          onBox: (b) => ev.onRegion([gi, this.frameOf(g), b[0], b[1], b[2], b[3]]),
          onCancel: () => this.placeBox(panel),
        }),
        ctx: null, img: null, px: null, painters: [], last: null, photoOf: -1, frame: -1,
      };
      if (video) {
        panel.frames = new FrameStrip(meta, g, images, (f, e) => ev.onFrame(f, e, gi));
        el.appendChild(panel.frames.root);
      }
      this.root.appendChild(el);
      this.panels.push(panel);
    });
    const multi = this.panels.length > 1;
    const max = multi ? MAX_PANEL_MULTI : MAX_PANEL_SINGLE;
    const min = multi ? MIN_PANEL_MULTI : MIN_PANEL_SINGLE;
    for (const p of this.panels) {
      const [w] = imageSize(meta, p.grid, this.frameOf(p.grid));
      p.el.style.width = `${Math.min(max, Math.max(w, min))}px`;
    }
  }

  /** The frame grid `g` shows. */
  frameOf(g: GridMeta): number {
    return Math.min(this.frame, Math.max(0, (g.shape[0] || 1) - 1));
  }

  dispose(): void {
    this.dead = true;
  }

  setOpacity(o: number): void {
    const s = String(o);
    for (const p of this.panels) {
      p.heat.style.opacity = s;
      p.frames?.setOpacity(s);
    }
  }

  /** Show `region` (or none) as the dashed box on its grid's shown frame. */
  setRegion(region: Region | null): void {
    this.region = region;
    for (const p of this.panels) this.placeBox(p);
  }

  /** Drop any drag in progress (Esc) and show the current region again. */
  cancelDrag(): void {
    for (const p of this.panels) if (p.tool.cancel()) this.placeBox(p);
  }

  /** The colours changed: the next paint redraws every panel whole. */
  invalidate(): void {
    for (const p of this.panels) p.last = null;
  }

  private placeBox(p: Panel): void {
    const r = this.region;
    if (r && r[0] === p.gi && r[1] === this.frameOf(p.grid)) p.tool.show(r.slice(2));
    else p.tool.hide();
  }

  /** Make the big canvases of a panel show frame `f` (size, photo, painter). */
  private prepare(p: Panel, f: number): HeatPainter {
    const g = p.grid;
    const [w, hgt] = imageSize(this.meta, g, f);
    if (p.heat.width !== w || p.heat.height !== hgt || !p.ctx) {
      p.heat.width = p.photo.width = w;
      p.heat.height = p.photo.height = hgt;
      p.ctx = p.heat.getContext("2d");
      p.img = p.ctx ? p.ctx.createImageData(w, hgt) : null;
      p.px = p.img ? new Int32Array(p.img.data.buffer) : null;
      p.last = null;
      p.painters = [];
      p.photoOf = -1;
    }
    if (p.frame !== f) {
      p.frame = f;
      p.heat.dataset.frame = String(f);
      p.label.textContent = p.video ? `${g.label} \u00b7 frame ${f + 1}/${g.shape[0]}` : g.label;
      p.frames?.setCurrent(f);
      this.placeBox(p);
    }
    const idx = g.frames[f] ?? g.frames[0];
    if (idx !== undefined && p.photoOf !== idx) {
      p.photoOf = idx;
      const c = p.photo.getContext("2d");
      c?.clearRect(0, 0, w, hgt);
      void this.images.get(idx).then((src) => {
        if (src && c && p.photoOf === idx && !this.dead) c.drawImage(src, 0, 0, w, hgt);
      });
    }
    let painter = p.painters[f];
    if (!painter) {
      const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, w, hgt];
      painter = p.painters[f] = new HeatPainter(g.shape[1], g.shape[2], b as Box, w, hgt);
    }
    return painter;
  }

  /**
   * Draw a map row (`null`: clear, it is loading) on every panel's shown frame and its thumbnails;
   * `show` (optional) says which grids get the row (the others are cleared).
   */
  paint(data: Uint8Array | null, lut: Int32Array, show?: (gi: number) => boolean): void {
    const row = data;
    for (const p of this.panels) {
      const data = row && (!show || show(p.gi)) ? row : null;
      const f = this.frameOf(p.grid);
      const painter = this.prepare(p, f);
      const { ctx, img, px } = p;
      if (!ctx || !img || !px) continue;
      if (p.last !== painter || !data) {
        px.fill(0);
        if (data) painter.paint(gridFrame(data, p.grid, f), lut, px);
        ctx.putImageData(img, 0, 0);
        p.last = data ? painter : null;
      } else {
        painter.paint(gridFrame(data, p.grid, f), lut, px);
        const [x, y, w, hh] = painter.rect;
        ctx.putImageData(img, 0, 0, x, y, w, hh);
      }
      p.frames?.paint(data, lut);
    }
  }
}
