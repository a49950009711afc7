// Decoded pictures of a record (PNG/JPEG bytes to something a canvas can draw), cached by index.

import type { Meta } from "./decode";

export class ImageCache {
  private cache = new Map<number, Promise<CanvasImageSource | null>>();

  constructor(
    private bytes: readonly Uint8Array[],
    private meta: Pick<Meta, "images">,
  ) {}

  /**
   * Take over the decoded pictures of `old` whose bytes are the same here (a record pushed again as it
   * grows keeps its pictures): they show at once instead of being decoded again.
   */
  adopt(old: ImageCache | null): void {
    if (!old) return;
    this.bytes.forEach((b, idx) => {
      const ob = old.bytes[idx];
      const pr = old.cache.get(idx);
      if (!pr || !ob || ob.length !== b.length || this.cache.has(idx)) return;
      for (let k = 0; k < b.length; k++) if (b[k] !== ob[k]) return;
      this.cache.set(idx, pr);
    });
  }

  /** Decoded picture `idx`; null when it cannot be decoded. */
  get(idx: number): Promise<CanvasImageSource | null> {
    let pr = this.cache.get(idx);
    if (!pr) {
      const bytes = this.bytes[idx];
      const mime = this.meta.images[idx]?.mime || "image/png";
      if (!bytes || !bytes.length) pr = Promise.resolve(null);
      else {
        const blob = new Blob([bytes as unknown as BlobPart], { type: mime });
        pr =
          typeof createImageBitmap === "function"
            ? createImageBitmap(blob).catch(() => viaElement(blob))
            : viaElement(blob);
      }
      this.cache.set(idx, pr);
    }
    return pr;
  }
}

function viaElement(blob: Blob): Promise<CanvasImageSource | null> {
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

/** Pixel size of the picture under grid frame `f` (from meta.images, else the grid's box). */
export function imageSize(
  meta: Pick<Meta, "images">,
  g: { frames: number[]; boxes: number[][]; shape: number[] },
  f: number,
): [number, number] {
  const idx = g.frames[f] ?? g.frames[0];
  const im = idx !== undefined ? meta.images[idx] : undefined;
  if (im && im.width > 0 && im.height > 0) return [im.width, im.height];
  const b = g.boxes[f] ?? g.boxes[0] ?? [0, 0, g.shape[2] * 14, g.shape[1] * 14];
  return [Math.max(1, Math.ceil(b[2])), Math.max(1, Math.ceil(b[3]))];
}
