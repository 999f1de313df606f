import { useEffect, useState } from 'react';
import type { PolicyWarning, PublishedPolicy } from '../../../../shared/admin-api.ts';
import { ACTION_KINDS, type AgentRole, type ObjectType, propertyNameSchema } from '../../../../shared/crm-names.ts';
import { type DualControlSettings, parsePolicy, type Policy, type Tier } from '../../../../shared/policy.ts';
import { settingsControls } from '../../../../shared/views/decision-controls.ts';
import { policyDiff } from '../../../../shared/views/policy-diff.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES, matrixRows, withTier } from '../../../../shared/views/policy-matrix.ts';
import {
  CAP_LABELS,
  CAP_NAMES,
  CONDITION_KIND_NAMES,
  conditionSummary,
  newCondition,
  newWindow,
  parseCapInput,
  withCap,
  withCondition,
  withWindow,
  windowSummary,
} from '../../../../shared/views/policy-rules.ts';
import { postJson } from '../../api.ts';
import { OutcomeLine, useSubmit, validate } from './forms.tsx';
import { heldForSecondAdmin, isHeld, SECOND_ADMIN_NOTE } from './GovernanceRequests.tsx';
import { ContentRules, RecordCreation } from './ContentAndCreation.tsx';
import { ApprovalExpiry, Monitoring } from './MonitoringFields.tsx';
import { ConditionFields, TierSelect, WindowFields } from './RuleFields.tsx';
import type { SectionProps } from './Settings.tsx';

const DRAFT_ACTIONS = ACTION_KINDS.filter((kind) => kind !== 'field_write');
type DraftAction = (typeof DRAFT_ACTIONS)[number];

/**
 * The policy in force as a draft: the matrix, record creation and governed reads, action tiers,
 * content rules, caps, conditions, windows, QA sampling, dual control, approval expiry and
 * monitoring (bypass reverts, integrations, kill triggers). The draft is checked with the server's policy schema before publishing, and
 * publishing follows the same dual-control rules as everywhere else (409: a second admin confirms).
 */
