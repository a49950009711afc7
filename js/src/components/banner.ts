// The provenance warning (untrained model, synthetic scene): a banner at the top of the view.

import { h } from "../dom";

export function warningBanner(text: string): HTMLElement {
  const b = h("div", "tam-warning");
  b.setAttribute("role", "alert");
  b.append(h("strong", "tam-warning-mark", "\u26a0 "), document.createTextNode(text));
  return b;
}
