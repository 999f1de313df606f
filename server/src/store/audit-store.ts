import { and, asc, desc, eq, getTableColumns, gt, gte, lte, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  GENESIS_HASH,
  SORTED_CONTENT_FIELDS,
  type AuditEventContent,
  type ChainedAuditEvent,
  type JsonObject,
  type LinkedAuditEvent,
  type SplicedAuditEvent,
  type StoredAuditText,
} from '../domain/audit-chain.ts';
import { withPersonal, type PersonalValues } from '../domain/audit-personal.ts';
import { AppError } from '../errors.ts';
import { insertRows } from './bulk-insert.ts';
import { type Db, isInProcess, type Tx } from './database.ts';
import { auditEvents, auditHeads, auditPersonalData } from './schema.ts';

export async function createAuditHead(tx: Db | Tx, workspaceId: string): Promise<void> {
  await tx.insert(auditHeads).values({ workspaceId, seq: 0, hash: GENESIS_HASH });
}

/** The workspace's chain head, locked until the transaction ends: appends to one chain take turns. */
export async function lockAuditHead(tx: Tx, workspaceId: string): Promise<{ seq: number; hash: string }> {
  const [head] = await tx
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.workspaceId, workspaceId))
    .for('update');
  if (!head) throw headMissing(workspaceId);
  return head;
}

/** Stores linked events and, beside them, the personal values each kept apart (audit-personal.ts). */
export async function insertAuditEvents(tx: Tx, events: readonly LinkedAuditEvent[]): Promise<void> {
  await insertRows(tx, 'audit_events', events.map(eventRow));
  const personal = events.filter((event) => event.personal);
  if (personal.length > 0) await insertRows(tx, 'audit_personal_data', personal.map(personalRow));
}

function personalRow(event: LinkedAuditEvent) {
  return {
    workspace_id: event.workspaceId,
    seq: event.seq,
    occurred_at: event.occurredAt,
    object_type: event.objectType,
    record_id: event.recordId,
    emails: event.personal!.emails,
    salt: event.personal!.salt,
    values: event.personal!.values,
  };
}

export async function saveAuditHead(tx: Tx, workspaceId: string, head: { seq: number; hash: string }): Promise<void> {
  await tx.update(auditHeads).set(head).where(eq(auditHeads.workspaceId, workspaceId));
}

function eventRow(event: LinkedAuditEvent) {
  return {
    workspace_id: event.workspaceId,
    seq: event.seq,
    occurred_at: event.occurredAt,
    type: event.type,
    actor: event.actor,
    agent_id: event.agentId,
    batch_id: event.batchId,
    change_set_id: event.changeSetId,
    object_type: event.objectType,
    record_id: event.recordId,
    property: event.property,
    before: event.before,
    after: event.after,
    evidence: event.evidence,
    reasons: event.reasons,
    policy_version: event.policyVersion,
    data: event.data,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}

export async function readAuditHead(db: Db | Tx, workspaceId: string): Promise<{ seq: number; hash: string }> {
  const head = await findAuditHead(db, workspaceId);
  if (!head) throw headMissing(workspaceId);
  return head;
}

/** The chain head, or undefined when its row is gone. */
export async function findAuditHead(
  db: Db | Tx,
  workspaceId: string,
): Promise<{ seq: number; hash: string } | undefined> {
  const [head] = await db
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.workspaceId, workspaceId));
  return head;
}

/**
 * Every workspace gets its head as it is created, so a missing one was deleted in the database:
 * said so, rather than that the workspace does not exist, which a person would take as the cause.
 */
function headMissing(workspaceId: string): AppError {
  return new AppError(
    'INTERNAL',
    `The audit chain head of workspace ${workspaceId} is missing: its audit_heads row was deleted in the database, so nothing more can be recorded until it is restored. audit verify names the newest event stored.`,
  );
}

/** The stored event with the greatest seq in the chain's range (1 and up), as a head would name it. */
export async function newestStoredEvent(
  db: Db | Tx,
  workspaceId: string,
): Promise<{ seq: number; hash: string } | undefined> {
  const [newest] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(and(eq(auditEvents.workspaceId, workspaceId), gte(auditEvents.seq, 1)))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return newest;
}

/**
 * One field of `data` in the workspace's newest event of this type whose `data.crm` names this
 * CRM (the type index finds it without reading the whole log), or null when there is none.
 */
