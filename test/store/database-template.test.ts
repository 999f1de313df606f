import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase } from '../../server/src/store/database.ts';
import { pgliteTemplate } from '../support/database.ts';

// Every PGlite test file starts from this copy; had it been ignored, each would run initdb and every migration again.
describe.skipIf(process.env.TEST_DATABASE_URL)('an in-memory PGlite database opened from a template', () => {
  it('holds the migrated template as it is, and keeps its settings', async () => {
    const database = await openDatabase({ holder: 'test', template: pgliteTemplate() });
    try {
      const migrations = fs.readdirSync(MIGRATIONS_FOLDER).filter((name) => name.endsWith('.sql'));
      const applied = await database.db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`);
      expect(applied).toMatchObject({ rows: [{ count: migrations.length }] });
      const buffers = await database.db.execute(sql`show shared_buffers`);
      expect(buffers).toMatchObject({ rows: [{ shared_buffers: '16MB' }] });
    } finally {
      await database.close();
    }
  });

  // audit verify opens PGlite with a smaller pool: every MB of it is resident once a long read touches it.
  it('opens with the buffer pool it is given', async () => {
    const database = await openDatabase({ holder: 'test', template: pgliteTemplate(), sharedBuffersMb: 8 });
    try {
      const buffers = await database.db.execute(sql`show shared_buffers`);
      expect(buffers).toMatchObject({ rows: [{ shared_buffers: '8MB' }] });
    } finally {
      await database.close();
    }
  });
});
