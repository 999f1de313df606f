import { codePointMarker } from '../../../shared/views/display-text.ts';

/**
 * Every control and invisible format character but the line feed and the tab: C0 (escape, bell,
 * carriage return), DEL and C1 (U+009B is a one-character CSI to some terminals), bidi controls,
 * zero-width characters, line and paragraph separators.
 */
const NOT_FOR_A_TERMINAL = /(?![\t\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * What the CLI prints for a person, with every such character shown as its marker (⟨U+001B⟩).
 * The text carries what agents and CRM users wrote (prompt hashes, reasons, values, CRM error
 * messages), and a terminal obeys escape sequences: OSC 52 sets the clipboard, others clear the
 * screen or retitle the window, and a carriage return lets text overwrite what its line said.
 * `--json` output keeps the exact values (JSON escapes the C0 controls), as do exports.
 */
export function terminalText(text: string): string {
  return text.replace(NOT_FOR_A_TERMINAL, codePointMarker);
}
