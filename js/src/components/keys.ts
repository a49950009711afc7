// The explorer's keyboard: arrows / Home / End move the pinned token, Esc clears the region.

/**
 * What key event `e` asks for: `"escape"`, the token to pin (`nav`: the explained tokens in strip
 * order, `pinned`: the current one), or null (not ours; typing in a control is left alone).
 */
export function keyAction(e: KeyboardEvent, nav: readonly number[], pinned: number): number | "escape" | null {
  const tag = (e.target as HTMLElement | null)?.tagName;
  if (e.key === "Escape") return "escape";
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || tag === "BUTTON") return null;
  if (!nav.length) return null;
  const at = nav.indexOf(pinned);
  if (e.key === "ArrowRight") return nav[at < 0 ? 0 : Math.min(nav.length - 1, at + 1)];
  if (e.key === "ArrowLeft") return nav[at < 0 ? 0 : Math.max(0, at - 1)];
  if (e.key === "Home") return nav[0];
  if (e.key === "End") return nav[nav.length - 1];
  return null;
}
