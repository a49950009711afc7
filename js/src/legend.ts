// What the colours mean, as text and drawing: tooltips, the strip key's text, the colour bar's ends,
// and the warning band and legend drawn into the saved PNG. The components (components/legend.ts,
// strip_key.ts, banner.ts) show them on the page. The texts come from Python (meta.methods[].legend,
// meta.warning); this file only lays them out.

/** Tooltip of the readout's "peak". */
export const PEAK_TIP =
  "peak: the largest value of this token's map, in the method's own units (where it is in brackets). " +
  "Each method has its own scale (TAM 0-1; CAM and the ablations are scaled differently): " +
  "compare peaks between tokens of one method, not across methods.";

/** Tooltip of the readout's "above Otsu". */
export const OTSU_TIP =
  "above Otsu: the share of the map's cells brighter than Otsu's threshold (the cut that best " +
  "separates bright from dark cells): small = focused evidence, large = spread out.";

/** The strip key: what the words' background colours mean in each mode. */
export function stripKey(regionMode: boolean): string {
  return regionMode
    ? "word colour: share of each token's map inside the box (full colour = the largest share; hover a word for its %) \u2014 Esc clears"
    : "word colour: text relevance of each earlier word to the pinned token, on the map's colour scale";
}

/** A method's label and legend text (what its colours mean), with a fallback for a method without them. */
export function methodInfo(m: { label?: string; legend?: string } | undefined, name: string): { label: string; legend: string } {
  const label = m?.label || name;
  return { label, legend: m?.legend || `${label} (colours: the map's values, low to high)` };
}

/** A number with 3 significant digits, no trailing zeros, no exponent for ordinary magnitudes. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

/**
 * The colour bar's end labels for a row shown as `lo + span * display` (display 0..1), and whether
 * the colours are stretched over this row's own range (min-max scaled) rather than the stored 0-1.
 */
export function legendEnds(lo: number, span: number): { low: string; high: string; stretched: boolean } {
  const l = Number.isFinite(lo) ? lo : 0;
  const s = Number.isFinite(span) ? span : 1;
  return { low: fmtNum(l), high: fmtNum(l + s), stretched: l !== 0 || s !== 1 };
}

/** Greedy word wrap of `text` into lines no wider than `maxWidth` (a word longer than that gets its own line). */
export function wrapLines(text: string, maxWidth: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && measure(next) > maxWidth) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** Paint a 256 x 1 canvas with colour i = f(i / 255). */
export function paintRamp(c: HTMLCanvasElement, colour: (v: number) => number): void {
  c.width = 256;
  c.height = 1;
  const ctx = c.getContext("2d");
  if (!ctx) return;
  const img = ctx.createImageData(256, 1);
  const px = new Uint32Array(img.data.buffer);
  for (let i = 0; i < 256; i++) px[i] = colour(i / 255);
  ctx.putImageData(img, 0, 0);
}

// ---------------------------------------------------------------- the saved PNG

const FONT = "13px system-ui, -apple-system, 'Segoe UI', sans-serif";
const LINE = 18;

/** Draw the warning as a yellow band at `y` across `width`; returns its height (0 without a warning). */
export function drawWarning(ctx: CanvasRenderingContext2D, y: number, width: number, text: string | null): number {
  if (!text) return 0;
  ctx.font = `bold ${FONT}`;
  const lines = wrapLines(`\u26a0 ${text}`, width - 16, (s) => ctx.measureText(s).width);
  const hgt = lines.length * LINE + 10;
  ctx.fillStyle = "#fff4ce";
  ctx.fillRect(0, y, width, hgt);
  ctx.fillStyle = "#e0a33b";
  ctx.fillRect(0, y, 4, hgt);
  ctx.fillStyle = "#5c3c00";
  ctx.textBaseline = "middle";
  lines.forEach((l, k) => ctx.fillText(l, 10, y + 5 + LINE * k + LINE / 2));
  return hgt;
}

/** The height drawLegend needs for `width`. */
export function legendHeight(ctx: CanvasRenderingContext2D, width: number, unit: string): number {
  ctx.font = FONT;
  return 8 + 14 + 6 + wrapLines(unit, width - 12, (s) => ctx.measureText(s).width).length * LINE + 10;
}

/** Draw the colour bar with its end labels and the unit text under it at `y`; returns the height used. */
export function drawLegend(
  ctx: CanvasRenderingContext2D,
  y: number,
  width: number,
  bar: HTMLCanvasElement,
  [low, high, unit]: [string, string, string],
): number {
  ctx.font = FONT;
  ctx.fillStyle = "#1f2328";
  ctx.textBaseline = "middle";
  const top = y + 8;
  const lw = ctx.measureText(low).width;
  const barW = Math.min(260, width - lw - ctx.measureText(high).width - 30);
  ctx.fillText(low, 6, top + 7);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(bar, 6 + lw + 6, top, barW, 14);
  ctx.strokeStyle = "#9aa3ad";
  ctx.lineWidth = 1;
  ctx.strokeRect(6 + lw + 6 + 0.5, top + 0.5, barW - 1, 13);
  ctx.fillText(high, 6 + lw + 6 + barW + 6, top + 7);
  const lines = wrapLines(unit, width - 12, (s) => ctx.measureText(s).width);
  lines.forEach((l, k) => ctx.fillText(l, 6, top + 14 + 6 + LINE * k + LINE / 2));
  return legendHeight(ctx, width, unit);
}
