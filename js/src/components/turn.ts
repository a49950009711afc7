// One turn of a chat: the user's message (thumbnails of the pictures added in this turn, then its
// words) and the model's answer (a token strip with a sparkline of its tokens' peak activation).

import type { Meta } from "../decode";
import { h } from "../dom";
import type { ImageCache } from "../images";
import { imageSize } from "../images";
import { Sparkline } from "./sparkline";
import { TokenStrip } from "./strip";
import type { StripEvents } from "./strip";

const THUMB_HEIGHT = 56;

/** The tokens of one turn, split where its answer starts. */
export interface TurnParts {
  turn: number;
  /** token indices of the user's part (prompt and template tokens before the answer) */
  user: number[];
  /** token indices of the answer (from its first answer token on) */
  answer: number[];
  /** explained answer tokens, in order (the sparkline's values) */
  explained: number[];
  /** grids added in this turn */
  grids: number[];
}

/** Split a record's tokens into turns (`turn` of each token, `turn ?? 0` of each grid). */
export function splitTurns(meta: Pick<Meta, "tokens" | "explained" | "grids">): TurnParts[] {
  const turns: TurnParts[] = [];
  const of = (t: number): TurnParts => {
    while (turns.length <= t) turns.push({ turn: turns.length, user: [], answer: [], explained: [], grids: [] });
    return turns[t];
  };
  const isExplained = new Set(meta.explained);
  meta.tokens.forEach((tok, i) => {
    const p = of(Math.max(0, Number(tok[2]) || 0));
    if (tok[1] === "answer" || p.answer.length) {
      p.answer.push(i);
      if (isExplained.has(i) && tok[1] === "answer") p.explained.push(i);
    } else p.user.push(i);
  });
  meta.grids.forEach((g, gi) => of(Math.max(0, Number(g.turn ?? 0) || 0)).grids.push(gi));
  return turns;
}

export class TurnBlock {
  readonly root: HTMLElement;
  readonly user: TokenStrip;
  readonly answer: TokenStrip;
  readonly spark: Sparkline;
  readonly thumbs: HTMLElement;
  private answerSet: Set<number>;
  private answerBox: HTMLElement;

  constructor(
    meta: Meta,
    readonly parts: TurnParts,
    images: ImageCache,
    ev: StripEvents,
    onSpark: (token: number, e: Event) => void,
  ) {
    const t = parts.turn;
    this.root = h("div", "tam-turn");
    this.root.dataset.turn = String(t);
    const user = h("div", "tam-turn-user");
    user.appendChild(h("div", "tam-turn-who", `You \u00b7 turn ${t + 1}`));
    this.thumbs = h("div", "tam-turn-thumbs");
    for (const gi of parts.grids) {
      const g = meta.grids[gi];
      const idx = g.frames[0];
      const [w, hh] = imageSize(meta, g, 0);
      const c = h("canvas", "tam-turn-thumb");
      c.dataset.grid = String(gi);
      c.title = g.label;
      c.height = THUMB_HEIGHT;
      c.width = Math.max(1, Math.round((w / Math.max(1, hh)) * THUMB_HEIGHT));
      if (idx !== undefined)
        void images.get(idx).then((src) => src && c.getContext("2d")?.drawImage(src, 0, 0, c.width, c.height));
      this.thumbs.appendChild(c);
    }
    if (parts.grids.length) user.appendChild(this.thumbs);
    const userSet = new Set(parts.user);
    this.user = new TokenStrip(meta, ev, (i) => userSet.has(i));
    user.appendChild(this.user.root);

    const answer = h("div", "tam-turn-answer");
    const head = h("div", "tam-turn-who", "Model");
    this.spark = new Sparkline((k, e) => {
      const tok = parts.explained[k];
      if (tok !== undefined) onSpark(tok, e);
    });
    head.appendChild(this.spark.root);
    answer.appendChild(head);
    const answerSet = (this.answerSet = new Set(parts.answer));
    this.answer = new TokenStrip(meta, ev, (i) => answerSet.has(i));
    answer.appendChild(this.answer.root);
    this.answerBox = answer;
    if (!parts.answer.length) answer.classList.add("tam-turn-pending");
    this.root.append(user, answer);
  }

  /**
   * The answer grew (a turn being written): tokens `tokens` (indices into the record's tokens, which hold
   * them now) join it, `explained` of them explained; only the answer's strip is built again. False (and
   * nothing changed) when a token belongs before the answer: the turn must be built whole.
   */
  grow(meta: Meta, tokens: number[], explained: Set<number>, showSpecials: boolean): boolean {
    if (!this.parts.answer.length && tokens.length && meta.tokens[tokens[0]][1] !== "answer") return false;
    for (const i of tokens) {
      const role = meta.tokens[i][1];
      this.parts.answer.push(i);
      this.answerSet.add(i);
      if (explained.has(i) && role === "answer") this.parts.explained.push(i);
    }
    this.answerBox.classList.toggle("tam-turn-pending", !this.parts.answer.length);
    this.answer.build(showSpecials);
    return true;
  }

  /** (Re)build both strips. */
  build(showSpecials: boolean): void {
    this.user.build(showSpecials);
    this.answer.build(showSpecials);
  }

  /** The strip holding token `i`. */
  stripOf(i: number): TokenStrip {
    return this.answer.el(i) ? this.answer : this.user;
  }

  /** Explained tokens in reading order (user part first). */
  nav(): number[] {
    return [...this.user.nav, ...this.answer.nav];
  }

  dispose(): void {
    this.user.dispose();
    this.answer.dispose();
  }
}
