import { codePointMarker, visibleText } from '../../../shared/views/display-text.ts';

/**
 * An alert's fields as Slack, Teams and email show them to people (issue 22). They quote text
 * from outside our control: a value anyone set in the CRM, an agent's name, a CRM's error, a kill
 * switch's reason, a SIEM destination's name and last error. Display only: the stored alert (its
 * outbox rows, its `alert.raised` event) and the signed webhook keep the exact bytes.
 */

/**
 * The most characters of each field a channel is sent, its escapes and markers included. Slack
 * refuses a section over 3,000 characters (the text, its "About" line and the held-back count
 * share one) and a header over 150; one 65,536-character CRM value must not make a giant message.
 */
export const SHOWN_MAX = { title: 150, text: 2_000, about: 300 } as const;

/** One character as shown: a marker whole (so a cut never splits one), else one code point. */
const SHOWN_CHARACTER = /⟨U\+[0-9A-F]{4,6}⟩|[\s\S]/gu;
const LINE_BREAK = /[\r\n]/g;
/** Of a field cut short, the share of what is kept that comes from its start; the rest is its end. */
const HEAD_SHARE = 0.75;

/**
 * `value` as a person is shown it: bidirectional controls and invisible characters as visible
 * markers (a reversed `moc.elpmaxe@oec` must not read `ceo@example.com`), and line breaks too, since
 * each field is one line of ours: a CRM value must not add an "Open in the console:" or "About:"
 * line of its own (in a subject, nodemailer already folds one into a space, so no header can be
 * added). `markup` makes each character inert in the channel's markup.
 * Longer than `max`, the middle is left out and says how much: both ends stay, so the sentence's
 * end (who did it, where) survives a huge quoted value.
 */
export function shownToPeople(
  value: string,
  options: { max: number; markup?: ((character: string) => string) | undefined },
): string {
  const inert = options.markup ?? ((character: string) => character);
  const characters = (visibleText(value).replace(LINE_BREAK, codePointMarker).match(SHOWN_CHARACTER) ?? []).map(inert);
  const length = characters.reduce((sum, character) => sum + character.length, 0);
  if (length <= options.max) return characters.join('');
  const budget = options.max - leftOut(characters.length).length;
  const head = takeWithin(characters, Math.floor(budget * HEAD_SHARE));
  const tail = takeWithin(characters.toReversed(), budget - head.join('').length).reverse();
  return `${head.join('')}${leftOut(characters.length - head.length - tail.length)}${tail.join('')}`;
}

function leftOut(count: number): string {
  return ` … (${count.toLocaleString('en-US')} characters not shown) … `;
}

/** The leading characters whose escaped forms fit in `room`. */
function takeWithin(characters: string[], room: number): string[] {
  const taken: string[] = [];
  let used = 0;
  for (const character of characters) {
    if (used + character.length > room) break;
    taken.push(character);
    used += character.length;
  }
  return taken;
}

/** Slack's three control characters: text from agents or the CRM cannot mention @channel or make links. */
export function slackMarkup(character: string): string {
  if (character === '&') return '&amp;';
  if (character === '<') return '&lt;';
  if (character === '>') return '&gt;';
  return character;
}

/**
 * A Teams MessageCard's `text` takes Markdown and limited HTML: a CRM value `[Reset your
 * password](https://…)` or `<a href=…>` would be a link. Each character either reads as markup is
 * sent as a numeric character reference, which neither Markdown nor HTML reads as markup and both
 * show as the character.
 */
const TEAMS_MARKUP = new Set([...'&<>"\'\\`*_~[]#!|']);

export function teamsMarkup(character: string): string {
  return TEAMS_MARKUP.has(character) ? `&#${character.codePointAt(0)};` : character;
}
