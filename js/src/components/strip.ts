// The token strip: words of the record, explained tokens hoverable and clickable, one moving hover
// bar, and the background colours the view asks for (text relevance or region shares).

import { tokenColor } from "../colormaps";
import type { Meta } from "../decode";
import { h } from "../dom";
import { layoutStrip, navigableTokens, stripTokens } from "../layout";
import type { StripLine, StripToken } from "../layout";

export interface StripEvents {
  /** a hover reached token `i` (at most once per animation frame; `inFrame`: called from the frame callback) */
  onHover(i: number, ev: Event, inFrame: boolean): void;
  /** the pointer left the strip while a token was hovered */
  onLeave(ev: Event): void;
  /** token `i` was clicked */
  onPick(i: number, ev: Event): void;
}

export class TokenStrip {
  readonly root: HTMLElement;
  /** token index of the hovered explained token (-1: none) */
  hovered = -1;
  lines: StripLine[] = [];
  nav: number[] = [];
  private tokens: StripToken[] = [];
  private els: (HTMLElement | undefined)[] = [];
  private bg: string[] = [];
  private flags: Int8Array = new Int8Array(0);
  private hoverBox!: HTMLElement;
  private frame = 0;
  private late: Event | null = null;
  private emitted = -1;
  private revealAfterLayout: ResizeObserver | null = null;

  /** `keep` (optional): the tokens this strip shows (e.g. one turn of a chat), by index into meta.tokens */
  constructor(
    private meta: Meta,
    private ev: StripEvents,
    private keep?: (i: number) => boolean,
  ) {
    this.root = h("div", "tam-strip");
    this.root.setAttribute("role", "listbox");
    this.wire();
  }

  /** The element of token `i` (when shown). */
  el(i: number): HTMLElement | undefined {
    return this.els[i];
  }

  /** (Re)build the words, with or without the special tokens. */
  build(showSpecials: boolean): void {
    const n = this.meta.tokens.length;
    this.lines = layoutStrip(this.meta, showSpecials, this.keep);
    this.nav = navigableTokens(this.lines);
    this.tokens = stripTokens(this.lines);
    this.els = new Array(n);
    this.bg = new Array(n).fill("");
    this.flags = new Int8Array(n).fill(-1);
    const frag = document.createDocumentFragment();
    for (const line of this.lines) {
      const le = h("div", line.gap ? "tam-line tam-gap" : "tam-line");
      le.dataset.role = line.role;
      for (const w of line.words) {
        const we = h("span", "tam-word");
        for (const t of w.toks) {
          let cls = "tam-tok";
          if (t.explained) cls += " tam-explained";
          if (t.special) cls += " tam-special";
          if (t.newline) cls += " tam-nl";
          if (t.empty) cls += " tam-empty";
          if (t.bytes) cls += " tam-bytes";
          if (t.blank) cls += " tam-blank";
          const te = h("span", cls);
          te.textContent = t.text;
          if (t.tip) te.title = t.tip;
          te.dataset.i = String(t.i);
          if (t.explained) te.setAttribute("role", "option");
          we.appendChild(te);
          this.els[t.i] = te;
        }
        le.appendChild(we);
      }
      frag.appendChild(le);
    }
    this.root.textContent = "";
    this.hoverBox = h("div", "tam-hoverbox");
    this.root.appendChild(this.hoverBox);
    if (!this.lines.length) this.root.appendChild(h("span", "tam-empty-strip", "(no tokens to show)"));
    this.root.appendChild(frag);
  }

