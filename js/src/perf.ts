// `window.__tamPerf`: first render and hover repaint times, read by the browser tests and the benchmark.

export interface TamPerf {
  firstRender: number | null;
  repaint: number[];
}

export function perf(): TamPerf | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as { __tamPerf?: TamPerf };
  if (!w.__tamPerf) w.__tamPerf = { firstRender: null, repaint: [] };
  return w.__tamPerf;
}

/** Note the first painted map (once per page). */
export function markFirstRender(): void {
  const p = perf();
  if (p && p.firstRender == null) p.firstRender = performance.now();
}

/**
 * Record the time from an input event to the end of the next animation frame (`inFrame`: the
 * drawing happened inside a frame callback, so that frame is the one to wait for).
 */
export function measureRepaint(ev: Event | null, inFrame = false): void {
  const p = perf();
  if (!p || !ev || typeof requestAnimationFrame === "undefined") return;
  const ts = ev.timeStamp;
  const afterFrame = () => {
    // a task queued from a frame callback runs once that frame has been rendered
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      p.repaint.push(performance.now() - ts);
      ch.port1.close();
    };
    ch.port2.postMessage(0);
  };
  if (inFrame) afterFrame();
  else requestAnimationFrame(afterFrame);
}
