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

/**
 * `chatPayload()` cut after its first `keep` rows and their tokens (the last turn being written), and the
 * `append` messages (with their buffers) that grow it back to the whole record, one row each, numbered
 * from `seq + 1`, as `tam_widgets.widgets.payload.append_payload` makes them.
 */
export function grownPayload(keep: number, seq = 1) {
  const full = chatPayload();
  const m = full.meta;
  const nt = m.tokens.length;
  const rows = m.explained.length;
  const nm = m.methods.length;
  const nv = m.n_visual;
  const tam = new Uint8Array(full.maps.tam.buffer);
  const cam = new Uint8Array(full.maps.cam.buffer);
  const scales = new Float32Array(full.scales.buffer);
  const rel = new Uint16Array(full.relevance.buffer);
  const upto = (r: number) => (r < rows ? m.explained[r - 1] + 1 : nt); // tokens held with rows 0..r-1
  const cutTokens = upto(keep);
  const relRows = (r0: number, r1: number, n: number) => {
    const out = new Uint16Array((r1 - r0) * n);
    for (let r = r0; r < r1; r++) for (let i = 0; i < n; i++) out[(r - r0) * n + i] = rel[r * nt + i];
    return out;
  };
  const scaleRows = (r0: number, r1: number, total: number) => {
    const out = new Float32Array(nm * (r1 - r0) * 2);
    for (let j = 0; j < nm; j++)
      for (let r = r0; r < r1; r++) for (let q = 0; q < 2; q++) out[(j * (r1 - r0) + r - r0) * 2 + q] = scales[(j * total + r) * 2 + q];
    return out;
  };
  const part = {
    ...full,
    seq,
    meta: {
      ...m,
      tokens: m.tokens.slice(0, cutTokens),
      explained: m.explained.slice(0, keep),
      words: m.words.slice(0, cutTokens),
      candidates: m.candidates.slice(0, keep),
    },
    maps: { tam: new DataView(tam.slice(0, keep * nv).buffer), cam: new DataView(cam.slice(0, keep * nv).buffer) },
    scales: new DataView(scaleRows(0, keep, rows).buffer),
    relevance: new DataView(relRows(0, keep, cutTokens).buffer),
  };
  const pushes: { msg: any; buffers: DataView[] }[] = [];
  for (let r = keep; r < rows; r++) {
    const t0 = upto(r);
    const t1 = upto(r + 1);
    pushes.push({
      msg: {
        type: "append", record: "r0", seq: seq + 1 + (r - keep),
        tokens: { start: t0, items: m.tokens.slice(t0, t1) },
        words: { start: t0, items: m.words.slice(t0, t1) },
        rows: { start: r, explained: [m.explained[r]], candidates: [m.candidates[r]] },
        n_tokens: t1,
      },
      buffers: [
        new DataView(tam.slice(r * nv, (r + 1) * nv).buffer),
        new DataView(cam.slice(r * nv, (r + 1) * nv).buffer),
        new DataView(scaleRows(r, r + 1, rows).buffer),
        new DataView(relRows(r, r + 1, t1).buffer),
      ],
    });
  }
  return { full: { ...full, seq: seq + rows - keep }, part, pushes };
}
