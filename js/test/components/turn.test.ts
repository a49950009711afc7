// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { TurnBlock, splitTurns } from "../../src/components/turn";
import { parsePayload } from "../../src/decode";
import { ImageCache } from "../../src/images";
import { chatPayload } from "../views/chat_timeline_fixture";

describe("splitTurns", () => {
  it("splits tokens at each turn's answer and puts pictures in the turn that added them", () => {
    const meta = parsePayload(chatPayload()).meta;
    expect(splitTurns(meta)).toEqual([
      { turn: 0, user: [0, 1, 2], answer: [3, 4, 5], explained: [3, 4], grids: [0] },
      { turn: 1, user: [6, 7], answer: [8, 9], explained: [8, 9], grids: [1] },
    ]);
    // grids of records from before grids knew their turn count as turn 0
    const old = parsePayload(chatPayload({ gridTurns: false })).meta;
    expect(splitTurns(old).map((t) => t.grids)).toEqual([[0, 1], []]);
  });
});

describe("TurnBlock", () => {
  it("shows the user's words with the turn's thumbnails, then the answer with its sparkline", () => {
    const p = parsePayload(chatPayload());
    const ev = { onHover: vi.fn(), onLeave: vi.fn(), onPick: vi.fn() };
    const spark = vi.fn();
    const t = new TurnBlock(p.meta, splitTurns(p.meta)[1], new ImageCache(p.images, p.meta), ev, spark);
    document.body.appendChild(t.root);
    t.build(false);
    expect(t.root.dataset.turn).toBe("1");
    expect(t.root.querySelector(".tam-turn-who")!.textContent).toBe("You \u00b7 turn 2");
    expect([...t.root.querySelectorAll<HTMLElement>("canvas.tam-turn-thumb")].map((c) => c.dataset.grid)).toEqual(["1"]);
    expect(t.user.root.textContent).toBe("Which?");
    expect(t.answer.root.textContent).toBe(" Left.");
    expect(t.nav()).toEqual([8, 9]);
    expect(t.stripOf(9)).toBe(t.answer);
    expect(t.stripOf(6)).toBe(t.user);
    (t.answer.el(9) as HTMLElement).click();
    expect(ev.onPick).toHaveBeenCalledWith(9, expect.anything());
    t.spark.set(new Float32Array([0.5, 1]), 1, -1);
    t.spark.root.dispatchEvent(new MouseEvent("click"));
    expect(spark).toHaveBeenCalledWith(8, expect.anything());
    t.build(true); // template tokens of the turn only on request
    expect(t.user.root.querySelector(".tam-special")).toBeNull(); // this turn has none before its answer
  });
});
