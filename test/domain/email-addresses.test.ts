import { describe, expect, it } from 'vitest';
import { emailAddressesIn } from '../../server/src/domain/audit-personal.ts';

/** The expression the scan replaces: what it found is what erasure by address looks up. */
const REFERENCE = /[^\s@<>"',;:()[\]]+@[^\s@<>"',;:()[\]]+\.[a-z]{2,}/gi;
const byReference = (text: string) => [...text.matchAll(REFERENCE)].map((match) => match[0].toLowerCase());

describe('email addresses kept apart with personal values', () => {
  it('finds the addresses the expression found, in prose, lists, markup and odd spellings', () => {
    const texts = [
      'Write to Ada.Lovelace@Example.COM today',
      'a@b.com, c@d.org; <e@f.io> "g@h.net" (i@j.co)',
      'a@b.com@c.org x@y@z.com',
      'a@b.com.x@c.org and a@b.c and @b.com and a@.com and a@b.c1de',
      'mail:ada@example.com\nbcc: grace@navy.mil\tend',
      'ünï@exämple.de and 📧@mail.com and name+tag@sub.domain.travel',
      'trailing@dot.com. and double..dot@x..org and dots@a.b.c.d.e',
      '',
      '@@@',
      'no address here',
    ];
    for (const text of texts) expect(emailAddressesIn(text), text).toEqual(byReference(text));
  });

  it('agrees with the expression on random texts drawn from the characters that decide a match', () => {
    const alphabet = ['a', 'B', 'c', '1', '.', '@', ' ', ',', '<', '-', '\n', 'é', '\uD83D'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed;
    };
    for (let i = 0; i < 2_000; i++) {
      const text = Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join('');
      expect(emailAddressesIn(text), JSON.stringify(text)).toEqual(byReference(text));
    }
  });

  it('reads a draft body of one long run with or without an @, the input the expression took seconds over', () => {
    const run = 'b'.repeat(65_536);
    expect(emailAddressesIn(run)).toEqual([]);
    expect(emailAddressesIn(`${run}@${run}`)).toEqual([]);
    expect(emailAddressesIn(`${run}@example.com`)).toEqual([`${run}@example.com`]);
    expect(emailAddressesIn('@'.repeat(65_536))).toEqual([]);
  });
});
