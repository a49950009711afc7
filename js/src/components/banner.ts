// Banners at the top of a view: the provenance warning (untrained model, synthetic scene) and the
// kernel-loss notice.

import { h } from "../dom";

export function warningBanner(text: string): HTMLElement {
  const b = h("div", "tam-warning");
  b.setAttribute("role", "alert");
  b.append(h("strong", "tam-warning-mark", "\u26a0 "), document.createTextNode(text));
  return b;
}

/** What a view says when its kernel went away (`reason`: what happened). */
export const DISCONNECTED_TEXT = "kernel disconnected: showing what was loaded";

export function disconnectedBanner(reason: string): HTMLElement {
  const b = h("div", "tam-disconnected-banner");
  b.setAttribute("role", "status");
  b.append(
    h("strong", undefined, DISCONNECTED_TEXT),
    h("span", "tam-disconnected-why", ` (${reason}). Maps not loaded yet are unavailable; rerun the cell to reconnect.`),
  );
  return b;
}
