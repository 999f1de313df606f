import { z } from 'zod';
import { objectTypeSchema, propertyNameSchema } from './crm-names.ts';
import { RECORD_MATCH_OPS } from './policy.ts';
import { safeText } from './safe-text.ts';

/**
 * What a kill switch can stop (issue 21 adds the four after `action`): every agent, one agent, one
 * action kind, a segment of records (a CRM list, or a record condition), a recipient domain, a
 * template family (drafts an agent tagged), or an evidence source (an enrichment provider).
 */
export const KILL_SWITCH_SCOPES = [
  'workspace',
  'agent',
  'action',
  'segment',
  'recipient_domain',
  'template',
  'evidence_source',
] as const;
export type KillSwitchScope = (typeof KILL_SWITCH_SCOPES)[number];

/** A segment by record condition: the policy's `record_matches` condition without its tier. */
export const segmentConditionSchema = z
  .strictObject({
    objectType: objectTypeSchema,
    property: propertyNameSchema,
    op: z.enum(RECORD_MATCH_OPS),
    value: z.union([safeText.max(1_000), z.number()]).optional(),
    values: z.array(safeText.max(1_000)).min(1).max(1_000).optional(),
  })
  .meta({ id: 'SegmentCondition' });
export type SegmentCondition = z.infer<typeof segmentConditionSchema>;

/** The prefix of a segment switch's target naming a CRM list (`list:<id>`). */
export const LIST_SEGMENT_PREFIX = 'list:';
/** The prefix of a segment switch's target standing for its record condition. */
export const RECORD_SEGMENT_PREFIX = 'record:';
