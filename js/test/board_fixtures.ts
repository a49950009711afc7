// Test fixtures of the case board: rows and annotations as FailureCaseBoard sends them.

import type { CaseRow, Note } from "../src/cases";

export function caseRow(i: number, over: Partial<CaseRow> = {}): CaseRow {
  const truth = ["cat", "umbrella", "beach"][i % 3];
  return {
    id: `q${i}`, i, kind: "vqa", video: false, qtype: ["animal", "object", "place"][i % 3],
    question: `Question ${i} about a ${truth}?`, truth, answers: `${truth} ×7, other ×3`, choices: [],
    prediction: i % 4 === 3 ? null : i % 2 ? "dog" : truth, score: i % 4 === 3 ? null : i % 2 ? 0 : 1,
    correct: i % 4 === 3 ? null : i % 2 === 0, suggestions: [], cached: i % 4 !== 3, error: null, ...over,
  };
}

export function rows(n: number): CaseRow[] {
  return Array.from({ length: n }, (_, i) => caseRow(i));
}

export function note(caseId: string, over: Partial<Note> = {}): Note {
  return { case_id: caseId, reason: null, note: "", flag: false, token: null, updated: "2026-01-01T00:00:00Z", ...over };
}

export const FILTERS = { correct: "all", reason: "", flag: "all", question_type: "", text: "" };
