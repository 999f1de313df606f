/**
 * Text an agent (or an admin naming one) wrote, made safe to read before someone decides on it.
 * Pure, shared by the HubSpot card and the web console; display only: what is stored, hashed,
 * sent and exported keeps its exact bytes.
 *
 * Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) make text display
 * other than it is ("Trojan Source"): a proposed email that reads reversed, a reason that reorders
 * the words around it. Other controls and invisible format characters (zero-width space, soft
 * hyphen, BOM, tag characters, line and paragraph separators) make two different values look the
 * same. Each is shown as a visible marker instead, e.g. ⟨U+202E⟩. Kept as they are: tab, line
 * feed and carriage return (multi-line bodies; they reorder nothing) and the zero-width
 * (non-)joiner, which emoji and several scripts need.
 */
const HIDDEN = /(?![\t\n\r\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** The marker a hidden character is shown as: its code point, at least four hex digits. */
export function codePointMarker(char: string): string {
  return `⟨U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

export function visibleText(value: string): string {
  return value.replace(HIDDEN, codePointMarker);
}
