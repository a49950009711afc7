// The views a model or page document can name (`_view` / `doc.view`), and rendering one.

import type { AnyModel } from "../model";
import { h } from "../dom";
import { CompareView } from "./compare";
import { TokenMapView } from "./token_map";
import { ChatTimelineView } from "./chat_timeline";
import { CaseBoardView } from "./case_board";

interface View {
  destroy(): void;
}

export const VIEWS: Record<string, (model: AnyModel<any>, el: HTMLElement) => View> = {
  token_map: (model, el) => new TokenMapView(model, el),
  chat_timeline: (model, el) => new ChatTimelineView(model, el),
  compare: (model, el) => new CompareView(model, el),
  case_board: (model, el) => new CaseBoardView(model, el),
};

/** Render the view the model names (`_view`) into `el`; returns the cleanup function. */
export function renderView<S>(typed: AnyModel<S>, el: HTMLElement): () => void {
  const model = typed as unknown as AnyModel<any>;
  const name = String(model.get("_view") ?? "");
  const make = VIEWS[name];
  if (!make) {
    const err = h("div", "tam-view tam-error", `tam-widgets: this front end has no view ${JSON.stringify(name)} (known: ${Object.keys(VIEWS).join(", ")})`);
    el.appendChild(err);
    return () => err.remove();
  }
  const view = make(model, el);
  return () => view.destroy();
}
