// Kernel loss, as far as the notebook front end exposes it. anywidget's model proxy forwards
// `on` to the ipywidgets model (events "comm:close" and "comm_live_update": ipywidgets marks the
// view's element `jupyter-widgets-disconnected` when the comm is no longer live, e.g. from the
// moment the kernel restarts) and carries `widget_manager`, whose `kernel` (JupyterLab) has Lumino
// signals `statusChanged` ("restarting", "autorestarting", "dead") and `connectionStatusChanged`
// ("disconnected"). Front ends without these (Colab, VS Code) never report a loss: there the row
// requests' timeout says the kernel may be gone.

import type { AnyModel } from "./model";

interface Signal<T> {
  connect(slot: (sender: unknown, value: T) => void): unknown;
  disconnect(slot: (sender: unknown, value: T) => void): unknown;
}

interface KernelLike {
  status?: string;
  statusChanged?: Signal<string>;
  connectionStatusChanged?: Signal<string>;
}

const LOST_STATUS = new Set(["restarting", "autorestarting", "dead"]);

/** The class ipywidgets puts on a view's element while its model has no live comm. */
export const DISCONNECTED_CLASS = "jupyter-widgets-disconnected";

function isSignal<T>(s: unknown): s is Signal<T> {
  return !!s && typeof (s as Signal<T>).connect === "function" && typeof (s as Signal<T>).disconnect === "function";
}

/**
 * Call `onLost(reason)` (at most once) when the kernel behind `model` restarts, dies or
 * disconnects, or the widget's comm closes; also at once when `host` is already marked
 * disconnected (a notebook reopened from saved widget state without its kernel). Returns the
 * function that stops watching.
 */
export function watchKernel<S>(model: AnyModel<S>, host: HTMLElement, onLost: (reason: string) => void): () => void {
  let done = false;
  const offs: (() => void)[] = [];
  const stop = () => {
    for (const off of offs.splice(0)) off();
  };
  const lost = (reason: string) => {
    if (done) return;
    done = true;
    stop();
    onLost(reason);
  };
  const marked = () => !!host.closest?.(`.${DISCONNECTED_CLASS}`);

  const onClose = () => lost("the widget's connection to the kernel closed");
  // ipywidgets updates the element's class in its own listener of the same event: look after it
  const onLive = () => queueMicrotask(() => marked() && lost("the kernel is no longer connected"));
  model.on("comm:close", onClose);
  model.on("comm_live_update", onLive);
  offs.push(
    () => model.off("comm:close", onClose),
    () => model.off("comm_live_update", onLive),
  );

  const kernel = (model as { widget_manager?: { kernel?: KernelLike | null } }).widget_manager?.kernel;
  if (kernel && isSignal<string>(kernel.statusChanged)) {
    const sig = kernel.statusChanged;
    const slot = (_: unknown, status: string) => LOST_STATUS.has(status) && lost(`the kernel is ${status}`);
    sig.connect(slot);
    offs.push(() => sig.disconnect(slot));
  }
  if (kernel && isSignal<string>(kernel.connectionStatusChanged)) {
    const sig = kernel.connectionStatusChanged;
    const slot = (_: unknown, status: string) => status === "disconnected" && lost("the connection to the kernel was lost");
    sig.connect(slot);
    offs.push(() => sig.disconnect(slot));
  }
  if (marked()) lost("no kernel: showing the saved state");
  else if (kernel?.status === "dead") lost("the kernel is dead");
  return stop;
}
