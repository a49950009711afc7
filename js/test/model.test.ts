import { describe, expect, it } from "vitest";
import { bind, commit, onMessage } from "../src/model";
import type { AnyModel } from "../src/model";
import { FakeModel } from "./helpers";

describe("bind / commit / onMessage", () => {
  it("applies the value now and on every change until unbound", () => {
    const fake = new FakeModel({ opacity: 0.55 });
    const m: AnyModel<{ opacity: number }> = fake;
    const seen: number[] = [];
    const off = bind(m, "opacity", (v) => seen.push(v));
    m.set("opacity", 0.2);
    off();
    m.set("opacity", 0.9);
    expect(seen).toEqual([0.55, 0.2]);
    bind(m, "opacity", (v) => seen.push(v), false);
    expect(seen).toEqual([0.55, 0.2]);
  });

  it("commit sets and saves; onMessage passes custom messages", () => {
    const fake = new FakeModel({ selected: -1 });
    const m: AnyModel<{ selected: number }> = fake;
    commit(m, "selected", 4);
    expect([fake.state.selected, fake.saves]).toEqual([4, 1]);
    const got: unknown[] = [];
    const off = onMessage(m, (msg, buffers) => got.push([msg, buffers?.length]));
    fake.emit("msg:custom", { type: "maps" }, [1]);
    off();
    fake.emit("msg:custom", { type: "maps" }, []);
    expect(got).toEqual([[{ type: "maps" }, 1]]);
  });
});
