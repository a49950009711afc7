// The case board's data: a case row and annotation as the kernel sends them (`_cases`, `_notes`),
// and filtering / sorting the list (the only place these rules live; Python checks the filter's
// shape in tam_widgets/widgets/state.py).

export interface Suggestion {
  reason: string;
  evidence: string;
  token?: number;
}

export interface CaseRow {
  id: string;
  /** position in the study; the case's record is `_records` entry `"c" + i` */
  i: number;
  kind: string;
  video: boolean;
  qtype: string;
  question: string;
  truth: string;
  answers: string;
  choices: string[];
  prediction: string | null;
  score: number | null;
  correct: boolean | null;
  suggestions: Suggestion[];
  cached: boolean;
  error: string | null;
}

export interface Note {
  case_id: string;
  reason: string | null;
  note: string;
  flag: boolean;
  token: number | null;
  updated: string;
}

export interface Filters {
  correct: string; // all | correct | failed | unknown
  reason: string; // "" any, NO_REASON, or a reason
  flag: string; // all | flagged | unflagged
  question_type: string; // "" any
  text: string;
}

/** The reason filter's value for cases without a reason (state.NO_REASON in Python). */
export const NO_REASON = "(no reason)";

export const recordId = (row: CaseRow): string => `c${row.i}`;

const haystacks = new WeakMap<CaseRow, string>();

/** What the text search looks in: id, question, answer, ground truth, choices (lower case, cached per row). */
function haystack(row: CaseRow): string {
  let s = haystacks.get(row);
  if (s === undefined) {
    s = [row.id, row.question, row.prediction ?? "", row.answers, row.truth, ...row.choices].join("\n").toLowerCase();
    haystacks.set(row, s);
  }
  return s;
}

/** Does `row` pass `f`? (`note`: its annotation; the text also searches the note) */
export function passes(row: CaseRow, note: Note | undefined, f: Filters, words: string[]): boolean {
  if (f.correct === "correct" && row.correct !== true) return false;
  if (f.correct === "failed" && row.correct !== false) return false;
  if (f.correct === "unknown" && row.correct !== null) return false;
  const flagged = !!note?.flag;
  if (f.flag === "flagged" && !flagged) return false;
  if (f.flag === "unflagged" && flagged) return false;
  if (f.reason === NO_REASON ? !!note?.reason : f.reason && note?.reason !== f.reason) return false;
  if (f.question_type && row.qtype !== f.question_type) return false;
  if (words.length) {
    const hay = haystack(row);
    const text = note?.note ? `${hay}\n${note.note.toLowerCase()}` : hay;
    for (const w of words) if (!text.includes(w)) return false;
  }
  return true;
}

/**
 * The positions (into `rows`) of the cases that pass `f`, in `sort` order: "order" (study order),
 * "score" (worst first, unknown last), "question_type", "reason" (annotated first, by reason),
 * "flag" (flagged first); ties keep study order.
 */
export function filterCases(rows: readonly CaseRow[], notes: Record<string, Note>, f: Filters, sort: string): number[] {
  const words = (f.text ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const out: number[] = [];
  for (let k = 0; k < rows.length; k++) if (passes(rows[k], notes[rows[k].id], f, words)) out.push(k);
  if (sort === "order") return out;
  const key = (k: number): [number, string] => {
    const r = rows[k];
    const n = notes[r.id];
    if (sort === "score") return [r.score ?? 2, ""];
    if (sort === "question_type") return [r.qtype ? 0 : 1, r.qtype];
    if (sort === "reason") return [n?.reason ? 0 : 1, n?.reason ?? ""];
    if (sort === "flag") return [n?.flag ? 0 : 1, ""];
    return [0, ""];
  };
  const keys = new Map(out.map((k) => [k, key(k)]));
  return out.sort((a, b) => {
    const [x, s] = keys.get(a)!;
    const [y, t] = keys.get(b)!;
    return x - y || (s < t ? -1 : s > t ? 1 : 0) || a - b;
  });
}

/** The distinct question types of the rows, sorted. */
export function questionTypes(rows: readonly CaseRow[]): string[] {
  return [...new Set(rows.map((r) => r.qtype).filter(Boolean))].sort();
}