  private wire(): void {
    const tokenOf = (e: Event): number => {
      const t = (e.target as HTMLElement | null)?.closest?.(".tam-tok.tam-explained") as HTMLElement | null;
      return t ? Number(t.dataset.i) : -1;
    };
    // Hover previews. Chrome also sends `pointerrawupdate` (secure contexts) as soon as the
    // pointer moves, while `pointerover` waits for the next frame: painting on the first of the
    // two takes the paint off the frame's critical path. At most one paint per frame; a newer
    // hover within the same frame is painted from the frame callback.
    const onOver = (e: Event) => {
      const i = tokenOf(e);
      if (i < 0 || i === this.hovered) return;
      this.hovered = i;
      this.placeHoverBox(i);
      if (this.frame) {
        this.late = e;
        return;
      }
      this.emitted = i;
      this.ev.onHover(i, e, false);
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        const late = this.late;
        this.late = null;
        if (late && this.hovered >= 0 && this.hovered !== this.emitted) {
          this.emitted = this.hovered;
          this.ev.onHover(this.hovered, late, true);
        }
      });
    };
    this.root.addEventListener("pointerrawupdate", onOver);
    this.root.addEventListener("pointerover", onOver);
    this.root.addEventListener("pointerleave", (e) => {
      if (this.hovered < 0) return;
      this.clearHover();
      this.ev.onLeave(e);
    });
    this.root.addEventListener("click", (e) => {
      const i = tokenOf(e);
      if (i < 0) return;
      this.hovered = i;
      this.ev.onPick(i, e);
    });
  }

  /** Forget the hovered token (keyboard navigation, a change from the model). */
  clearHover(): void {
    this.hovered = -1;
    this.emitted = -1;
    this.late = null;
    this.placeHoverBox(-1);
  }

  dispose(): void {
    this.revealAfterLayout?.disconnect();
    this.revealAfterLayout = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /**
   * Mark the hovered token with a bar on its own compositing layer, moved with a transform: a
   * :hover style on the token itself would re-raster the whole strip on every hover.
   */
  placeHoverBox(i: number): void {
    const box = this.hoverBox;
    const el = i >= 0 ? this.els[i] : undefined;
    if (!el) {
      box.style.visibility = "hidden";
      return;
    }
    box.style.width = `${el.offsetWidth}px`;
    box.style.transform = `translate(${el.offsetLeft}px, ${el.offsetTop + el.offsetHeight - 2}px)`;
    box.style.visibility = "visible";
  }

  /**
   * Scroll the strip (only the strip, never the page) so token i is in view. A strip not laid out
   * yet (a view rendered before its output is attached) scrolls once it gets its size.
   */
  reveal(i: number): void {
    const el = this.els[i];
    const st = this.root;
    this.revealAfterLayout?.disconnect();
    this.revealAfterLayout = null;
    if (!el) return;
    if (!st.isConnected || st.clientHeight === 0) {
      if (typeof ResizeObserver === "undefined") return;
      const ro = (this.revealAfterLayout = new ResizeObserver(() => {
        if (st.clientHeight === 0) return;
        ro.disconnect();
        this.revealAfterLayout = null;
        this.reveal(i);
      }));
      ro.observe(st);
      return;
    }
    if (st.scrollHeight <= st.clientHeight) return;
    const top = el.offsetTop;
    const bottom = top + el.offsetHeight;
    if (top < st.scrollTop || bottom > st.scrollTop + st.clientHeight) {
      st.scrollTop = Math.max(0, top - st.clientHeight / 2);
    }
  }

  private setBg(i: number, bg: string, flags: number): void {
    const el = this.els[i];
    if (!el) return;
    if (this.bg[i] !== bg) {
      // a word on a heat colour gets the theme-independent text colour (dark, or white with tam-dark)
      if (!this.bg[i] !== !bg) el.classList.toggle("tam-heated", !!bg);
      this.bg[i] = bg;
      el.style.background = bg;
    }
    if (this.flags[i] !== flags) {
      const old = this.flags[i] < 0 ? -1 : this.flags[i];
      this.flags[i] = flags;
      const diff = old < 0 ? 7 : old ^ flags;
      if (diff & 1) {
        el.classList.toggle("tam-selected", !!(flags & 1));
        if (flags & 1) el.setAttribute("aria-selected", "true");
        else el.removeAttribute("aria-selected");
      }
      if (diff & 2) el.classList.toggle("tam-later", !!(flags & 2));
      if (diff & 4) el.classList.toggle("tam-dark", !!(flags & 4));
    }
  }

  private colour(cmap: string, v: number, flags: number): [string, number] {
    const c = tokenColor(cmap, v, this.meta.dark_text_below);
    return [`rgb(${c.r},${c.g},${c.b})`, c.dark ? flags | 4 : flags];
  }

  /**
   * Text relevance of pinned token `sel` (`rel[i]`, map units; 0: not context) over the earlier
   * tokens, shown as `clip((r - lo) / span)`; later tokens are marked `tam-later`.
   */
  paintRelevance(sel: number, rel: Float32Array | null, lo: number, span: number, cmap: string): void {
    const s = span > 0 ? span : 1;
    for (const t of this.tokens) {
      const el = this.els[t.i];
      if (el && el.title !== t.tip) el.title = t.tip;
      if (sel >= 0 && t.i > sel) {
        this.setBg(t.i, "", 2);
        continue;
      }
      let flags = t.i === sel ? 1 : 0;
      let bg = "";
      const r = rel ? rel[t.i] : 0;
      if (r !== 0 && Number.isFinite(r)) [bg, flags] = this.colour(cmap, Math.max(0, Math.min(1, (r - lo) / s)), flags);
      this.setBg(t.i, bg, flags);
    }
  }

  /** Region mode: each explained token coloured by its share (row `t.row`) over the largest; null while loading. */
  paintShares(sel: number, shares: Float32Array | null, cmap: string): void {
    let max = 0;
    if (shares) for (let k = 0; k < shares.length; k++) max = Math.max(max, shares[k]);
    for (const t of this.tokens) {
      let bg = "";
      let flags = t.i === sel ? 1 : 0;
      if (t.explained && shares && max > 0) [bg, flags] = this.colour(cmap, shares[t.row] / max, flags);
      this.setBg(t.i, bg, flags);
      const el = this.els[t.i];
      if (el && t.explained) {
        const share = shares ? `${(shares[t.row] * 100).toFixed(1)}% of its map inside the region` : "";
        el.title = share && t.tip ? `${share}\n${t.tip}` : share || t.tip;
      }
    }
  }
}
