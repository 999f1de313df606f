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
 * `--json` output keeps the exact values (JSON escapes the C0 controls), as do exports to a file or a pipe.
 */
export function terminalText(text: string): string {
  return text.replace(NOT_FOR_A_TERMINAL, codePointMarker);
}

/**
 * NDJSON for a person at a terminal: the same characters escaped as JSON does (\u009b), so each
 * line still parses to exactly the values stored. JSON.stringify leaves C1, bidi and the other
 * format characters raw; the line feeds ending the lines are the only raw controls it writes.
 */
export function terminalJson(ndjson: string): string {
  return ndjson.replace(NOT_FOR_A_TERMINAL, jsonEscape);
}

/** split('') gives UTF-16 units: a tag character (U+E0001) becomes its surrogate pair's two escapes. */
function jsonEscape(char: string): string {
  return char
    .split('')
    .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .join('');
}

/** Whether what the CLI writes reaches a terminal, rather than a file or a pipe a script reads. */
export function writesToTerminal(stdout: NodeJS.WritableStream): boolean {
  return (stdout as NodeJS.WriteStream).isTTY === true;
}
