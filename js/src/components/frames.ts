// The frame strip of a video grid: one small photo + heat thumbnail per frame; click shows that frame.

import type { GridMeta, Meta } from "../decode";
import { gridFrame } from "../decode";
import { h } from "../dom";
import { HeatPainter } from "../heatmap";
import type { Box } from "../heatmap";
import { imageSize } from "../images";
import type { ImageCache } from "../images";

const THUMB_W = 112;

interface Thumb {
  f: number;
  el: HTMLElement;
  ctx: CanvasRenderingContext2D;
  img: ImageData;
  px: Int32Array;
  painter: HeatPainter;
}

export class FrameStrip {
  readonly root: HTMLElement;
  private thumbs: Thumb[] = [];
  private heats: HTMLCanvasElement[] = [];

  constructor(
    meta: Pick<Meta, "images">,
    private grid: GridMeta,
    images: ImageCache,
    onPick: (f: number, ev: Event) => void,
  ) {
    const g = grid;
    this.root = h("div", "tam-frames");
    for (let f = 0; f < g.shape[0]; f++) {
      const [iw, ih] = imageSize(meta, g, f);
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
      this.heats.push(heat);
      el.append(st, h("span", "tam-thumb-label", String(f + 1)));
      const ctx = heat.getContext("2d");
      const s = tw / iw;
      const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, iw, ih];
      const box: Box = [b[0] * s, b[1] * s, b[2] * s, b[3] * s];
      const img = ctx ? ctx.createImageData(tw, th) : null;
      if (ctx && img) {
        const px = new Int32Array(img.data.buffer);
        this.thumbs.push({ f, el, ctx, img, px, painter: new HeatPainter(g.shape[1], g.shape[2], box, tw, th) });
      }
      el.addEventListener("click", (e) => {
        e.stopPropagation();
        onPick(f, e);
      });
      this.root.appendChild(el);
      const idx = g.frames[f] ?? g.frames[0];
      if (idx !== undefined) {
        void images.get(idx).then((src) => {
          const c = photo.getContext("2d");
          if (src && c) c.drawImage(src, 0, 0, tw, th);
        });
      }
    }
  }

  /** Mark frame `f` as the shown one. */
  setCurrent(f: number): void {
    for (const el of this.root.children) el.classList.toggle("tam-current", (el as HTMLElement).dataset.frame === String(f));
  }

  setOpacity(o: string): void {
    for (const c of this.heats) c.style.opacity = o;
  }

  /** Paint the row's map of every frame (or clear them while it loads). */
  paint(data: Uint8Array | null, lut: Int32Array): void {
    for (const t of this.thumbs) {
      if (data) t.painter.paint(gridFrame(data, this.grid, t.f), lut, t.px);
      else t.px.fill(0);
      t.ctx.putImageData(t.img, 0, 0);
    }
  }
}
