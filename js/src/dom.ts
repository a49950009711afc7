// Small DOM helpers shared by the components.

/** An element with an optional class and text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A file-name-safe version of a token's text (at most 40 characters). */
export function fileSafe(text: string): string {
  const s = text.replace(/\u2581/g, " ").trim().replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return s.slice(0, 40);
}
