// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { TokenInfo } from "../../src/components/token_info";
import { parsePayload } from "../../src/decode";
import { samplePayload } from "../helpers";

describe("TokenInfo", () => {
  it("shows a token's candidates and its stats, loading note or error", () => {
    const meta = parsePayload(samplePayload()).meta;
    const info = new TokenInfo();
    info.show(meta, 3, 0, null, null, 0, 1);
    expect(info.root.querySelector(".tam-loading-text")!.textContent).toBe("loading\u2026");
    expect(info.root.querySelectorAll(".tam-cands li").length).toBe(2);
    info.show(meta, 3, 0, null, "no answer from the kernel", 0, 1);
    expect(info.root.querySelector(".tam-ro-err")!.textContent).toBe("no answer from the kernel");
    info.show(meta, 4, 1, new Uint8Array([255, 0, 0, 0]), null, 0, 1);
    expect(info.root.querySelector(".tam-ro-stats")!.textContent).toContain("peak 1 (image 1)");
    info.show(meta, -1, -1, null, null, 0, 1);
    expect(info.root.querySelectorAll(".tam-cands li").length).toBe(0);
  });
});
