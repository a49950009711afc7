// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { Player } from "../../src/components/player";

describe("Player", () => {
  it("ticks while playing and says so", () => {
    vi.useFakeTimers();
    const next = vi.fn();
    const shown = vi.fn();
    const p = new Player(next, shown, 500);
    p.toggle();
    vi.advanceTimersByTime(1100);
    expect([p.playing, next.mock.calls.length, shown.mock.calls[0][0]]).toEqual([true, 2, true]);
    p.toggle();
    vi.advanceTimersByTime(1000);
    expect([p.playing, next.mock.calls.length, shown.mock.calls[1][0]]).toEqual([false, 2, false]);
    vi.useRealTimers();
  });
});
