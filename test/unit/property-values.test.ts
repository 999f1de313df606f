import { describe, expect, it } from 'vitest';
import { toCrmValue } from '../../server/src/services/common/property-values.ts';

/** Values an agent sends for a CRM's typed fields (issue 20: a Salesforce Opportunity's CloseDate). */
const closeDate = { name: 'CloseDate', label: 'Close Date', type: 'date' as const, fieldType: 'date' };

describe('a text property the CRM keeps so many characters of', () => {
  const code = { name: 'Code__c', label: 'Code', type: 'string' as const, fieldType: 'string', maxLength: 5 };

  it('takes a value up to that many UTF-16 units, and none at all', () => {
    expect(toCrmValue(code, 'ABCDE')).toEqual({ ok: true, value: 'ABCDE' });
    expect(toCrmValue(code, null)).toEqual({ ok: true, value: null });
  });

  it('refuses a longer one, an emoji counting two as the CRM counts it', () => {
    expect(toCrmValue(code, 'ABCDEF')).toEqual({
      ok: false,
      message: 'Code__c keeps at most 5 characters; this value has 6',
    });
    expect(toCrmValue(code, 'ABCD😀')).toEqual({
      ok: false,
      message: 'Code__c keeps at most 5 characters; this value has 6',
    });
  });
});

describe('a property whose value names another record', () => {
  const owner = {
    name: 'OwnerId',
    label: 'Owner ID',
    type: 'string' as const,
    fieldType: 'reference',
    recordIdPattern: /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/,
  };

  it('takes an id of the form its CRM gives', () => {
    expect(toCrmValue(owner, '005000000000001AAA')).toEqual({ ok: true, value: '005000000000001AAA' });
  });

  it('refuses anything else, an address or a name', () => {
    for (const given of ['jane@acme.com', 'Jane Doe', '005', 42])
      expect(toCrmValue(owner, given)).toEqual({
        ok: false,
        message: "OwnerId names a record and needs that record's id",
      });
  });
});

describe('a number property', () => {
  const score = { name: 'Score__c', label: 'Score', type: 'number' as const, fieldType: 'double' };

  it('takes a number, or its decimal text', () => {
    for (const [given, kept] of [
      [12, '12'],
      [' 12.5 ', '12.5'],
      ['-3', '-3'],
      ['.5', '0.5'],
      ['1e3', '1000'],
    ] as const)
      expect(toCrmValue(score, given)).toEqual({ ok: true, value: kept });
  });

  it('refuses text that is no decimal number, though Number() would read it', () => {
    for (const given of ['0x10', '0b11', '0o17', 'Infinity', '1,5', '12abc', ' '])
      expect(toCrmValue(score, given)).toEqual({
        ok: false,
        message: 'Score__c is a number property and needs a number',
      });
  });

  it('reads texts as the expression before the linear one did', () => {
    const refused = { ok: false, message: 'Score__c is a number property and needs a number' };
    const before = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    const expected = (text: string) => {
      const number = before.test(text.trim()) ? Number(text) : Number.NaN;
      return text === ''
        ? { ok: true, value: null }
        : Number.isFinite(number)
          ? { ok: true, value: String(number) }
          : refused;
    };
    const alphabet = '019.eE+- x';
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let length = Math.floor(Math.random() * 10); length > 0; length--)
        text += alphabet[Math.floor(Math.random() * alphabet.length)];
      expect(toCrmValue(score, text), JSON.stringify(text)).toEqual(expected(text));
    }
  });

  it('refuses a long run of digits with a letter after, and takes it without', () => {
    const digits = '1'.repeat(65_535);
    expect(toCrmValue(score, `${digits}x`)).toEqual({
      ok: false,
      message: 'Score__c is a number property and needs a number',
    });
    expect(toCrmValue(score, `0.${digits}`)).toEqual({ ok: true, value: '0.1111111111111111' });
  });
});

describe('a date property', () => {
  it('takes a calendar day', () => {
    expect(toCrmValue(closeDate, '2028-02-29')).toEqual({ ok: true, value: '2028-02-29' });
  });

  it('refuses a day its month does not have, which a date parser rolls into the next month', () => {
    for (const day of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-00-10'])
      expect(toCrmValue(closeDate, day)).toEqual({
        ok: false,
        message: 'CloseDate is a date property and needs a date like 2026-11-23',
      });
  });
});
