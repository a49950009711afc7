// One model's summary line in the comparison: its answer, the mean peak over its object words, and for
// the shown word the share of the picture above Otsu and the top-3 candidates (or that it is absent).

import type { Candidate } from "../decode";
import { h } from "../dom";
import { fmtNum, OTSU_TIP, PEAK_TIP } from "../legend";
import { readableToken } from "../layout";

export interface SummaryLine {
  answer: string;
  /** mean peak map value over the object words (nouns), null when there are none or they are unknown */
  meanPeak: number | null;
  objectWords: string[];
  nounsKnown: boolean;
  /** the shown word, as this model wrote it; null when this model did not say it */
  word: string | null;
  /** share of the map above its Otsu threshold (0..1), null while loading or absent */
  share: number | null;
  candidates: Candidate[];
}

/** Longest answer text the line quotes (the strip above shows it whole). */
export const MAX_ANSWER = 140;

export class CompareSummary {
  readonly root: HTMLElement;
  private answer: HTMLElement;
  private peak: HTMLElement;
  private word: HTMLElement;

  constructor() {
    this.root = h("div", "tam-compare-summary");
    this.answer = h("div", "tam-sum-answer");
    this.peak = h("span", "tam-sum-peak");
    this.word = h("span", "tam-sum-word");
    const stats = h("div", "tam-sum-stats");
    stats.append(this.peak, document.createTextNode(" \u00b7 "), this.word);
    this.root.append(this.answer, stats);
  }

  update(s: SummaryLine): void {
    const a = s.answer.length > MAX_ANSWER ? `${s.answer.slice(0, MAX_ANSWER - 1)}\u2026` : s.answer;
    if (this.answer.textContent !== a) this.answer.textContent = a;
    if (this.answer.title !== s.answer) this.answer.title = s.answer;
    const peak = !s.nounsKnown
      ? "mean peak over object words: n/a (no POS tagger data)"
      : s.meanPeak === null
        ? "mean peak over object words: n/a (no nouns)"
        : `mean peak over object words ${fmtNum(s.meanPeak)}`;
    const peakTip = s.objectWords.length ? `${PEAK_TIP}\n\nobject words: ${s.objectWords.join(", ")}` : PEAK_TIP;
    if (this.peak.textContent !== peak) this.peak.textContent = peak;
    if (this.peak.title !== peakTip) this.peak.title = peakTip;
    let word: string;
    if (s.word === null) word = "absent: this model did not say the word";
    else {
      const share = s.share === null ? "loading" : `${(s.share * 100).toFixed(1)}% above Otsu`;
      const top = s.candidates
        .slice(0, 3)
        .map((c) => `${readableToken(String(c[0]), c[3] === 1)} ${c[1]}`)
        .join(", ");
      word = `${share}${top ? ` \u00b7 top-3: ${top}` : ""}`;
    }
    if (this.word.textContent !== word) this.word.textContent = word;
    const wordTip = s.word === null ? "" : OTSU_TIP;
    if (this.word.title !== wordTip) this.word.title = wordTip;
    if (this.root.classList.contains("tam-absent") !== (s.word === null)) this.root.classList.toggle("tam-absent", s.word === null);
  }
}
