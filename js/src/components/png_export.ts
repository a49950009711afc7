// Save PNG: the shown token's picture as a file (caption, provenance warning, photo + heat of every
// panel, colour legend), drawn from the panels' canvases.

import { drawLegend, drawWarning, legendHeight } from "../legend";

export interface ExportPanel {
  photo: HTMLCanvasElement;
  heat: HTMLCanvasElement;
}

export interface ExportInfo {
  /** record title ("" for none) */
  title: string;
  /** the token, as shown */
  token: string;
  methodLabel: string;
  warning: string | null;
  opacity: number;
  /** the colour bar canvas and its texts [low, high, unit] */
  legendBar: HTMLCanvasElement;
  legend: [string, string, string];
}

/**
 * The saved picture: a caption (record, token, method), the provenance warning if any, photo +
 * heat (current opacity) of every panel at the current frame side by side, and the colour legend.
 */
export function composite(all: readonly ExportPanel[], info: ExportInfo): HTMLCanvasElement | null {
  const panels = all.filter((p) => p.heat.width > 0);
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
  // measure the variable-height parts on a scratch canvas first (resizing a canvas clears it)
  const warnH = drawWarning(probe, 0, width, info.warning);
  const legH = legendHeight(probe, width, info.legend[2]);
  c.width = width;
  c.height = cap + warnH + tallest * s + legH;
  const ctx = c.getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#1f2328";
  ctx.font = "15px system-ui, -apple-system, 'Segoe UI', sans-serif";
  ctx.textBaseline = "middle";
  const title = info.title ? `${info.title} \u00b7 ` : "";
  ctx.fillText(`${title}${info.token} \u2014 ${info.methodLabel}`, 6, cap / 2, width - 12);
  let y = cap;
  y += drawWarning(ctx, y, width, info.warning);
  ctx.imageSmoothingEnabled = true;
  let x = 0;
  for (const p of panels) {
    const w = p.heat.width * s;
    const hh = p.heat.height * s;
    ctx.globalAlpha = 1;
    ctx.drawImage(p.photo, x, y, w, hh);
    ctx.globalAlpha = info.opacity;
    ctx.drawImage(p.heat, x, y, w, hh);
    x += w + gap;
  }
  ctx.globalAlpha = 1;
  y += tallest * s;
  drawLegend(ctx, y, width, info.legendBar, info.legend);
  return c;
}

/** Offer `canvas` as a download named `name`. */
export function downloadPng(canvas: HTMLCanvasElement, name: string): void {
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
