// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { CaseFilters } from "../../src/components/case_filters";
import { NO_REASON } from "../../src/cases";
import { FILTERS } from "../board_fixtures";

describe("CaseFilters", () => {
  it("emits the whole filter on a change and the sort on its own", () => {
    const cb = { onFilters: vi.fn(), onSort: vi.fn() };
    const f = new CaseFilters(cb);
    f.setOptions(["missed object", "other"], ["animal"]);
    f.set(FILTERS, "order");
    f.correct.value = "failed";
    f.correct.dispatchEvent(new Event("change"));
    expect(cb.onFilters).toHaveBeenLastCalledWith({ ...FILTERS, correct: "failed" });
    f.reason.value = NO_REASON;
    f.reason.dispatchEvent(new Event("change"));
    expect(cb.onFilters.mock.lastCall![0].reason).toBe(NO_REASON);
    f.sort.value = "score";
    f.sort.dispatchEvent(new Event("change"));
    expect(cb.onSort).toHaveBeenCalledWith("score");
  });

  it("filters on typing after a pause, shows counts, hides an empty question type list", () => {
    vi.useFakeTimers();
    const cb = { onFilters: vi.fn(), onSort: vi.fn() };
    const f = new CaseFilters(cb);
    f.setOptions([], []);
    expect(f.qtype.hidden).toBe(true);
    f.text.value = "cat";
    f.text.dispatchEvent(new Event("input"));
    expect(cb.onFilters).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(cb.onFilters.mock.lastCall![0].text).toBe("cat");
    f.setCount(3, 10);
    expect(f.root.querySelector(".tam-f-count")!.textContent).toBe("3 of 10 cases");
    vi.useRealTimers();
  });
});
