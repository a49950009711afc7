// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { CaseList, ROW_HEIGHT } from "../../src/components/case_list";
import { note, rows } from "../board_fixtures";

function make(n = 5000) {
  const cb = { onOpen: vi.fn(), onNeedThumb: vi.fn() };
  const list = new CaseList(cb);
  document.body.appendChild(list.root);
  const all = rows(n);
  list.setRows(all, all.map((_, k) => k));
  return { list, cb, all };
}

const shown = (list: CaseList) => [...list.root.querySelectorAll<HTMLElement>(".tam-case")].map((e) => e.dataset.case);

describe("CaseList", () => {
  it("renders only the rows in view of 5,000 and sizes the scroll area for all", () => {
    const { list, cb } = make();
    expect(shown(list).length).toBeLessThan(30);
    expect(list.root.querySelector<HTMLElement>(".tam-case-spacer")!.style.height).toBe(`${5000 * ROW_HEIGHT}px`);
    expect(cb.onNeedThumb).toHaveBeenCalledWith("q0");
    expect(cb.onNeedThumb.mock.calls.length).toBe(shown(list).length);
  });

  it("shows a row's question, answer, truth, verdict, reason and flag as text", () => {
    const { list } = make(4);
    list.setNotes({ q1: note("q1", { reason: "<b>missed</b>", flag: true }) });
    const row = list.root.querySelector<HTMLElement>('.tam-case[data-case="q1"]')!;
    expect(row.querySelector(".tam-case-q")!.textContent).toBe("Question 1 about a umbrella?");
    expect(row.querySelector(".tam-case-pred")!.textContent).toBe("“dog”");
    expect(row.querySelector(".tam-case-truth")!.textContent).toContain("umbrella ×7");
    expect(row.classList.contains("tam-case-failed")).toBe(true);
    expect(row.querySelector(".tam-tag-reason")!.textContent).toBe("<b>missed</b>");
    expect(row.querySelector(".tam-tag-reason b")).toBeNull();
    expect(row.querySelector(".tam-tag-flag")).not.toBeNull();
    expect(list.root.querySelector('.tam-case[data-case="q3"] .tam-case-pred')!.textContent).toBe("no answer yet");
  });

  it("moves the window of rows on scroll, opens on click, steps to neighbours", () => {
    const { list, cb } = make();
    list.root.scrollTop = 1000 * ROW_HEIGHT;
    list.render();
    expect(shown(list)).toContain("q1000");
    expect(shown(list)).not.toContain("q0");
    list.root.querySelector<HTMLElement>('.tam-case[data-case="q1001"] .tam-case-q')!.click();
    expect(cb.onOpen).toHaveBeenCalledWith("q1001");
    list.setCurrent("q1001");
    expect(list.neighbour(1)).toBe("q1002");
    expect(list.neighbour(-1)).toBe("q1000");
    list.setCurrent("q4999");
    expect(list.neighbour(1)).toBe("q4999");
    expect(list.root.querySelector(".tam-case-current")!.getAttribute("data-case")).toBe("q4999");
  });

  it("fills thumbnails as they come, errors as a mark with the reason", () => {
    const { list } = make(3);
    list.setThumb("q0", { url: "blob:x" });
    list.setThumb("q1", { error: "cannot read its picture" });
    expect(list.root.querySelector<HTMLImageElement>('.tam-case[data-case="q0"] img')!.getAttribute("src")).toBe("blob:x");
    const bad = list.root.querySelector<HTMLElement>('.tam-case[data-case="q1"] .tam-case-thumb')!;
    expect(bad.title).toBe("cannot read its picture");
    expect(list.isShown("q2")).toBe(true);
  });
});