export async function newestCrmEventField(
  db: Db | Tx,
  input: { workspaceId: string; type: string; crm: string; field: string },
): Promise<string | null> {
  const [row] = await db
    .select({ value: sql<string | null>`${auditEvents.data}->>${input.field}` })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.workspaceId, input.workspaceId),
        eq(auditEvents.type, input.type),
        sql`${auditEvents.data}->>'crm' = ${input.crm}`,
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return row?.value ?? null;
}

export interface AuditFilter {
  agentId?: string | undefined;
  batchId?: string | undefined;
  recordId?: string | undefined;
  /** The person who acted: the actor's CRM user id (issue 19). */
  person?: string | undefined;
  /** The action kind: the event's type, e.g. `approval.decided`. */
  type?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** The conditions a filter puts on one workspace's events, shared by the export and the console's search. */
export function auditFilterConditions(workspaceId: string, filter: AuditFilter): SQL[] {
  const conditions: SQL[] = [eq(auditEvents.workspaceId, workspaceId)];
  if (filter.agentId) conditions.push(eq(auditEvents.agentId, filter.agentId));
  if (filter.batchId) conditions.push(eq(auditEvents.batchId, filter.batchId));
  if (filter.recordId) conditions.push(eq(auditEvents.recordId, filter.recordId));
  if (filter.person) conditions.push(sql`${auditEvents.actor}->>'crmUserId' = ${filter.person}`);
  if (filter.type) conditions.push(eq(auditEvents.type, filter.type));
  if (filter.from) conditions.push(gte(auditEvents.occurredAt, filter.from));
  if (filter.to) conditions.push(lte(auditEvents.occurredAt, filter.to));
  return conditions;
}

/** An event as stored (what its hash covers) and, while they are kept, the personal values kept apart from it. */
export type StoredAuditEvent = ChainedAuditEvent & { personal?: PersonalValues };

/** An event's columns and the personal values kept apart from it, for readers that show them. */
export const eventWithPersonalColumns = {
  ...getTableColumns(auditEvents),
  personalValues: auditPersonalData.values,
};
/** The join that finds an event's apart values (none once retention or erasure deleted them). */
export const personalOfEvent = and(
  eq(auditPersonalData.workspaceId, auditEvents.workspaceId),
  eq(auditPersonalData.seq, auditEvents.seq),
)!;

/** A row read with its apart values, shown whole: "[redacted]" stays where they are gone. */
export function shownWhole<T extends { before: unknown; after: unknown; data?: unknown; personalValues: unknown }>(
  row: T,
): Omit<T, 'personalValues'> {
  const { personalValues, ...event } = row;
  return withPersonal(event, personalValues);
}

/**
 * Events in chain order, a page at a time, so export streams a log of any size in constant memory
 * on both PGlite and Postgres. Unfiltered, pages are ranges of seq up to the head read at the start
 * (see streamSplicedAuditEvents for why ranges); filtered, by keyset (seq > after … limit) on the
 * filter's index. The next page is fetched while the caller writes this one.
 */
export async function* streamAuditEvents(
  db: Db,
  workspaceId: string,
  filter: AuditFilter = {},
  pageSize = 1_000,
): AsyncGenerator<StoredAuditEvent> {
  const conditions = auditFilterConditions(workspaceId, filter);
  const untilSeq = Object.values(filter).every((value) => value === undefined)
    ? (await readAuditHead(db, workspaceId)).seq
    : undefined;
  const page = async (after: number) => {
    const rows = await db
      .select(eventWithPersonalColumns)
      .from(auditEvents)
      .leftJoin(auditPersonalData, personalOfEvent)
      .where(
        and(
          ...conditions,
          gt(auditEvents.seq, after),
          untilSeq === undefined ? undefined : lte(auditEvents.seq, Math.min(after + pageSize, untilSeq)),
        ),
      )
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    return { after, rows };
  };
  const following = ({ after, rows }: Awaited<ReturnType<typeof page>>) => {
    if (untilSeq !== undefined) return after + pageSize < untilSeq ? page(after + pageSize) : undefined;
    const last = rows.at(-1);
    return last && rows.length === pageSize ? page(last.seq) : undefined;
  };
  for await (const { rows } of fetchingAhead(untilSeq === 0 ? undefined : page(0), following)) {
    for (const { personalValues, ...row } of rows) {
      yield {
        ...row,
        ...(personalValues ? { personal: personalValues as PersonalValues } : {}),
        occurredAt: row.occurredAt.toISOString(),
        actor: row.actor as JsonObject,
        before: row.before as JsonObject | null,
        after: row.after as JsonObject | null,
        evidence: row.evidence as JsonObject | null,
        data: row.data as JsonObject | null,
      };
    }
  }
}

/**
 * Yields each page while the one after it is being fetched, so the caller's work on a page overlaps
 * the database's on the next. A page fetched ahead that the caller no longer wants (it stopped
 * early) is settled before the generator ends.
 */
async function* fetchingAhead<Page>(
  first: Promise<Page> | undefined,
  following: (page: Page) => Promise<Page> | undefined,
): AsyncGenerator<Page> {
  let next = first;
  try {
    while (next) {
      const current = await next;
      next = following(current);
      yield current;
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

/**
 * The time as the linker hashed it (toISOString: milliseconds, a year of our era). Printed to the
 * microsecond with its era and trimmed back only when both are as the linker wrote them: to the
 * millisecond alone, a time moved by microseconds, or into the same date BC, printed the same and
 * verified as intact.
 */
const occurredAtIso = (column: SQL) =>
  sql`replace(to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"BC'), '000ZAD', 'Z')`;
const OCCURRED_AT_ISO = occurredAtIso(sql`occurred_at`);

/**
 * One event as stored, its JSON as the database's text: what verify reads back when the spliced
 * canonical JSON of an event did not match its hash, to look closer (see ChainVerifier.pushSpliced).
 */
/** An event's columns as stored, its JSON as the database's text. */
const STORED_TEXT_COLUMNS = sql`workspace_id as "workspaceId", seq::float8 as seq, ${OCCURRED_AT_ISO} as "occurredAt",
  type, actor::text as actor, agent_id as "agentId", batch_id as "batchId", change_set_id as "changeSetId",
  object_type as "objectType", record_id as "recordId", property, before::text as before, after::text as after,
  evidence::text as evidence, reasons, policy_version as "policyVersion", data::text as data,
  prev_hash as "prevHash", hash`;

export async function readAuditText(db: Db, workspaceId: string, seq: number): Promise<StoredAuditText> {
  const result = await db.execute(sql`
    select ${STORED_TEXT_COLUMNS} from audit_events where workspace_id = ${workspaceId} and seq = ${seq}`);
  const [row] = rowsOf<StoredAuditText>(result);
  if (!row) throw new AppError('NOT_FOUND', `Audit event ${seq} of workspace ${workspaceId} does not exist.`);
  return row;
}

/**
 * Events stored below seq 1 or past `headSeq` (where a renumbered event goes, as every seq between
 * is taken) that link to `prevHash`: read by the key's two ranges, not the whole log.
 */
export async function eventsOutsideChainLinkedTo(
  db: Db,
  workspaceId: string,
  headSeq: number,
  prevHash: string,
): Promise<StoredAuditText[]> {
  const result = await db.execute(sql`
    select ${STORED_TEXT_COLUMNS} from audit_events
    where workspace_id = ${workspaceId} and (seq < 1 or seq > ${headSeq}) and prev_hash = ${prevHash}
    order by seq limit 10`);
  return rowsOf<StoredAuditText>(result);
}

/** The column (or expression) that holds each content field, as the linker hashed it. */
export const CONTENT_COLUMN: Record<keyof AuditEventContent, SQL> = {
  actor: sql`e.actor`,
  after: sql`e.after`,
  agentId: sql`e.agent_id`,
  batchId: sql`e.batch_id`,
  before: sql`e.before`,
  changeSetId: sql`e.change_set_id`,
  data: sql`e.data`,
  evidence: sql`e.evidence`,
  objectType: sql`e.object_type`,
  occurredAt: occurredAtIso(sql`e.occurred_at`),
  policyVersion: sql`e.policy_version`,
  prevHash: sql`e.prev_hash`,
  property: sql`e.property`,
  reasons: sql`e.reasons`,
  recordId: sql`e.record_id`,
  seq: sql`e.seq`,
  type: sql`e.type`,
  workspaceId: sql`e.workspace_id`,
};

// A content field as the linker wrote it in its canonical JSON. Every field is coalesced, so a
// NULL an owner wrote where the schema forbids one reads as null, not as a NULL line.
const jsonValue = (column: SQL) => sql`coalesce(${column}::text, 'null')`;
// Text as a JSON string with only " and \ escaped: enough for a line to name one set of stored
// values, so no edit can move text across fields. The verifier escapes the rare control character
// (ChainVerifier.pushSpliced).
const jsonString = (column: SQL) =>
  sql`coalesce('"' || replace(replace(${column}::text, '\\', '\\\\'), '"', '\\"') || '"', 'null')`;
// Printed by Postgres with nothing to escape (numbers, uuids, the time as ISO text).
const jsonQuoted = (column: SQL) => sql`coalesce('"' || ${column}::text || '"', 'null')`;

const FIELD_JSON: Record<keyof AuditEventContent, SQL> = {
  actor: jsonValue(CONTENT_COLUMN.actor),
  after: jsonValue(CONTENT_COLUMN.after),
  agentId: jsonQuoted(CONTENT_COLUMN.agentId),
  batchId: jsonString(CONTENT_COLUMN.batchId),
  before: jsonValue(CONTENT_COLUMN.before),
  changeSetId: jsonQuoted(CONTENT_COLUMN.changeSetId),
  data: jsonValue(CONTENT_COLUMN.data),
  evidence: jsonValue(CONTENT_COLUMN.evidence),
  objectType: jsonString(CONTENT_COLUMN.objectType),
  occurredAt: jsonQuoted(CONTENT_COLUMN.occurredAt),
  policyVersion: jsonValue(CONTENT_COLUMN.policyVersion),
  prevHash: jsonString(CONTENT_COLUMN.prevHash),
  property: jsonString(CONTENT_COLUMN.property),
  reasons: jsonValue(sql`array_to_json(${CONTENT_COLUMN.reasons})`),
  recordId: jsonString(CONTENT_COLUMN.recordId),
  seq: jsonValue(CONTENT_COLUMN.seq),
  type: jsonString(CONTENT_COLUMN.type),
  workspaceId: jsonQuoted(CONTENT_COLUMN.workspaceId),
};

/**
 * An event's canonical JSON, as the database writes it: the fields in the linker's order (sorted),
 * compactly, JSON columns as their stored text (json, not jsonb: the linker's canonical copy). Spliced
 * with ||, not row_to_json, which looked up each field's type in Postgres's catalog again for every
 * event, in a subquery run once per event: on PGlite, verifying 1,000,000 events took 15.7 s of CPU
 * instead of 18.8 (five interleaved pairs). A spelling that still differs (an event stored before
 * canonical copies) costs only a reread.
 */
const CANONICAL_JSON = sql.join(
  SORTED_CONTENT_FIELDS.map(
    (field, i) => sql`${sql.raw(`'${i === 0 ? '{' : ','}"${field}":'`)} || ${FIELD_JSON[field]}`,
  ),
  sql` || `,
);

/**
 * The workspace's events up to `untilSeq` in chain order, a page at a time, each as its links and
 * its canonical JSON written by the database: one string per event instead of nineteen
 * fields spliced again in JavaScript, which left verify collecting garbage most of its time. The next page is fetched
 * while the caller hashes this one. Pages are ranges of seq, not `seq > after … limit`: right after a
 * bulk load, before Postgres has statistics, the planner sorted every later event for each page
 * (quadratic: 100,000 events took 16 s, mostly waiting). A range stays one page's work whatever the
 * plan, and a gap is still read past (verify names it). An event whose line does not split (its
 * hashes edited into another shape) comes as its seq alone, for the caller to read whole.
 */
export async function* streamSplicedAuditEvents(
  db: Db,
  workspaceId: string,
  untilSeq: number,
): AsyncGenerator<(SplicedAuditEvent | number)[]> {
  const { pageSize, pagesAhead } = isInProcess(db) ? IN_PROCESS_PAGES : SERVER_PAGES;
  // Named, so each connection plans it once: planned afresh, a million events' 4,000 pages spent
  // about as long in Postgres's planner as in reading (200,000 events: 2.15 s against 1.22 s).
  // One column a row: PGlite parses each column of each row in JavaScript, and four columns took
  // 1.5 times as long as one line holding them (100,000 events: 1.55 s against 0.98 s).
  const pageQuery = db
    // A hash an owner set to NULL (the schema forbids it) would make the whole line NULL: as '' it
    // fails to split, and the event is read whole and named.
    .select({
      line: sql<string>`e.seq || ' ' || coalesce(e.prev_hash, '') || ' ' || coalesce(e.hash, '') || ' ' || ${CANONICAL_JSON} || '}'`,
    })
    .from(alias(auditEvents, 'e'))
    .where(
      sql`e.workspace_id = ${sql.placeholder('workspaceId')} and e.seq > ${sql.placeholder('after')} and e.seq <= ${sql.placeholder('until')}`,
    )
    .orderBy(sql`e.seq`)
    .prepare('audit_verify_page');
  const inFlight: Promise<{ line: string }[]>[] = [];
  let nextAfter = 0;
  const fetchAhead = () => {
    for (; inFlight.length < pagesAhead && nextAfter < untilSeq; nextAfter += pageSize)
      inFlight.push(
        pageQuery.execute({ workspaceId, after: nextAfter, until: Math.min(nextAfter + pageSize, untilSeq) }),
      );
  };
  try {
    fetchAhead();
    for (let rows = inFlight.shift(); rows; rows = inFlight.shift()) {
      const page = await rows;
      fetchAhead();
      yield page.map(({ line }) => splitLine(line));
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
}

/**
 * Postgres writes three pages at once on its own cores, on three of the pool's connections, while
 * this process hashes: 1,000,000 events took 6.3-8.5 s instead of 9-11. Pages of 1,000 events
 * made the CLI's heap grow to nearly 300 MB now and then; 250 stayed at 170.
 */
const SERVER_PAGES = { pageSize: 250, pagesAhead: 3 };
/**
 * PGlite answers one query at a time on this thread and parses each in JavaScript: pages ahead
 * only wait (three of 250 events peaked at 370 MB), and 1,000 events a page took 18-26 s for
 * 1,000,000 events where 250 took 23-44.
 */
const IN_PROCESS_PAGES = { pageSize: 1_000, pagesAhead: 1 };

const HASH_LENGTH = 64;

/**
 * `seq prevHash hash canonical`, cut where two hashes of the right length end. A hash edited into
 * another length or shape cuts the line elsewhere, and then cannot pass: its `prevHash` must equal
 * the hash verified before it and its `hash` the SHA-256 of the rest, both hex of this length, and a
 * mismatch is reread from the stored columns. (Testing each hash's shape first cost 1 s of CPU in
 * 20 on PGlite for 1,000,000 events.)
 */
function splitLine(line: string): SplicedAuditEvent | number {
  const afterSeq = line.indexOf(' ') + 1;
  const seq = Number(line.slice(0, afterSeq - 1));
  const afterPrev = afterSeq + HASH_LENGTH + 1;
  const afterHash = afterPrev + HASH_LENGTH + 1;
  const splits = afterSeq > 0 && line[afterPrev - 1] === ' ' && line[afterHash - 1] === ' ';
  if (!splits) return seq;
  return {
    seq,
    prevHash: line.slice(afterSeq, afterPrev - 1),
    hash: line.slice(afterPrev, afterHash - 1),
    canonical: line.slice(afterHash),
  };
}

// node-postgres and PGlite both answer with `rows`.
function rowsOf<Row>(result: unknown): Row[] {
  return (result as { rows: Row[] }).rows;
}

/**
 * The first event stored outside the chain (seq below 1 or past the head), and the head's seq. One
 * statement reads both, so an append committing meanwhile is never taken for one.
 */
export async function firstEventOutsideChain(
  db: Db,
  workspaceId: string,
): Promise<{ seq: number; headSeq: number } | undefined> {
  const result = await db.execute(sql`
    with head as (select seq from audit_heads where workspace_id = ${workspaceId})
    select outside.seq::float8 as seq, (select seq::float8 from head) as "headSeq" from (
      (select seq from audit_events where workspace_id = ${workspaceId} and seq < 1 order by seq limit 1)
      union all
      (select seq from audit_events where workspace_id = ${workspaceId} and seq > (select seq from head) order by seq limit 1)
    ) outside order by outside.seq limit 1`);
  return rowsOf<{ seq: number; headSeq: number }>(result)[0];
}

/** The personal values kept apart, as stored text, with the `data` of their events, for verify. */
export async function* streamPersonalTexts(
  db: Db,
  workspaceId: string,
  untilSeq: number,
  pageSize = 1_000,
): AsyncGenerator<{ seq: number; salt: string; values: string; data: string | null }> {
  let after = 0;
  for (;;) {
    const result = await db.execute(sql`
      select p.seq::float8 as seq, p.salt, p.values::text as values, e.data::text as data
      from audit_personal_data p
        join audit_events e on e.workspace_id = p.workspace_id and e.seq = p.seq
      where p.workspace_id = ${workspaceId} and p.seq > ${after} and p.seq <= ${untilSeq}
      order by p.seq
      limit ${pageSize}`);
    const rows = rowsOf<{ seq: number; salt: string; values: string; data: string | null }>(result);
    yield* rows;
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.seq;
  }
}
