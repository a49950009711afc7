// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { composite, downloadPng } from "../../src/components/png_export";

/** A 2D context that records what is drawn. */
function recordingContext(log: string[]) {
  return {
    font: "", fillStyle: "", strokeStyle: "", lineWidth: 1, textBaseline: "", globalAlpha: 1, imageSmoothingEnabled: true,
    fillRect: () => undefined, strokeRect: () => undefined,
    measureText: (s: string) => ({ width: s.length * 6 }),
    fillText: (s: string) => log.push(`text ${s}`),
    drawImage: (src: HTMLCanvasElement) => log.push(`image ${src.className}`),
  };
}

describe("composite (save PNG)", () => {
  it("draws caption, warning, photo + heat of every panel and the legend", () => {
    const log: string[] = [];
    const spy = vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(() => recordingContext(log) as any);
    const canvas = (cls: string, w: number) => Object.assign(document.createElement("canvas"), { className: cls, width: w, height: 30 });
    const panels = [{ photo: canvas("tam-photo", 40), heat: canvas("tam-heat", 40) }];
    const c = composite(panels, {
      title: "rec", token: '" cat"', methodLabel: "TAM", warning: "untrained model", opacity: 0.5,
      legendBar: canvas("tam-legend-bar", 256), legend: ["0", "1", "TAM activation"],
    })!;
    expect(c.width).toBe(480);
    expect(log).toContain('text rec \u00b7 " cat" \u2014 TAM');
    expect(log).toContain("text \u26a0 untrained model");
    expect(log.filter((l) => l.startsWith("image"))).toEqual(["image tam-photo", "image tam-heat", "image tam-legend-bar"]);
    expect(log).toContain("text TAM activation");
    expect(composite([], { title: "", token: "", methodLabel: "", warning: null, opacity: 1, legendBar: canvas("", 1), legend: ["", "", ""] })).toBeNull();
    spy.mockRestore();
  });

  it("offers the canvas as a download", () => {
    const c = document.createElement("canvas");
    const clicked: string[] = [];
    c.toBlob = (cb: BlobCallback) => cb(new Blob(["x"], { type: "image/png" }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    downloadPng(c, "tam_cat.png");
    expect(clicked).toEqual(["tam_cat.png"]);
    click.mockRestore();
  });
});
