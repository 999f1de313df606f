import { z } from 'zod';
import {
  ACTION_KINDS,
  AGENT_ROLES,
  crmOfObjectType,
  HUBSPOT_PROPERTY_NAME_PATTERN,
  CRM_OBJECT_TYPES,
  propertyNameSchema,
} from './crm-names.ts';
import { patternProblem } from './content-match.ts';
import { safeText, text } from './safe-text.ts';
import { readableMessage } from './zod-issues.ts';

/** Conditions and time windows one policy may hold: far beyond any real policy, small enough to evaluate per write. */
const MAX_POLICY_RULES = 500;

/** Strictness order: conditions may move a tier right, never left. */
export const TIERS = ['auto', 'approval', 'two_person', 'deny'] as const;
export const tierSchema = z.enum(TIERS, {
  error: (issue) => `must be one of ${TIERS.join(', ')}; got ${JSON.stringify(issue.input)}`,
});
export type Tier = z.infer<typeof tierSchema>;

/** Raising to `auto` would change nothing, so a condition names a stricter tier. */
export const RAISE_TIERS = ['approval', 'two_person', 'deny'] as const satisfies readonly Tier[];
const raiseToSchema = z.enum(RAISE_TIERS, {
  error: (issue) =>
    `must be one of ${RAISE_TIERS.join(', ')} (a condition only raises a tier); got ${JSON.stringify(issue.input)}`,
});

const objectTypeSchema = z.enum(CRM_OBJECT_TYPES, {
  error: (issue) => `must be one of ${CRM_OBJECT_TYPES.join(', ')}; got ${JSON.stringify(issue.input)}`,
});
const agentRoleSchema = z.enum(AGENT_ROLES, {
  error: (issue) => `must be an agent role (${AGENT_ROLES.join(', ')}); got ${JSON.stringify(issue.input)}`,
});

/** Tier per agent role; "*" covers the roles not named, and a role named nowhere is denied. */
const roleTiersSchema = z.partialRecord(z.enum([...AGENT_ROLES, '*']), tierSchema);
export type RoleTiers = z.infer<typeof roleTiersSchema>;

const timeZoneSchema = safeText.refine(
  isTimeZone,
  'must be an IANA time zone such as Europe/Paris or America/New_York',
);
const clockTimeSchema = safeText.regex(
  /^([01]\d|2[0-3]):[0-5]\d$/,
  'must be a 24-hour time written HH:MM, such as 09:00',
);
/** In the order of `Date.prototype.getDay`, so an index is a weekday number. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Limits a condition to some objects, properties or roles; an omitted list means all. */
const scope = {
  objectTypes: z.array(objectTypeSchema).min(1).max(100).optional(),
  properties: z.array(propertyNameSchema).min(1).max(1_000).optional(),
  roles: z.array(agentRoleSchema).min(1).max(100).optional(),
};

export const RECORD_MATCH_OPS = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'is_empty', 'not_empty'] as const;
export type RecordMatchOp = (typeof RECORD_MATCH_OPS)[number];

