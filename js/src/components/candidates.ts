// The next-token candidates of the shown token (best first; list items reused in place).

import type { Candidate } from "../decode";
import { h } from "../dom";
import { readableToken } from "../layout";

export class Candidates {
  readonly root: HTMLElement;
  readonly list: HTMLUListElement;

  constructor() {
    this.root = h("div", "tam-cand-box");
    this.root.appendChild(h("span", "tam-cand-head", "next token"));
    this.list = h("ul", "tam-cands");
    this.root.appendChild(this.list);
  }

  set(list: readonly Candidate[]): void {
    const ul = this.list;
    while (ul.children.length > list.length) ul.lastElementChild!.remove();
    while (ul.children.length < list.length) {
      const li = h("li");
      li.append(h("span", "tam-cand-text"), " ", h("span", "tam-cand-p"));
      ul.appendChild(li);
    }
    list.forEach(([ct, prob, chosen, bytes], k) => {
      const li = ul.children[k] as HTMLElement;
      const t = readableToken(String(ct), bytes === 1);
      const p = String(prob);
      const a = li.firstElementChild as HTMLElement;
      const b = li.lastElementChild as HTMLElement;
      if (a.textContent !== t) a.textContent = t;
      if (b.textContent !== p) b.textContent = p;
      li.classList.toggle("tam-cand-chosen", chosen === 1);
      li.classList.toggle("tam-cand-bytes", bytes === 1);
    });
  }
}
