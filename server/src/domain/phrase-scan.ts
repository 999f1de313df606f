import { caseFoldKey, learnCaseFolding } from '../../../shared/content-match.ts';

/**
 * Banned phrases found in one pass over a draft, however many a rule lists (issue 21). A phrase
 * matches as its RE2 pattern `(?:^|\b|\W)word\s+word…(?:\b|\W|$)`, case-insensitive, would:
 * same first match, same text. One RE2 scan per phrase cost phrases × text on the server's only
 * thread (500 phrases on 65,536 characters: seconds); RE2's own set matcher blew up its DFA on a
 * draft holding them all. Here an Aho–Corasick automaton runs over the draft with case folded
 * as RE2 folds it and each run of spaces as one symbol; the pattern's edges (`^|\b|\W` before,
 * `\b|\W|$` after) are checked where a phrase ends. The cost is the text, the phrases' length and
 * the occurrences, where the pattern's end holds, of phrases not matched yet: a handful per place
 * unless the phrases end inside one another.
 */
export interface PhraseScan {
  /** For each phrase, in the order given, the text of its first match in `text` as RE2 reports it, or undefined. */
  firstMatches(text: string): (string | undefined)[];
}

/** A run of RE2's `\s` in a draft, and the gap between a phrase's words. */
const SPACES = -1;
const NOT_YET = -2;

/** RE2's `\s`: narrower than JavaScript's, with no vertical tab and no Unicode spaces. */
function isSpace(unit: number): boolean {
  return unit === 0x20 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d;
}

/** RE2's `\b` looks at ASCII word characters only. */
function isWordCharacter(codePoint: number): boolean {
  return (
    (codePoint >= 0x61 && codePoint <= 0x7a) ||
    (codePoint >= 0x41 && codePoint <= 0x5a) ||
    (codePoint >= 0x30 && codePoint <= 0x39) ||
    codePoint === 0x5f
  );
}

const ASCII_WORD_CHARACTERS = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'].map(
  (character) => character.codePointAt(0)!,
);

export function phraseScan(phrases: readonly string[]): PhraseScan {
  const words = phrases.map((phrase) => phrase.trim().split(/\s+/));
  learnCaseFolding([...ASCII_WORD_CHARACTERS, ...words.flat().flatMap((word) => codePointsOf(word))]);
  // Case-insensitive `\W` is what the case folding of `\w` leaves out: not the long s, not the Kelvin sign.
  const wordKeys = new Set(ASCII_WORD_CHARACTERS.map(caseFoldKey));
  const isNonWord = (codePoint: number) => !wordKeys.has(caseFoldKey(codePoint));

  // Phrases that fold to the same symbols match alike: each such set is one entry in the automaton.
  const entryOf = new Map<string, number>();
  const entries: number[][] = [];
  const phraseEntries = words.map((phraseWords) => {
    const symbols = phraseWords.flatMap((word, index) => [
      ...(index > 0 ? [SPACES] : []),
      ...codePointsOf(word).map(caseFoldKey),
    ]);
    const name = symbols.join(',');
    let entry = entryOf.get(name);
    if (entry === undefined) {
      entry = entries.length;
      entryOf.set(name, entry);
      entries.push(symbols);
    }
    return entry;
  });
  const automaton = buildAutomaton(entries);

  return {
    firstMatches(text) {
      const found = scanText(text, automaton, entries.length, isNonWord);
      return phraseEntries.map((entry) => found[entry]);
    },
  };
}

function codePointsOf(text: string): number[] {
  return [...text].map((character) => character.codePointAt(0)!);
}

interface Automaton {
  next: Map<number, number>[];
  fallback: Int32Array;
  depth: Int32Array;
  /** The entry a state completes, or -1. */
  entryAt: Int32Array;
  /** The nearest state down the fallback chain completing an entry, or -1. */
  shorterEntry: Int32Array;
  /** The entry of no symbols (a phrase of spaces only), or -1. */
  emptyEntry: number;
}

function buildAutomaton(entries: readonly number[][]): Automaton {
  const next: Map<number, number>[] = [new Map()];
  const depths = [0];
  const entryAtState = [-1];
  entries.forEach((symbols, entry) => {
    let state = 0;
    for (const symbol of symbols) {
      let to = next[state]!.get(symbol);
      if (to === undefined) {
        to = next.length;
        next[state]!.set(symbol, to);
        next.push(new Map());
        depths.push(depths[state]! + 1);
        entryAtState.push(-1);
      }
      state = to;
    }
    entryAtState[state] = entry;
  });
  const fallback = new Int32Array(next.length);
  const shorterEntry = new Int32Array(next.length).fill(-1);
  const entryAt = Int32Array.from(entryAtState);
  const queue = [...next[0]!.values()];
  for (let head = 0; head < queue.length; head += 1) {
    const state = queue[head]!;
    for (const [symbol, to] of next[state]!) {
      let back = fallback[state]!;
      while (back !== 0 && !next[back]!.has(symbol)) back = fallback[back]!;
      fallback[to] = next[back]!.get(symbol) ?? 0;
      const shorter = fallback[to]!;
      shorterEntry[to] = shorter !== 0 && entryAt[shorter] !== -1 ? shorter : shorterEntry[shorter]!;
      queue.push(to);
    }
  }
  return { next, fallback, depth: Int32Array.from(depths), entryAt, shorterEntry, emptyEntry: entryAt[0]! };
}

