// Tokens to displayed words and lines for the token strip.

import type { Meta } from "./decode";

export interface StripToken {
  /** index into meta.tokens */
  i: number;
  /** text to show (sentencepiece "▁" as a space, newlines removed, "↵" for a bare newline) */
  text: string;
  role: string;
  turn: number;
  special: boolean;
  /** has a map (interactive) */
  explained: boolean;
  /** row in maps / relevance, -1 if not explained */
  row: number;
  /** the token was only a line break, shown as "↵" */
  newline: boolean;
  /** the label is a byte fragment like "<0xE2><0x80>" (meta.tokens[i][3] === 1) */
  bytes: boolean;
  /** the token has no text: shown as EMPTY_MARK so it can still be seen and clicked */
  empty: boolean;
  /** the token is only spaces or tabs: shown as one BLANK_MARK per character (at most 4) */
  blank: boolean;
  /** tooltip with the real text of a token shown by a placeholder (empty, blank, newline); "" otherwise */
  tip: string;
}

/** What the strip shows for a token without text. */
export const EMPTY_MARK = "\u2205";
/** What the strip shows for each space of a whitespace-only token. */
export const BLANK_MARK = "\u2423";

/** The tooltip of a token the strip shows as a placeholder: its real text, quoted. */
export function placeholderTip(raw: string): string {
  return raw === "" ? "empty token (no text)" : `token text: ${JSON.stringify(raw)}`;
}

/**
 * A token label as the readout and candidates show it: byte labels as they are, text quoted
 * (JSON style, so leading spaces show), an empty token as "∅ (empty)".
 */
export function readableToken(label: string, bytes = false): string {
  if (bytes) return label;
  if (label === "") return `${EMPTY_MARK} (empty)`;
  return JSON.stringify(label);
}

export interface StripWord {
  toks: StripToken[];
}

export interface StripLine {
  role: string;
  turn: number;
  /** a paragraph break (blank line or new turn) comes before this line */
  gap: boolean;
  words: StripWord[];
}

/** The sentencepiece word-boundary mark shows as a plain space. */
export function displayText(raw: string): string {
  return raw.replace(/\u2581/g, " ");
}

/** Word ranges that cover every token in order: meta.words, with any holes as one-token words. */
export function coverWords(words: readonly (readonly [number, number])[] | undefined, n: number): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const w of words ?? []) {
    const s = Math.max(next, Math.floor(w[0]));
    const e = Math.min(n, Math.floor(w[1]));
    if (e <= s) continue;
    for (; next < s; next++) out.push([next, next + 1]);
    out.push([s, e]);
    next = e;
  }
  for (; next < n; next++) out.push([next, next + 1]);
  return out;
}

/**
 * Lay the record's tokens out as lines of words. Special tokens are left out unless
 * `showSpecials`; `keep` (optional) says which tokens this strip holds (a chat turn's part). A new line starts when the role or turn changes (between shown tokens) and at
 * each "\n" inside a token: after it ("foo\n", a bare "\n" shown as "↵"), or before it when text
 * follows the newline ("\nThe").
 */
export function layoutStrip(
  meta: Pick<Meta, "tokens" | "words" | "explained">,
  showSpecials: boolean,
  keep?: (i: number) => boolean,
): StripLine[] {
  const n = meta.tokens.length;
  const rowOf = new Map<number, number>();
  meta.explained.forEach((t, r) => rowOf.set(t, r));
  const lines: StripLine[] = [];
  let line: StripLine | null = null;
  let prevKey: string | null = null;
  let prevTurn: number | null = null;
  let breakPending = false;
  let gapPending = false;

  for (const [s, e] of coverWords(meta.words, n)) {
    let word: StripWord | null = null;
    for (let i = s; i < e; i++) {
      const [rawText, role, turnRaw, byteFlag] = meta.tokens[i];
      const special = role === "special";
      if ((special && !showSpecials) || (keep && !keep(i))) continue;
      const turn = Number(turnRaw) || 0;
      const key = `${role}\u0000${turn}`;
      const bytes = byteFlag === 1;
      let text = bytes ? String(rawText ?? "") : displayText(String(rawText ?? ""));
      let breakBefore = false;
      let breakAfter = false;
      let gap = false;
      let newline = false;
      const nl = bytes ? -1 : text.indexOf("\n");
      if (nl >= 0) {
        const count = text.split("\n").length - 1;
        const head = text.slice(0, nl);
        const tail = text.slice(text.lastIndexOf("\n") + 1);
        const flat = text.replace(/[\r\n]/g, "");
        gap = count >= 2;
        if (flat.trim() === "") {
          text = "\u21b5";
          newline = true;
          breakAfter = true;
        } else if (head.trim() === "" && tail.trim() !== "") {
          text = tail;
          breakBefore = true;
        } else {
          text = flat;
          breakAfter = true;
        }
      }
      const empty = text === "";
      const blank = !empty && !newline && text.trim() === "";
      const tip = empty || blank || newline ? placeholderTip(bytes ? String(rawText ?? "") : displayText(String(rawText ?? ""))) : "";
      if (empty) text = EMPTY_MARK;
      else if (blank) text = BLANK_MARK.repeat(Math.min(4, text.length));
      const roleChange = prevKey !== null && key !== prevKey;
      if (line === null || breakPending || breakBefore || roleChange) {
        line = {
          role: String(role),
          turn,
          gap: line !== null && ((breakPending && gapPending) || (breakBefore && gap) || (prevTurn !== null && turn !== prevTurn)),
          words: [],
        };
        lines.push(line);
        word = null;
      }
      if (word === null) {
        word = { toks: [] };
        line.words.push(word);
      }
      const row = rowOf.get(i);
      word.toks.push({
        i,
        text,
        role: String(role),
        turn,
        special,
        explained: row !== undefined,
        row: row ?? -1,
        newline,
        bytes,
        empty,
        blank,
        tip,
      });
      prevKey = key;
      prevTurn = turn;
      breakPending = breakAfter;
      gapPending = breakAfter && gap;
    }
  }
  return lines;
}

/** Shown tokens in reading order. */
export function stripTokens(lines: readonly StripLine[]): StripToken[] {
  const out: StripToken[] = [];
  for (const l of lines) for (const w of l.words) for (const t of w.toks) out.push(t);
  return out;
}

/** Token indices of the shown explained tokens, in reading order (keyboard navigation). */
export function navigableTokens(lines: readonly StripLine[]): number[] {
  return stripTokens(lines)
    .filter((t) => t.explained)
    .map((t) => t.i);
}

/**
 * The token to select first: `selected` when it is explained, else the first explained answer
 * token, else the first explained token; -1 when nothing is explained.
 */
export function initialToken(meta: Pick<Meta, "tokens" | "explained">, selected: unknown): number {
  const sel = typeof selected === "number" ? selected : Number.NaN;
  if (meta.explained.includes(sel)) return sel;
  for (const t of meta.explained) if (meta.tokens[t]?.[1] === "answer") return t;
  return meta.explained.length ? meta.explained[0] : -1;
}
