// A two-turn chat record as Python sends it (grids carry their turn), and the timeline's model state.

import type { Meta } from "../../src/decode";

/**
 * Turn 0: "Describe it" + picture 0, answer " A cat"; turn 1: "Which?" + picture 1, answer " Left.".
 * Explained tokens 3, 4, 8, 9; grid 1 (2x2, turn 1) is zero in the turn-0 rows.
 */
export function chatPayload(opts: { gridTurns?: boolean } = {}) {
  const turns = opts.gridTurns ?? true;
  const meta: Meta = {
    title: "test/chat",
    tokens: [
      ["<|im_start|>", "special", 0], ["Describe", "prompt", 0], [" it", "prompt", 0], [" A", "answer", 0],
      [" cat", "answer", 0], ["<|im_end|>", "special", 0], ["Which", "prompt", 1], ["?", "prompt", 1],
      [" Left", "answer", 1], [".", "answer", 1],
    ],
    explained: [3, 4, 8, 9],
    words: Array.from({ length: 10 }, (_, k) => [k, k + 1] as [number, number]),
    candidates: [[[" A", "70%", 1, 0]], [[" cat", "70%", 1, 0]], [[" Left", "70%", 1, 0]], [[".", "70%", 1, 0]]],
    methods: [{ name: "tam", label: "TAM", legend: "TAM activation" }, { name: "cam", label: "CAM", legend: "CAM score" }],
    warning: null,
    grids: [0, 1].map((k) => ({
      kind: "image", label: `image ${k + 1}`, offset: 4 * k, shape: [1, 2, 2] as [number, number, number], frames: [k],
      boxes: [[0, 0, 4, 4]] as [number, number, number, number][], ...(turns ? { turn: k } : {}),
    })),
    images: [0, 1].map(() => ({ width: 4, height: 4, mime: "image/png" })),
    n_visual: 8,
    on_demand: false,
    chunk: 4,
    dark_text_below: 0.22,
  };
  // row r: cell (r % 4) of grid 0 hot; rows 2, 3 also light up grid 1
  const tam = new Uint8Array(4 * 8);
  for (let r = 0; r < 4; r++) {
    tam[r * 8 + (r % 4)] = 255 - r * 40;
    for (let j = 0; j < 4; j++) if (r >= 2) tam[r * 8 + 4 + j] = 60 + 40 * j;
  }
  const cam = tam.map((v) => 255 - v);
  const scales = new Float32Array([0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2, 0, 2]);
  const rel = new Uint16Array(4 * 10);
  rel[2 * 10 + 4] = 0x3c00; // token 8 leaned on " cat" (turn 0)
  rel[2 * 10 + 1] = 0x3800;
  return {
    id: "r0",
    meta,
    maps: { tam: new DataView(tam.buffer), cam: new DataView(cam.buffer) },
    scales: new DataView(scales.buffer),
    relevance: new DataView(rel.buffer),
    images: [0, 1].map(() => new DataView(new ArrayBuffer(0))),
  };
}

export function timelineState(records: unknown[] = [chatPayload()], extra: Record<string, unknown> = {}) {
  return {
    _view: "chat_timeline", _records: records as any[], selected: -1, method: "tam", colormap: "jet", opacity: 0.55,
    show_specials: false, live: false, busy: false, error: "", ...extra,
  };
}