function scanText(
  text: string,
  automaton: Automaton,
  entryCount: number,
  isNonWord: (codePoint: number) => boolean,
): (string | undefined)[] {
  const found: (string | undefined)[] = new Array(entryCount).fill(undefined);
  const matched = new Uint8Array(entryCount);
  let remaining = entryCount;
  const match = (entry: number, start: number, end: number) => {
    found[entry] = text.slice(start, end);
    matched[entry] = 1;
    remaining -= 1;
  };
  /** The code point at `index`, or -1 at the end of the text. */
  const codePointAt = (index: number) => (index === text.length ? -1 : text.codePointAt(index)!);
  /** The code point ending at `index`, or -1 at the start of the text. */
  const codePointBefore = (index: number) => {
    if (index === 0) return -1;
    const unit = text.charCodeAt(index - 1);
    return index > 1 && isLowSurrogate(unit) && isHighSurrogate(text.charCodeAt(index - 2))
      ? text.codePointAt(index - 2)!
      : unit;
  };
  const isBoundary = (index: number) => isWordAt(codePointBefore(index)) !== isWordAt(codePointAt(index));
  /** Where the match ends when a phrase's last symbol ends at `end`, or -1 when `(?:\b|\W|$)` fails there. */
  const matchEnd = (end: number) => {
    const after = codePointAt(end);
    if (after === -1 || isBoundary(end)) return end;
    return isNonWord(after) ? end + lengthOf(after) : -1;
  };
  /** Where the match starts when a phrase's first symbol starts at `start`, or -1 when `(?:^|\b|\W)` fails there. */
  const matchStart = (start: number) => {
    const before = codePointBefore(start);
    if (before === -1) return start;
    // RE2 takes the leftmost match: the `\W` before the phrase, when there is one, wins over `\b`.
    if (isNonWord(before)) return start - lengthOf(before);
    return isBoundary(start) ? start : -1;
  };

  if (automaton.emptyEntry !== -1) {
    // A phrase of spaces only is the pattern's two edges alone, which may hold anywhere.
    for (let index = 0; index <= text.length; index += lengthOf(codePointAt(index))) {
      const start = matchStart(index);
      const end = start === -1 ? -1 : matchEnd(index);
      if (end !== -1) {
        match(automaton.emptyEntry, start, end);
        break;
      }
    }
  }

  const { next, fallback, depth, entryAt, shorterEntry } = automaton;
  // Where each symbol of the folded text starts in `text`, and where a match starting with it would
  // start (-1: nowhere), worked out once however many phrases start there.
  const symbolStarts = new Int32Array(text.length + 1);
  const matchStarts = new Int32Array(text.length + 1).fill(NOT_YET);
  const matchStartOf = (symbolIndex: number) => {
    if (matchStarts[symbolIndex] === NOT_YET) matchStarts[symbolIndex] = matchStart(symbolStarts[symbolIndex]!);
    return matchStarts[symbolIndex]!;
  };
  // Entries matched already drop out of the chains, so each is passed over once, not at every later end.
  const shorter = shorterEntry.slice();
  const firstUnmatched = (from: number) => {
    let state = from;
    while (state !== -1 && matched[entryAt[state]!]) state = shorter[state]!;
    for (let step = from; step !== state; ) {
      const following = shorter[step]!;
      shorter[step] = state;
      step = following;
    }
    return state;
  };

  let state = 0;
  for (let index = 0, symbolIndex = 0; index < text.length && remaining > 0; symbolIndex += 1) {
    symbolStarts[symbolIndex] = index;
    let symbol: number;
    if (isSpace(text.charCodeAt(index))) {
      symbol = SPACES;
      while (index < text.length && isSpace(text.charCodeAt(index))) index += 1;
    } else {
      const codePoint = text.codePointAt(index)!;
      symbol = caseFoldKey(codePoint);
      index += lengthOf(codePoint);
    }
    while (state !== 0 && !next[state]!.has(symbol)) state = fallback[state]!;
    state = next[state]!.get(symbol) ?? 0;
    if (state === 0 || symbol === SPACES) continue;

    let candidate = firstUnmatched(entryAt[state] !== -1 ? state : shorterEntry[state]!);
    if (candidate === -1) continue;
    // The pattern's end depends only on where the phrase ends: checked once for every phrase ending here.
    const end = matchEnd(index);
    if (end === -1) continue;
    for (; candidate !== -1; candidate = firstUnmatched(shorter[candidate]!)) {
      const start = matchStartOf(symbolIndex - depth[candidate]! + 1);
      if (start !== -1) match(entryAt[candidate]!, start, end);
    }
  }
  return found;
}

function isWordAt(codePoint: number): boolean {
  return codePoint !== -1 && isWordCharacter(codePoint);
}

function lengthOf(codePoint: number): number {
  return codePoint > 0xffff ? 2 : 1;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
