import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
/** The layers that speak of CRMs in our words: only server/src/crm/<vendor>/ names a vendor's own values. */
const NEUTRAL_LAYERS = ['server/src/domain', 'server/src/services'];

/**
 * HubSpot's own values: its property names (`hs_…`, the owner property), its change sources and
 * the `userId:` form of its source ids. The word "HubSpot" itself may appear (comments, the
 * `hubspot_app` value of the API, the workspace's portal id); these may not.
 */
const HUBSPOT_VALUES: readonly RegExp[] = [
  /\bhs_[a-z_]+/,
  /\bhubspot_owner_id\b/,
  /\b(CRM_UI|CRM_UI_BULK_ACTION|MOBILE_IOS|MOBILE_ANDROID|AUTOMATION_PLATFORM|INTEGRATIONS_PLATFORM|BATCH_UPDATE|CRM_API)\b/,
  /['"`](API|APP|INTEGRATION|WORKFLOW|AUTOMATION|SEQUENCES|IMPORT|SALES|FORM|MEETINGS|CONVERSATIONS)['"`]/,
  /['"`]userId:/,
];

/** Every line of the neutral layers under `root` that spells a HubSpot value, as `file:line: text`. */
async function hubspotValuesIn(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const layer of NEUTRAL_LAYERS) {
    for (const file of await fs.readdir(path.join(root, layer), { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const lines = (await fs.readFile(path.join(root, layer, file), 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (HUBSPOT_VALUES.some((pattern) => pattern.test(line)))
          found.push(`${layer}/${file}:${index + 1}: ${line.trim()}`);
      });
    }
  }
  return found;
}

describe('vendor names stay in the CRM adapter', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'vendor-names-'));
    for (const layer of NEUTRAL_LAYERS)
      await fs.cp(path.join(repo, layer), path.join(copy, layer), { recursive: true });
  });

  afterAll(async () => {
    await fs.rm(copy, { recursive: true, force: true });
  });

  it('finds no HubSpot value in the domain or the services', async () => {
    expect(await hubspotValuesIn(repo)).toEqual([]);
  });

  it.each([
    ['server/src/domain/zz-planted.ts', "export const OPT_OUT = 'hs_email_optout';"],
    ['server/src/services/held/zz-planted.ts', "export const owner = 'hubspot_owner_id';"],
    ['server/src/domain/zz-planted-source.ts', "export const person = (source: string) => source === 'CRM_UI';"],
    ['server/src/services/webhooks/zz-planted.ts', "export const bypass = new Set(['INTEGRATION']);"],
    ['server/src/services/common/zz-planted.ts', "export const user = (id: string) => id.startsWith('userId:');"],
  ])('finds a HubSpot value planted in %s', async (file, text) => {
    await fs.writeFile(path.join(copy, file), `${text}\n`);
    try {
      expect(await hubspotValuesIn(copy)).toEqual([`${file}:1: ${text}`]);
    } finally {
      await fs.rm(path.join(copy, file));
    }
  });
});
