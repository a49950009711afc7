// anywidget entry point (tam_widgets.TokenMapView._esm).

import { renderView } from "./view";
import type { WidgetModel } from "./view";

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  return renderView(model, el);
}

export default { render };
