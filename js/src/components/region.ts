// The region tool of one panel: drag a box on the picture (in stored-image pixels) and show a box.

export type BoxXY = [number, number, number, number];

export interface RegionEvents {
  /** a drag started (the view takes the focus, so Esc works) */
  onStart(): void;
  /** a drag ended on a box of at least 1 x 1 pixel: [x0, y0, x1, y1], rounded to 0.1 px */
  onBox(box: BoxXY): void;
  /** a drag was cancelled or too small: show the current region again */
  onCancel(): void;
}

export class RegionTool {
  private drag: { x0: number; y0: number; sx: number; sy: number; moved: boolean } | null = null;

  /** `surface`: the canvas whose pixels are the picture's; `rbox`: the dashed box element. */
  constructor(
    stage: HTMLElement,
    private surface: HTMLCanvasElement,
    readonly rbox: HTMLElement,
    ev: RegionEvents,
  ) {
    const toImage = (e: PointerEvent): [number, number] => {
      const s = this.surface;
      const r = s.getBoundingClientRect();
      const x = ((e.clientX - r.left) / (r.width || 1)) * s.width;
      const y = ((e.clientY - r.top) / (r.height || 1)) * s.height;
      return [Math.max(0, Math.min(s.width, x)), Math.max(0, Math.min(s.height, y))];
    };
    stage.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const [x, y] = toImage(e);
      this.drag = { x0: x, y0: y, sx: e.clientX, sy: e.clientY, moved: false };
      try {
        stage.setPointerCapture(e.pointerId);
      } catch {
        /* synthetic pointers cannot be captured */
      }
      e.preventDefault();
      ev.onStart();
    });
    stage.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d) return;
      if (!d.moved && Math.hypot(e.clientX - d.sx, e.clientY - d.sy) < 4) return;
      d.moved = true;
      const [x, y] = toImage(e);
      this.show([d.x0, d.y0, x, y]);
    });
    stage.addEventListener("pointerup", (e) => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      if (!d.moved) return;
      const [x, y] = toImage(e);
      const b = [Math.min(d.x0, x), Math.min(d.y0, y), Math.max(d.x0, x), Math.max(d.y0, y)].map((v) => Math.round(v * 10) / 10);
      if (b[2] - b[0] < 1 || b[3] - b[1] < 1) ev.onCancel();
      else ev.onBox(b as BoxXY);
    });
    stage.addEventListener("pointercancel", () => {
      this.drag = null;
      ev.onCancel();
    });
  }

  get dragging(): boolean {
    return this.drag !== null;
  }

  /** Drop a drag in progress; true when there was one. */
  cancel(): boolean {
    const was = this.drag !== null;
    this.drag = null;
    return was;
  }

  /** Show the box [x0, y0, x1, y1] (either corner order) over the picture. */
  show(b: readonly number[]): void {
    const W = this.surface.width || 1;
    const H = this.surface.height || 1;
    const s = this.rbox.style;
    s.left = `${(Math.min(b[0], b[2]) / W) * 100}%`;
    s.top = `${(Math.min(b[1], b[3]) / H) * 100}%`;
    s.width = `${(Math.abs(b[2] - b[0]) / W) * 100}%`;
    s.height = `${(Math.abs(b[3] - b[1]) / H) * 100}%`;
    this.rbox.classList.add("tam-on");
  }

  hide(): void {
    this.rbox.classList.remove("tam-on");
  }
}
