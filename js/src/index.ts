// anywidget entry point (the `_esm` of every view widget): render the view the model names in `_view`.

import type { AnyModel } from "./model";
import { renderView } from "./views";

function render({ model, el }: { model: AnyModel<any>; el: HTMLElement }): () => void {
  return renderView(model, el);
}

export default { render };