export function PolicyEditor({ view, reload }: SectionProps) {
  const controls = settingsControls(view.caller.permissions);
  const current = view.policy?.policy;
  const version = view.policy?.version;
  const [draft, setDraft] = useState<Policy | undefined>(current);
  // The version the draft was edited from: publishing names it, so one published since is never silently replaced.
  const [base, setBase] = useState({ version, policy: current });
  const publish = useSubmit();
  // What the last publish warned of (a property the CRM lacks): it is in force, and the admin should know.
  const [warnings, setWarnings] = useState<PolicyWarning[]>([]);
  // Number fields keep what was typed until the draft starts afresh (a new version, or discarding the changes).
  const [resets, setResets] = useState(0);
  const fresh = `${base.version}:${resets}`;
  const startFrom = (policy: Policy | undefined) => {
    setDraft(policy);
    setBase({ version, policy });
  };
  // A new version in force is the new starting point (this draft published, or nothing edited yet); a draft
  // holding edits that version lacks (one confirmed or published elsewhere meanwhile) is kept, on its own base.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new version restarts the draft
  useEffect(() => {
    const edited = draft && base.policy && policyDiff(base.policy, draft).length > 0;
    const published = draft && current && policyDiff(current, draft).length === 0;
    if (!edited || published) startFrom(current);
  }, [version]);
  if (!current || !draft) return <p>No policy is published yet: publish one with the CLI or the admin API first.</p>;
  const editable = controls.editPolicy;
  const parsed = parsePolicy(draft);
  const changes = policyDiff(current, draft).length;
  const send = () => {
    setWarnings([]);
    return publish.run(
      () =>
        heldForSecondAdmin(
          // The version this draft was edited from: one published since is never silently replaced.
          postJson<PublishedPolicy>('/console/api/policies', { document: draft, basedOn: base.version }),
        ),
      async (result) => {
        await reload();
        if (!isHeld(result)) setWarnings(result.warnings ?? []);
        return isHeld(result)
          ? `Not published yet: ${SECOND_ADMIN_NOTE}`
          : `Published version ${result.version}; it is in force now.`;
      },
    );
  };
  return (
    <>
      <p className="muted">
        Version {view.policy?.version} in force ({current.name}).{' '}
        {editable ? 'Edit below, then publish: publishing makes a new version.' : 'Your role reads the policy only.'}
      </p>
      {base.version !== version && (
        <p role="alert">
          Version {version} was published since these edits began from version {base.version}: publishing them would
          replace it unseen, so it is refused. Note your changes, then discard them to start from version {version}.
        </p>
      )}
      {MATRIX_OBJECT_TYPES.map((objectType) => (
        <Matrix key={objectType} objectType={objectType} policy={draft} editable={editable} onChange={setDraft} />
      ))}
      <RecordCreation key={`creation:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <ActionTiers policy={draft} editable={editable} onChange={setDraft} />
      <ContentRules key={`content:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <Caps key={`caps:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <Rules key={`rules:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <QaSampling key={`qa:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <DualControl key={`dual:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <ApprovalExpiry key={`expiry:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      <Monitoring key={`monitoring:${fresh}`} policy={draft} editable={editable} onChange={setDraft} />
      {editable && (
        <section aria-label="Publish" className="card publish">
          <h2>Publish</h2>
          {!parsed.ok && (
            <ul role="alert">
              {parsed.issues.map((issue) => (
                <li key={issue}>{issue}</li>
              ))}
            </ul>
          )}
          <p>{changes === 0 ? 'No change to publish.' : `${changes} setting(s) changed from the version in force.`}</p>
          <div className="actions">
            <button type="button" disabled={!parsed.ok || changes === 0 || publish.busy} onClick={send}>
              Publish
            </button>
            <button
              type="button"
              disabled={changes === 0}
              onClick={() => {
                startFrom(current);
                setResets(resets + 1);
              }}
            >
              Discard changes
            </button>
          </div>
          <OutcomeLine outcome={publish.outcome} />
          <PublishWarnings warnings={warnings} />
        </section>
      )}
    </>
  );
}

function PublishWarnings({ warnings }: { warnings: readonly PolicyWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <div role="alert" aria-label="Publish warnings">
      <p>Published, but the CRM has no property named so: until it has, these rules match nothing.</p>
      <ul>
        {warnings.map((warning) => (
          <li key={`${warning.objectType} ${warning.property}`}>{warning.message}</li>
        ))}
      </ul>
    </div>
  );
}

interface EditorProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

function Matrix({ objectType, policy, editable, onChange }: EditorProps & { objectType: ObjectType }) {
  const [property, setProperty] = useState('');
  const [error, setError] = useState<string | null>(null);
  const rows = matrixRows(policy, objectType);
  const add = () => {
    const checked = validate(propertyNameSchema, property.trim());
    if (!checked.ok) return setError(`The property ${checked.message}`);
    if (policy.objects[objectType]?.properties[checked.value]) return setError(`${checked.value} is already governed.`);
    setError(null);
    setProperty('');
    // The object's creation tiers, duplicate rule and governed reads stay as they were.
    const object = policy.objects[objectType] ?? { properties: {} };
    onChange({
      ...policy,
      objects: {
        ...policy.objects,
        [objectType]: { ...object, properties: { ...object.properties, [checked.value]: {} } },
      },
    });
  };
  return (
    <section aria-label={`Policy matrix: ${objectType}`} className="card">
      <h2>{objectType}: property × agent role → tier</h2>
      {rows.length === 0 ? (
        <p>No {objectType} property is governed: agents may write none.</p>
      ) : (
        <table className="matrix">
          <thead>
            <tr>
              <th>Property</th>
              {MATRIX_ROLES.map((role) => (
                <th key={role}>{role}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.property}>
                <td>{row.property}</td>
                {row.cells.map((cell) => (
                  <td key={cell.role} className={cell.inherited ? 'inherited' : undefined}>
                    <TierSelect
                      label={`${objectType} ${row.property} ${cell.role}`}
                      value={cell.tier}
                      editable={editable}
                      onChange={(tier) =>
                        onChange(
                          withTier(policy, {
                            objectType,
                            property: row.property,
                            role: cell.role,
                            tier: tier || 'deny',
                          }),
                        )
                      }
                    />
                    {cell.inherited && <span className="muted"> (default)</span>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editable && (
        <div className="actions">
          <label>
            Govern another {objectType} property{' '}
            <input value={property} onChange={(event) => setProperty(event.target.value)} />
          </label>
          <button type="button" onClick={add}>
            Add property
          </button>
          {error && <span role="alert">{error}</span>}
        </div>
      )}
    </section>
  );
}

function withActionTier(policy: Policy, action: DraftAction, role: AgentRole, tier: Tier | ''): Policy {
  const { [role]: _old, ...rest } = policy.actions[action] ?? {};
  return { ...policy, actions: { ...policy.actions, [action]: tier ? { ...rest, [role]: tier } : rest } };
}

function ActionTiers({ policy, editable, onChange }: EditorProps) {
  return (
    <section aria-label="Action tiers" className="card">
      <h2>Emails, tasks and notes: action × agent role → tier</h2>
      <table>
        <thead>
          <tr>
            <th>Action</th>
            {MATRIX_ROLES.map((role) => (
              <th key={role}>{role}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {DRAFT_ACTIONS.map((action) => (
            <tr key={action}>
              <td>{action}</td>
              {MATRIX_ROLES.map((role) => (
                <td key={role}>
                  <TierSelect
                    label={`${action} ${role}`}
                    value={policy.actions[action]?.[role] ?? ''}
                    editable={editable}
                    allowNone
                    onChange={(tier) => onChange(withActionTier(policy, action, role, tier))}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Caps({ policy, editable, onChange }: EditorProps) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  return (
    <section aria-label="Caps" className="card">
      <h2>Caps (per day; empty means no cap)</h2>
      <div className="actions">
        {CAP_NAMES.map((cap) => (
          <label key={cap}>
            {CAP_LABELS[cap]}{' '}
            <input
              inputMode="numeric"
              disabled={!editable}
              defaultValue={policy.caps[cap] ?? ''}
              onBlur={(event) => {
                const input = parseCapInput(event.target.value);
                setErrors({ ...errors, [cap]: input.ok ? '' : input.message });
                if (input.ok) onChange(withCap(policy, { cap, value: input.value }));
              }}
            />
            {errors[cap] && <span role="alert"> {errors[cap]}</span>}
          </label>
        ))}
      </div>
    </section>
  );
}

/** Conditions and time windows: each summarised, with its fields for those who may edit. */
function Rules({ policy, editable, onChange }: EditorProps) {
  const [kind, setKind] = useState<(typeof CONDITION_KIND_NAMES)[number]>('confidence_below');
  return (
    <>
      <section aria-label="Conditions" className="card">
        <h2>Conditions (raise a tier)</h2>
        {policy.conditions.length === 0 && <p>No condition: the matrix alone decides.</p>}
        <ol>
          {policy.conditions.map((condition, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a condition has no identity but its place (and the list's length, so removing one refreshes the rest)
            <li key={`${index}/${policy.conditions.length}`}>
              {conditionSummary(condition)}
              {editable && (
                <ConditionFields
                  condition={condition}
                  onChange={(next) => onChange(withCondition(policy, index, next))}
                />
              )}
            </li>
          ))}
        </ol>
        {editable && (
          <div className="actions">
            <select
              aria-label="Condition kind"
              value={kind}
              onChange={(event) => setKind(event.target.value as typeof kind)}
            >
              {CONDITION_KIND_NAMES.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
            <button
              type="button"
              onClick={() => onChange(withCondition(policy, policy.conditions.length, newCondition(kind)))}
            >
              Add condition
            </button>
          </div>
        )}
      </section>
      <section aria-label="Time windows" className="card">
        <h2>Time windows (when actions may happen)</h2>
        {policy.windows.length === 0 && <p>No window: agents may act at any hour.</p>}
        <ol>
          {policy.windows.map((window, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a window has no identity but its place (and the list's length, so removing one refreshes the rest)
            <li key={`${index}/${policy.windows.length}`}>
              {windowSummary(window)}
              {editable && (
                <WindowFields window={window} onChange={(next) => onChange(withWindow(policy, index, next))} />
              )}
            </li>
          ))}
        </ol>
        {editable && (
          <button type="button" onClick={() => onChange(withWindow(policy, policy.windows.length, newWindow()))}>
            Add window
          </button>
        )}
      </section>
    </>
  );
}

function rateInput(text: string): number | undefined | null {
  if (text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function QaSampling({ policy, editable, onChange }: EditorProps) {
  const sampling = policy.qa?.sampling ?? {};
  const set = (role: AgentRole, field: 'rate' | 'newDays' | 'newRate', text: string) => {
    const value = rateInput(text);
    const { [role]: old, ...rest } = sampling;
    const before = { rate: old?.rate, newDays: old?.newAgent?.days, newRate: old?.newAgent?.rate }[field];
    if (value === null || value === before) return;
    const rate = field === 'rate' ? value : old?.rate;
    const days = field === 'newDays' ? value : old?.newAgent?.days;
    const newRate = field === 'newRate' ? value : old?.newAgent?.rate;
    const next =
      rate === undefined
        ? rest
        : {
            ...rest,
            [role]: {
              rate,
              ...(days !== undefined && newRate !== undefined ? { newAgent: { days, rate: newRate } } : {}),
            },
          };
    onChange({ ...policy, qa: { sampling: next } });
  };
  return (
    <section aria-label="QA sampling" className="card">
      <h2>QA sampling of auto-applied writes (share 0–1)</h2>
      <table>
        <thead>
          <tr>
            <th>Agent role</th>
            <th>Share sampled</th>
            <th>While new: days</th>
            <th>While new: share</th>
          </tr>
        </thead>
        <tbody>
          {MATRIX_ROLES.map((role) => (
            <tr key={role}>
              <td>{role}</td>
              {(
                [
                  ['rate', sampling[role]?.rate],
                  ['newDays', sampling[role]?.newAgent?.days],
                  ['newRate', sampling[role]?.newAgent?.rate],
                ] as const
              ).map(([field, value]) => (
                <td key={field}>
                  <input
                    aria-label={`QA ${role} ${field}`}
                    inputMode="decimal"
                    size={6}
                    disabled={!editable}
                    defaultValue={value ?? ''}
                    onBlur={(event) => set(role, field, event.target.value)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function DualControl({ policy, editable, onChange }: EditorProps) {
  const dual: DualControlSettings = policy.dualControl ?? {
    killSwitchRelease: false,
    tierLowering: false,
    erasure: false,
  };
  const set = (next: DualControlSettings) => onChange({ ...policy, dualControl: next });
  return (
    <section aria-label="Dual control" className="card">
      <h2>Dual control (a second admin confirms)</h2>
      <div className="actions">
        <label>
          <input
            type="checkbox"
            disabled={!editable}
            checked={dual.tierLowering}
            onChange={(event) => set({ ...dual, tierLowering: event.target.checked })}
          />{' '}
          Lowering a tier
        </label>
        <label>
          <input
            type="checkbox"
            disabled={!editable}
            checked={dual.killSwitchRelease}
            onChange={(event) => set({ ...dual, killSwitchRelease: event.target.checked })}
          />{' '}
          Releasing the workspace kill switch
        </label>
        <label>
          <input
            type="checkbox"
            disabled={!editable}
            checked={dual.erasure}
            onChange={(event) => set({ ...dual, erasure: event.target.checked })}
          />{' '}
          Erasing a person's data
        </label>
        <label>
          Raising a cap by more than (share, e.g. 0.25){' '}
          <input
            inputMode="decimal"
            size={6}
            disabled={!editable}
            defaultValue={dual.capRaiseShare ?? ''}
            onBlur={(event) => {
              const value = rateInput(event.target.value);
              if (value === null || value === dual.capRaiseShare) return;
              const { capRaiseShare: _old, ...rest } = dual;
              set(value === undefined ? rest : { ...rest, capRaiseShare: value });
            }}
          />
        </label>
      </div>
    </section>
  );
}
