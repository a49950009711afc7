// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { CaseInfo } from "../../src/components/case_info";
import { caseRow } from "../board_fixtures";

describe("CaseInfo", () => {
  it("shows question, model answer with its verdict and the VQA answers", () => {
    const c = new CaseInfo();
    c.show(caseRow(1, { question: "<b>What</b>?" }));
    expect(c.root.querySelector(".tam-ci-question")!.textContent).toBe("<b>What</b>?");
    expect(c.root.querySelector(".tam-ci-question b")).toBeNull();
    expect(c.root.querySelector(".tam-ci-failed")!.textContent).toBe("dog");
    expect(c.root.querySelector(".tam-ci-answers")!.textContent).toBe("umbrella ×7, other ×3");
  });

  it("lists STAR's choices with the right one marked, and the case's error", () => {
    const c = new CaseInfo();
    c.show(caseRow(0, { kind: "star", choices: ["The box.", "The laptop."], truth: "The laptop.", error: "cannot read its video" }));
    expect([...c.root.querySelectorAll(".tam-ci-choices li")].map((li) => li.textContent)).toEqual(["The box.", "The laptop."]);
    expect(c.root.querySelector(".tam-ci-right")!.textContent).toBe("The laptop.");
    expect(c.root.querySelector(".tam-ci-error")!.textContent).toContain("cannot read its video");
    c.setPicture("blob:p");
    expect(c.root.querySelector<HTMLImageElement>(".tam-ci-img")!.getAttribute("src")).toBe("blob:p");
    c.show(null);
    expect(c.root.querySelector(".tam-ci-img")).toBeNull();
  });
});