export const CONDITION_KINDS = ['confidence_below', 'record_matches', 'overwrites_non_empty', 'evidence'] as const;
const conditionSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('confidence_below'),
      threshold: z.number().min(0).max(1),
      raiseTo: raiseToSchema,
      ...scope,
    }),
    z.strictObject({
      kind: z.literal('record_matches'),
      // The record's own object type: the condition looks at writes on that object only.
      objectType: objectTypeSchema,
      property: propertyNameSchema,
      op: z.enum(RECORD_MATCH_OPS, {
        error: (issue) => `must be one of ${RECORD_MATCH_OPS.join(', ')}; got ${JSON.stringify(issue.input)}`,
      }),
      value: z.union([safeText.max(1_000), z.number()], { error: 'must be a string or a number' }).optional(),
      values: z.array(safeText.max(1_000)).min(1).max(1_000).optional(),
      raiseTo: raiseToSchema,
      properties: scope.properties,
      roles: scope.roles,
    }),
    z.strictObject({ kind: z.literal('overwrites_non_empty'), raiseTo: raiseToSchema, ...scope }),
    z.strictObject({
      kind: z.literal('evidence'),
      requireUrl: z.boolean().optional(),
      allowedSources: z.array(text(200)).min(1).max(1_000).optional(),
      raiseTo: raiseToSchema,
      ...scope,
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${CONDITION_KINDS.join(', ')}` : undefined) },
);
export type PolicyCondition = z.infer<typeof conditionSchema>;
export type RecordMatchesCondition = Extract<PolicyCondition, { kind: 'record_matches' }>;

const capsSchema = z.strictObject({
  writesPerAgentPerDay: z.number().int().positive().optional(),
  writesPerRecordPerDay: z.number().int().positive().optional(),
  sendsPerRecipientDomainPerDay: z.number().int().positive().optional(),
  /** Emails to one contact per day, whichever agents send them (issue 21), so two agents cannot double-touch a person. */
  sendsPerContactPerDay: z.number().int().positive().optional(),
  /** Records an agent may create per day (issue 21), counted apart from its writes. */
  createsPerAgentPerDay: z.number().int().positive().optional(),
  /** Associations (a contact to its company, a deal to its contacts) an agent may make per day (issue 21). */
  associationsPerAgentPerDay: z.number().int().positive().optional(),
  /** Emails to the contacts of one account (the contact's company) per day, and per week from Monday, every agent's (issue 21). */
  sendsPerAccountPerDay: z.number().int().positive().optional(),
  sendsPerAccountPerWeek: z.number().int().positive().optional(),
});
export type Caps = z.infer<typeof capsSchema>;

const spendBudgetSchema = z.strictObject({
  amount: z.number().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as USD'),
});
/**
 * Budgets (issue 21), per calendar day of the policy's time zone: CRM calls this server makes on
 * an agent's behalf (its change sets, drafts and reads), and spend agents report in evidence
 * (`cost`), each spend budget in one currency. Once one is reached the agent's requests are
 * refused (BUDGET_REACHED) until the next day.
 */
const budgetsSchema = z.strictObject({
  crmCallsPerAgentPerDay: z.number().int().positive().optional(),
  crmCallsPerWorkspacePerDay: z.number().int().positive().optional(),
  spendPerAgentPerDay: spendBudgetSchema.optional(),
  spendPerWorkspacePerDay: spendBudgetSchema.optional(),
});
export type Budgets = z.infer<typeof budgetsSchema>;

/**
 * When any window governs an action for a role, the action must fall inside one of them.
 * A window whose end is before its start crosses midnight and belongs to the day it opens;
 * start equal to end covers the whole of each listed day.
 */
const windowSchema = z.strictObject({
  actions: z
    .array(
      z.enum(ACTION_KINDS, {
        error: (issue) => `must be one of ${ACTION_KINDS.join(', ')}; got ${JSON.stringify(issue.input)}`,
      }),
    )
    .min(1)
    .max(100),
  roles: z.array(agentRoleSchema).min(1).max(100).optional(),
  days: z
    .array(
      z.enum(WEEKDAYS, {
        error: (issue) => `must be one of ${WEEKDAYS.join(', ')}; got ${JSON.stringify(issue.input)}`,
      }),
    )
    .min(1)
    .max(100),
  start: clockTimeSchema,
  end: clockTimeSchema,
  timezone: timeZoneSchema.optional(),
});
export type TimeWindow = z.infer<typeof windowSchema>;

/**
 * What the app does about changes it sees in the CRM afterwards (issue 6). Everything here is
 * off unless the policy says otherwise.
 */
const monitoringSchema = z.strictObject({
  /** Write a bypass back to the value before it, through the CRM adapter, and audit it. */
  revertBypassWrites: z.boolean().default(false),
  /** HubSpot `sourceId` of an agent's own integration (its app id) → the agent's name, so its bypass writes count against it. */
  integrations: z.record(safeText.min(1).max(200), safeText.min(1).max(200)).default({}),
  killTriggers: z
    .strictObject({
      /** Engage the agent's kill switch (the workspace's, for writes no agent is named for) after this many bypass writes in the window. */
      bypassWrites: z
        .strictObject({
          threshold: z.number().int().positive(),
          windowMinutes: z
            .number()
            .int()
            .positive()
            .max(24 * 60)
            .default(60),
        })
        .optional(),
      /** Engage an agent's kill switch when its writes seen landing in the CRM exceed this many in a minute. */
      writeVelocity: z.strictObject({ perMinute: z.number().int().positive() }).optional(),
      /** Engage an agent's kill switch when people reject more than this share of its decided proposals in one batch (once at least minDecided are decided). */
      rejectionRate: z
        .strictObject({ threshold: z.number().min(0).max(1), minDecided: z.number().int().positive().default(10) })
        .optional(),
    })
    .default({}),
});
export type MonitoringSettings = z.infer<typeof monitoringSchema>;
export const DEFAULT_MONITORING: MonitoringSettings = { revertBypassWrites: false, integrations: {}, killTriggers: {} };

/** How far back a quarantine looks when the policy does not say: a day covers a bad run noticed the next morning. */
export const DEFAULT_QUARANTINE_HOURS = 24;

const sampleRateSchema = z.number().min(0).max(1);

/**
 * QA sampling (issue 5): a share of each role's `auto`-applied writes goes to a review queue,
 * with a higher share while an agent is new (for example 20% in its first 21 days, then 5%).
 */
const qaSchema = z.strictObject({
  sampling: z
    .partialRecord(
      agentRoleSchema,
      z.strictObject({
        rate: sampleRateSchema,
        newAgent: z.strictObject({ days: z.number().int().positive().max(365), rate: sampleRateSchema }).optional(),
      }),
    )
    .default({}),
});
export type QaSettings = z.infer<typeof qaSchema>;

/**
 * Dual control (issue 5): changes to governance itself that a second admin must confirm.
 * `capRaiseShare` 0.25 means raising any cap by more than 25% (or removing it) needs one;
 * `erasure` puts erasing a person's data under it too (issue 21): it cannot be undone.
 */
const dualControlSchema = z.strictObject({
  killSwitchRelease: z.boolean().default(false),
  tierLowering: z.boolean().default(false),
  erasure: z.boolean().default(false),
  capRaiseShare: z.number().min(0).max(100).optional(),
});
export type DualControlSettings = z.infer<typeof dualControlSchema>;

/**
 * Safe re-enable and gates on change (issue 21). Safe mode follows the release of an agent a kill
 * trigger stopped: for `safeModeHours` its caps are multiplied by `safeModeCapFactor` and every
 * `auto` is held for approval. The regression run replays the agent's submissions of the last
 * `regressionLookbackHours`. A new `promptHash` in evidence holds the agent's `auto` writes until a
 * person accepts it (`promptGate`); `volumeJump` holds them once its writes of the day pass its
 * trailing daily average by more than `share` (0.5: half again), and at least `minDaily`.
 */
const agentSafetySchema = z.strictObject({
  safeModeHours: z
    .number()
    .positive()
    .max(24 * 90)
    .default(48),
  safeModeCapFactor: z.number().positive().max(1).default(0.5),
  regressionLookbackHours: z
    .number()
    .positive()
    .max(24 * 90)
    .default(24),
  promptGate: z.boolean().default(true),
  volumeJump: z
    .strictObject({
      share: z.number().positive().max(100),
      trailingDays: z.number().int().positive().max(90).default(7),
      minDaily: z.number().int().nonnegative().default(20),
    })
    .optional(),
});
export type AgentSafetySettings = z.infer<typeof agentSafetySchema>;
export const DEFAULT_AGENT_SAFETY: AgentSafetySettings = agentSafetySchema.parse({});

/** The drafts content rules look at; a rule not naming any covers them all. */
const DRAFT_ACTIONS = ['send_email', 'create_task', 'create_note'] as const;
const contentPatternSchema = safeText
  .min(1)
  .max(500)
  .superRefine((source, ctx) => {
    const problem = patternProblem(source);
    if (problem) ctx.addIssue({ code: 'custom', message: `is not a regular expression RE2 accepts: ${problem}` });
  });
/**
 * Content rules for drafts (issue 21): a `banned` rule matches any of its phrases (whole words,
 * without case) or patterns; a `required` rule matches when none of them is present (an
 * unsubscribe line); a `personalisation` rule matches a merge field (`{{name}}`) not in
 * `allowedFields`. A match raises the draft's tier, never lowers it.
 */
export const contentRuleSchema = z
  .strictObject({
    name: text(200),
    kind: z.enum(['banned', 'required', 'personalisation'], {
      error: (issue) => `must be one of banned, required, personalisation; got ${JSON.stringify(issue.input)}`,
    }),
    phrases: z.array(safeText.min(1).max(500)).max(500).optional(),
    patterns: z.array(contentPatternSchema).max(100).optional(),
    allowedFields: z.array(safeText.min(1).max(200)).max(500).optional(),
    raiseTo: raiseToSchema,
    actions: z.array(z.enum(DRAFT_ACTIONS)).min(1).max(3).optional(),
    roles: scope.roles,
  })
  .superRefine((rule, ctx) => {
    const listsText = (rule.phrases?.length ?? 0) + (rule.patterns?.length ?? 0) > 0;
    if (rule.kind === 'personalisation' ? !rule.allowedFields : !listsText)
      ctx.addIssue({
        code: 'custom',
        message:
          rule.kind === 'personalisation'
            ? 'checks nothing: give the allowedFields a draft may merge'
            : 'checks nothing: give phrases or patterns',
      });
  });
export type ContentRule = z.infer<typeof contentRuleSchema>;

const objectPolicySchema = z.strictObject({
  properties: z.record(propertyNameSchema, roleTiersSchema),
  /** Tier per agent role for creating a record of this type (issue 21); a role not named may not create. */
  create: roleTiersSchema.optional(),
  /**
   * Tier per agent role for associating a record of this type with another record (issue 21: a
   * contact to its company); a role not named may not associate.
   */
  associate: roleTiersSchema.optional(),
  /** What a likely duplicate of an existing record does to its creation: held for a person, or refused (the default). */
  onDuplicate: raiseToSchema.optional(),
  /**
   * Governed reads (issue 21): per property, per agent role ("*" for the others), `full` or
   * `masked`; a property or role not named is not read at all.
   */
  read: z
    .record(propertyNameSchema, z.partialRecord(z.enum([...AGENT_ROLES, '*']), z.enum(['full', 'masked'])))
    .optional(),
});
export type ObjectPolicy = z.infer<typeof objectPolicySchema>;

export const policySchema = z
  .strictObject({
    name: text(200),
    description: safeText.max(2_000).optional(),
    timezone: timeZoneSchema,
    objects: z.partialRecord(objectTypeSchema, objectPolicySchema),
    conditions: z.array(conditionSchema).max(MAX_POLICY_RULES).default([]),
    caps: capsSchema
      .extend({ roleCaps: z.partialRecord(agentRoleSchema, capsSchema).optional() })
      .strict()
      .default({}),
    windows: z.array(windowSchema).max(MAX_POLICY_RULES).default([]),
    /** Tier per agent role for each non-field action (drafts, issue 5); an action not named is denied. */
    actions: z
      .strictObject({
        send_email: roleTiersSchema.optional(),
        create_task: roleTiersSchema.optional(),
        create_note: roleTiersSchema.optional(),
      })
      .default({}),
    content: z.array(contentRuleSchema).max(MAX_POLICY_RULES).optional(),
    /**
     * "Last touched" across agents (issue 21): an email to a contact another agent emailed (held
     * or released) less than this many hours ago is refused, naming that agent's email.
     */
    touches: z
      .strictObject({
        minHoursBetweenAgents: z
          .number()
          .positive()
          .max(24 * 90),
      })
      .optional(),
    budgets: budgetsSchema.optional(),
    approvals: z
      .strictObject({
        expiryHours: z
          .number()
          .positive()
          .max(24 * 90)
          .default(72),
      })
      .default({ expiryHours: 72 }),
    qa: qaSchema.optional(),
    dualControl: dualControlSchema.optional(),
    monitoring: monitoringSchema.optional(),
    agentSafety: agentSafetySchema.optional(),
    /**
     * Quarantine (issue 21): when a kill switch or trigger stops an agent, the records it wrote in
     * the last `windowHours` are marked for review; 0 marks none.
     */
    quarantine: z
      .strictObject({
        windowHours: z
          .number()
          .min(0)
          .max(24 * 30)
          .default(DEFAULT_QUARANTINE_HOURS),
      })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    // HubSpot's internal names are lower-case; a Salesforce field's API name keeps its capitals.
    for (const [objectType, objectPolicy] of Object.entries(policy.objects)) {
      if (crmOfObjectType(objectType) !== 'hubspot') continue;
      for (const name of Object.keys(objectPolicy?.properties ?? {})) {
        if (HUBSPOT_PROPERTY_NAME_PATTERN.test(name)) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['objects', objectType, 'properties', name],
          message: 'is not a HubSpot internal property name (lower-case letters, digits and underscores)',
        });
      }
    }
    policy.conditions.forEach((condition, index) => {
      const path = ['conditions', index];
      if (condition.kind === 'evidence' && !condition.requireUrl && !condition.allowedSources) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: 'checks nothing: give requireUrl: true or a list of allowedSources',
        });
      }
      if (condition.kind !== 'record_matches') return;
      const problem = recordMatchProblem(condition);
      if (problem) ctx.addIssue({ code: 'custom', path: [...path, problem.field], message: problem.message });
    });
  })
  .meta({ id: 'Policy' });

function recordMatchProblem(condition: RecordMatchesCondition): { field: string; message: string } | undefined {
  const { op, value, values } = condition;
  if (op === 'in')
    return values ? undefined : { field: 'values', message: 'is required: op "in" needs a list of values' };
  if (op === 'is_empty' || op === 'not_empty') return undefined;
  if (value === undefined) return { field: 'value', message: `is required: op "${op}" needs a value` };
  const numeric = op !== 'eq' && op !== 'neq';
  if (numeric && !Number.isFinite(Number(value)))
    return { field: 'value', message: `must be a number: op "${op}" compares numbers; got ${JSON.stringify(value)}` };
  return undefined;
}

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export type ParsedPolicy = { ok: true; policy: Policy } | { ok: false; issues: string[] };

/** Validates a policy document; each issue is a sentence that starts with the path it is about. */
export function parsePolicy(document: unknown): ParsedPolicy {
  const parsed = policySchema.safeParse(document, { error: readableMessage });
  if (parsed.success) return { ok: true, policy: parsed.data };
  return { ok: false, issues: parsed.error.issues.map(describeIssue) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') {
    // zod reports a bad record key at the key's own path with a generic message; name the key instead.
    const key = issue.path.at(-1);
    const reason = issue.issues[0]?.message ?? 'is not allowed';
    return `${pathText(issue.path.slice(0, -1))} has a key ${JSON.stringify(key)} that is not valid: it ${reason}`;
  }
  return `${pathText(issue.path)} ${issue.message}`;
}

function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'The policy';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `[${JSON.stringify(name)}]`;
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
