// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { MapStore } from "../../src/components/map_store";
import { parsePayload } from "../../src/decode";
import { samplePayload } from "../helpers";

function store(record = "r0", timeout = 15_000) {
  const raw = samplePayload({ onDemand: true, chunk: 2 });
  const sent: any[] = [];
  const arrived = vi.fn();
  const s = new MapStore(record, parsePayload(raw), (m) => sent.push(m), arrived, timeout);
  return { s, sent, arrived, raw };
}

const reply = (req: any, bytes: Uint8Array): [any, any[]] => [{ ...req }, [new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)]];

afterEach(() => vi.useRealTimers());

describe("MapStore", () => {
  it("asks for a chunk with a request id and the record id, once", () => {
    const { s, sent } = store();
    expect(s.row("tam", 1)).toBeNull();
    expect(s.row("tam", 0)).toBeNull();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: "maps", record: "r0", method: "tam", start: 0, stop: 2 });
    expect(Number.isInteger(sent[0].request)).toBe(true);
  });

  it("matches replies by request id and record id", () => {
    const { s, sent, arrived, raw } = store();
    s.row("tam", 0);
    s.row("tam", 2);
    const [a, b] = sent;
    expect(b.request).not.toBe(a.request);
    const rows = raw.raw.tam.subarray(0, 8);
    expect(s.receive(...reply({ ...a, record: "r1" }, rows))).toBe(false); // another record's reply
    expect(s.receive(...reply({ ...a, request: a.request + 100 }, rows))).toBe(false); // unknown request
    expect(s.row("tam", 0)).toBeNull();
    expect(s.receive(...reply(a, rows))).toBe(true);
    expect(arrived).toHaveBeenCalledWith("tam");
    expect([...s.row("tam", 1)!]).toEqual([...raw.raw.tam.subarray(4, 8)]);
    expect(s.receive(...reply(a, rows))).toBe(false); // answered already
    expect(s.hasAll("tam")).toBe(false);
    s.receive(...reply(b, raw.raw.tam.subarray(8, 12)));
    expect(s.hasAll("tam")).toBe(true);
  });

  it("an error reply becomes the store's error", () => {
    const { s, sent } = store();
    s.row("cam", 0);
    expect(s.receive({ ...sent[0], error: "bad maps request: nope" }, [])).toBe(true);
    expect(s.error).toBe("bad maps request: nope");
  });

  it("a request without an answer times out into an error", () => {
    vi.useFakeTimers();
    const { s, arrived } = store("r0", 1000);
    s.row("tam", 0);
    vi.advanceTimersByTime(999);
    expect(s.error).toBeNull();
    vi.advanceTimersByTime(2);
    expect(s.error).toMatch(/^no answer from the kernel within 1 s for rows 0-2 of tam/);
    expect(arrived).toHaveBeenCalledWith("tam");
  });

  it("fetches all rows for region shares, then computes them", () => {
    const { s, sent, raw } = store();
    const grids = parsePayload(samplePayload()).meta.grids;
    expect(s.regionShares("tam", [0, 0, 0, 0, 2, 2], grids)).toBeNull();
    expect(sent.map((m) => m.start)).toEqual([0, 2]);
    s.receive(...reply(sent[0], raw.raw.tam.subarray(0, 8)));
    s.receive(...reply(sent[1], raw.raw.tam.subarray(8, 12)));
    const shares = s.regionShares("tam", [0, 0, 0, 0, 2, 2], grids)!;
    const row0 = raw.raw.tam.subarray(0, 4);
    expect(shares[0]).toBeCloseTo(row0[0] / (row0[0] + row0[1] + row0[2] + row0[3]));
    expect(s.regionShares("tam", [0, 0, 0, 0, 2, 2], grids)).toBe(shares); // cached
  });
});
