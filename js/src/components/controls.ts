// The controls bar: title, method and colour pickers, opacity, "show specials", play (videos) and save PNG.
// It shows the values it is given and reports the user's changes through callbacks.

import { COLORMAPS } from "../colormaps";
import { h } from "../dom";

export interface ControlsOptions {
  title?: string;
  methods: { name: string; label: string }[];
  /** show the play button (the record has a video) */
  playable: boolean;
  onMethod(name: string): void;
  onColormap(name: string): void;
  onOpacity(value: number): void;
  onSpecials(on: boolean): void;
  onPlay(): void;
  onSave(): void;
}

/** A `<label>` with a caption and a `<select>` of `[value, text]` options; `onChange` gets the value. */
function labelledSelect(
  caption: string,
  cls: string,
  options: [string, string][],
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
  sel.addEventListener("change", () => onChange(sel.value));
  label.appendChild(sel);
  return [label, sel];
}

export class Controls {
  readonly root: HTMLElement;
  readonly method: HTMLSelectElement;
  readonly colormap: HTMLSelectElement;
  readonly opacity: HTMLInputElement;
  readonly specials: HTMLInputElement;
  readonly play: HTMLButtonElement | null = null;
  readonly save: HTMLButtonElement;

  constructor(o: ControlsOptions) {
    const bar = (this.root = h("div", "tam-bar"));
    if (o.title) {
      // one line, cut with an ellipsis (CSS); the whole title is its tooltip
      const title = bar.appendChild(h("span", "tam-title", o.title));
      title.title = o.title;
    }
    const [mLabel, method] = labelledSelect("method", "tam-method", o.methods.map((m) => [m.name, m.label || m.name]), (v) =>
      o.onMethod(v),
    );
    const [cLabel, cmap] = labelledSelect("colours", "tam-cmap", COLORMAPS.map((c) => [c, c]), (v) => o.onColormap(v));
    this.method = method;
    this.colormap = cmap;

    const oLabel = h("label", "tam-ctl");
    oLabel.appendChild(h("span", undefined, "opacity"));
    const op = (this.opacity = h("input", "tam-opacity"));
    op.type = "range";
    op.min = "0";
    op.max = "1";
    op.step = "0.05";
    op.addEventListener("input", () => o.onOpacity(Number(op.value)));
    oLabel.appendChild(op);

    const sLabel = h("label", "tam-ctl tam-check");
    const sp = (this.specials = h("input", "tam-specials"));
    sp.type = "checkbox";
    sp.addEventListener("change", () => o.onSpecials(sp.checked));
    sLabel.append(sp, h("span", undefined, "show specials"));

    // play and save stay together at the right end, also on a line of their own when the bar wraps
    const actions = h("span", "tam-actions");
    bar.append(mLabel, cLabel, oLabel, sLabel, actions);
    if (o.playable) {
      const play = (this.play = h("button", "tam-play", "\u25b6 play"));
      play.type = "button";
      play.title = "play the frames";
      play.addEventListener("click", () => o.onPlay());
      actions.appendChild(play);
    }
    this.save = h("button", "tam-save", "save PNG");
    this.save.type = "button";
    this.save.title = "picture and heat of the shown token, with the colour legend, as a PNG file";
    this.save.addEventListener("click", () => o.onSave());
    actions.appendChild(this.save);
    this.showMethodLabel();
  }

  /** The method picker may be narrower than a long label: its tooltip is the whole shown label. */
  private showMethodLabel(): void {
    const o = this.method.selectedOptions[0];
    this.method.title = o ? o.text : "";
  }

  setMethod(name: string): void {
    if (this.method.value !== name) this.method.value = name;
    this.showMethodLabel();
  }
  setColormap(name: string): void {
    if (this.colormap.value !== name) this.colormap.value = name;
  }
  setOpacity(v: number): void {
    const s = String(v);
    if (this.opacity.value !== s) this.opacity.value = s;
  }
  setSpecials(on: boolean): void {
    this.specials.checked = on;
  }
  /** Disable the methods `unavailable` names (their maps need the kernel), saying why. */
  disableMethods(unavailable: (name: string) => boolean): void {
    for (const o of Array.from(this.method.options)) {
      o.disabled = unavailable(o.value);
      o.title = o.disabled ? "not loaded: needs the kernel" : "";
    }
  }
  setPlaying(on: boolean): void {
    if (!this.play) return;
    this.play.textContent = on ? "\u275a\u275a pause" : "\u25b6 play";
    this.play.classList.toggle("tam-playing", on);
  }
}
