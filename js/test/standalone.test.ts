// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { mount, PageModel, recordFromDoc } from "../src/standalone";
import type { RecordDoc } from "../src/standalone";
import { samplePayload } from "./helpers";

const b64 = (v: DataView) => btoa(String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));

function pageDoc() {
  const r = samplePayload();
  return {
    format: "tam-widgets-page", version: 1, view: "token_map",
    records: [{ id: "r0", meta: r.meta, buffers: { maps: { tam: b64(r.maps.tam!), cam: b64(r.maps.cam!) },
      scales: b64(r.scales), relevance: b64(r.relevance), images: [""] } }],
    state: { selected: 4, method: "cam", colormap: "viridis", opacity: 0.3, show_specials: false, frame: 0, region: [] },
  };
}

describe("mount (static page)", () => {
  it("decodes a page document's records and shows its view with its state", () => {
    const doc = pageDoc();
    const rec = recordFromDoc(doc.records[0] as unknown as RecordDoc);
    expect(rec.id).toBe("r0");
    expect((rec.maps as Record<string, DataView>).tam.byteLength).toBe(12);
    const el = document.createElement("div");
    const model = mount(el, JSON.stringify(doc));
    expect(model).toBeInstanceOf(PageModel);
    expect(el.querySelector(".tam-tok.tam-selected")!.getAttribute("data-i")).toBe("4");
    expect(el.querySelector<HTMLSelectElement>("select.tam-method")!.value).toBe("cam");
    expect(el.querySelector<HTMLSelectElement>("select.tam-cmap")!.value).toBe("viridis");
    el.querySelector<HTMLElement>('.tam-tok[data-i="5"]')!.click();
    expect(model.get("selected")).toBe(5);
    model.destroy();
    expect(el.querySelector(".tam-view")).toBeNull();
  });
});
