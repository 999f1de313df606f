import { describe, expect, it } from 'vitest';
import { crmOwnerIdSchema, crmUserIdSchema, recordIdSchema } from '../../shared/crm-names.ts';

// Issue 20: a Salesforce id is taken in its 18-character form, whichever form comes in, so what is
// stored and what a filter looks for agree; HubSpot's ids are taken as they are.
describe('CRM id schemas', () => {
  it('append the case checksum to a 15-character Salesforce id and keep an 18-character one', () => {
    expect(recordIdSchema.parse('0015000000Gv7qJ')).toBe('0015000000Gv7qJAAR');
    expect(recordIdSchema.parse('0015000000Gv7qJAAR')).toBe('0015000000Gv7qJAAR');
    expect(recordIdSchema.parse('003000000000001')).toBe('003000000000001AAA');
    expect(crmUserIdSchema.parse('005Dn000001AbCd')).toBe('005Dn000001AbCdIAK');
    // A user id all digits with HubSpot's form is still Salesforce's when it has a leading zero.
    expect(crmUserIdSchema.parse('005000000000001')).toBe('005000000000001AAA');
    expect(crmOwnerIdSchema.parse('005000000000001')).toBe('005000000000001AAA');
  });

  it('leave HubSpot digit ids as they are, 15 digits too', () => {
    for (const id of ['1', '4242', '123456789012345', '123456789012345678'])
      expect([recordIdSchema.parse(id), crmUserIdSchema.parse(id), crmOwnerIdSchema.parse(id)]).toEqual([id, id, id]);
  });

  it('refuse an 18-character id whose checksum is wrong, not correct it', () => {
    expect(recordIdSchema.safeParse('0015000000Gv7qJAAA').success).toBe(false);
  });
});
