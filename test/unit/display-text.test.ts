import { describe, expect, it } from 'vitest';
import { visibleText } from '../../shared/views/display-text.ts';
import { showValue, sourceLink } from '../../shared/views/proposal-view.ts';

// Display only: an agent's text reads as it is before a person decides on it ("Trojan Source").
describe('visibleText', () => {
  it('shows every bidirectional control as its code point', () => {
    const controls = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c];
    for (const code of controls) {
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      expect(visibleText(`a${String.fromCodePoint(code)}b`)).toBe(`a⟨U+${hex}⟩b`);
    }
  });

  it('makes a reversed-reading email read as it is stored', () => {
    // Displays as "ceo@example.com" in a browser; it is "moc.elpmaxe@oec" with an override.
    expect(visibleText('\u202Emoc.elpmaxe@oec')).toBe('⟨U+202E⟩moc.elpmaxe@oec');
  });

  it('shows controls and invisible format characters that make two values look alike', () => {
    expect(visibleText('ceo@exa\u200Bmple.com')).toBe('ceo@exa⟨U+200B⟩mple.com');
    expect(visibleText('soft\u00ADhyphen\uFEFF')).toBe('soft⟨U+00AD⟩hyphen⟨U+FEFF⟩');
    expect(visibleText('bell\u0007 del\u007F nel\u0085 esc\u001B')).toBe(
      'bell⟨U+0007⟩ del⟨U+007F⟩ nel⟨U+0085⟩ esc⟨U+001B⟩',
    );
    expect(visibleText('line\u2028para\u2029')).toBe('line⟨U+2028⟩para⟨U+2029⟩');
    // Tag characters spell hidden ASCII; each is shown, astral code points in full.
    expect(visibleText('hi\u{E0041}\u{E0042}')).toBe('hi⟨U+E0041⟩⟨U+E0042⟩');
  });

  it('leaves ordinary text, line breaks, tabs, joiners and right-to-left letters as they are', () => {
    const ordinary = 'Dear Ana,\r\n\tthanks — 👩‍💻 می‌خواهم שלום café';
    expect(visibleText(ordinary)).toBe(ordinary);
  });

  it('is idempotent: a marker holds nothing it would mark again', () => {
    const once = visibleText('x\u202Ey\u2067z');
    expect(visibleText(once)).toBe(once);
  });
});

describe('the proposal view shows hidden characters', () => {
  it('in values, short and shortened, and in the source an agent names', () => {
    expect(showValue('\u202Emoc.elpmaxe@oec').text).toBe('⟨U+202E⟩moc.elpmaxe@oec');
    const long = `${'word '.repeat(30)}\u202Eend`;
    const shown = showValue(long);
    expect(shown.full).toBe(`${'word '.repeat(30)}⟨U+202E⟩end`);
    expect(sourceLink({ source: 'crunch\u202Ebase' })?.label).toBe('crunch⟨U+202E⟩base');
  });
});
