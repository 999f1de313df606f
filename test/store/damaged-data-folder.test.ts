import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/store/database.ts';
import { migratedDataFolder } from '../support/data-folders.ts';

// A data folder a disk fault or a stray copy has damaged: the operator reads which folder, and what to do.
describe.skipIf(process.env.TEST_DATABASE_URL)('a damaged PGlite data folder', () => {
  it('is refused with a sentence naming the folder and DATA_DIR, and left unlocked', async () => {
    const data = migratedDataFolder('ag-damaged-');
    try {
      await openDatabase({ dataDir: data.dir, holder: 'the test' }).then((database) => database.close());
      fs.writeFileSync(path.join(data.dir, 'pglite', 'global', 'pg_control'), Buffer.alloc(8192, 0x5a));
      await expect(openDatabase({ dataDir: data.dir, holder: 'the test' })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/PGlite database in .*pglite cannot be opened.*DATA_DIR/),
      });
      expect(fs.existsSync(path.join(data.dir, 'agent-governance.lock'))).toBe(false);
    } finally {
      data.remove();
    }
  });
});
