import { describe, expect, it } from "vitest";
import { filterCases, NO_REASON, questionTypes } from "../src/cases";
import { FILTERS, caseRow, note, rows } from "./board_fixtures";

describe("filterCases", () => {
  const all = rows(12);
  const notes = { q1: note("q1", { reason: "missed object", flag: true, note: "pink case" }), q5: note("q5", { reason: "other" }) };
  const ids = (order: number[]) => order.map((k) => all[k].id);

  it("keeps study order with no filter", () => {
    expect(filterCases(all, notes, FILTERS, "order")).toEqual([...Array(12).keys()]);
  });

  it("filters by correctness, flag, reason, question type", () => {
    expect(ids(filterCases(all, notes, { ...FILTERS, correct: "failed" }, "order"))).toEqual(["q1", "q5", "q9"]);
    expect(ids(filterCases(all, notes, { ...FILTERS, correct: "correct" }, "order"))).toEqual(["q0", "q2", "q4", "q6", "q8", "q10"]);
    expect(ids(filterCases(all, notes, { ...FILTERS, correct: "unknown" }, "order"))).toEqual(["q3", "q7", "q11"]);
    expect(ids(filterCases(all, notes, { ...FILTERS, flag: "flagged" }, "order"))).toEqual(["q1"]);
    expect(filterCases(all, notes, { ...FILTERS, flag: "unflagged" }, "order")).toHaveLength(11);
    expect(ids(filterCases(all, notes, { ...FILTERS, reason: "other" }, "order"))).toEqual(["q5"]);
    expect(filterCases(all, notes, { ...FILTERS, reason: NO_REASON }, "order")).toHaveLength(10);
    expect(ids(filterCases(all, notes, { ...FILTERS, question_type: "object" }, "order"))).toEqual(["q1", "q4", "q7", "q10"]);
  });

  it("searches every word in id, question, answers and the note, ignoring case", () => {
    expect(ids(filterCases(all, notes, { ...FILTERS, text: "PINK" }, "order"))).toEqual(["q1"]);
    expect(ids(filterCases(all, notes, { ...FILTERS, text: "umbrella 10" }, "order"))).toEqual(["q10"]);
    expect(filterCases(all, notes, { ...FILTERS, text: "umbrella zebra" }, "order")).toEqual([]);
  });

  it("sorts by score (worst first, unknown last), reason and flag; ties keep study order", () => {
    const byScore = ids(filterCases(all, notes, FILTERS, "score"));
    expect(byScore.slice(0, 3)).toEqual(["q1", "q5", "q9"]);
    expect(byScore.slice(-3)).toEqual(["q3", "q7", "q11"]);
    expect(ids(filterCases(all, notes, FILTERS, "reason")).slice(0, 2)).toEqual(["q1", "q5"]);
    expect(ids(filterCases(all, notes, FILTERS, "flag"))[0]).toBe("q1");
  });

  it("filters 5,000 cases quickly", () => {
    const many = rows(5000);
    const t0 = performance.now();
    const out = filterCases(many, {}, { ...FILTERS, correct: "failed", text: "cat" }, "score");
    expect(performance.now() - t0).toBeLessThan(100);
    expect(out.length).toBeGreaterThan(0);
  });

  it("lists the question types", () => {
    expect(questionTypes([caseRow(0), caseRow(1), caseRow(3, { qtype: "" })])).toEqual(["animal", "object"]);
  });
});
