import { useState } from 'react';
import { type AgentRole, type ObjectType, propertyNameSchema } from '../../../../shared/crm-names.ts';
import { type ContentRule, contentRuleSchema, type Policy } from '../../../../shared/policy.ts';
import { MATRIX_OBJECT_TYPES, MATRIX_ROLES } from '../../../../shared/views/policy-matrix.ts';
import {
  CONTENT_RULE_KINDS as CONTENT_KINDS,
  contentRuleSummary,
  DRAFT_ACTION_NAMES as DRAFT_ACTIONS,
  DUPLICATE_CHOICES,
  linesFromText,
  newContentRule,
  READ_ROLE_NAMES as READ_ROLES,
  RAISE_TIER_NAMES,
  withContentRule,
  withObjectSetting,
  withOptional,
  withReadAccess,
} from '../../../../shared/views/policy-rules.ts';
import { validate } from './forms.tsx';
import { Checks, Choice, ListInput, TierSelect } from './RuleFields.tsx';

interface EditorProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/**
 * Content rules for drafts (issue 21): each rule summarised, with its fields for those who may
 * edit, checked as typed with the server's own rule schema, so a rule that checks nothing says so
 * beside it (and the whole draft's check keeps Publish off).
 */
export function ContentRules({ policy, editable, onChange }: EditorProps) {
  const rules = policy.content ?? [];
  return (
    <section aria-label="Content rules" className="card">
      <h2>Content rules for drafts (raise a draft’s tier)</h2>
      {rules.length === 0 && <p>No content rule: a draft’s action tier alone decides.</p>}
      <ol>
        {rules.map((rule, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a rule has no identity but its place (and the list's length, so removing one refreshes the rest)
          <li key={`${index}/${rules.length}`}>
            {contentRuleSummary(rule)}
            {editable && (
              <ContentRuleFields
                index={index}
                rule={rule}
                onChange={(next) => onChange(withContentRule(policy, index, next))}
              />
            )}
          </li>
        ))}
      </ol>
      {editable && (
        <button type="button" onClick={() => onChange(withContentRule(policy, rules.length, newContentRule()))}>
          Add content rule
        </button>
      )}
    </section>
  );
}

function ContentRuleFields(props: { index: number; rule: ContentRule; onChange: (rule: ContentRule | null) => void }) {
  const { rule, onChange } = props;
  const checked = validate(contentRuleSchema, rule);
  return (
    <fieldset className="actions rule-fields">
      <legend>Content rule {props.index + 1}</legend>
      <label>
        Name <input value={rule.name} onChange={(event) => onChange({ ...rule, name: event.target.value })} />
      </label>
      <Choice label="Kind" options={CONTENT_KINDS} value={rule.kind} onChange={(kind) => onChange({ ...rule, kind })} />
      {rule.kind === 'personalisation' ? (
        <ListInput
          label="Merge fields allowed (comma-separated)"
          value={rule.allowedFields}
          onChange={(fields) => onChange(withOptional(rule, 'allowedFields', fields ?? []))}
        />
      ) : (
        <>
          <LinesInput
            label="Phrases, one a line (whole words, any case)"
            value={rule.phrases}
            onChange={(phrases) => onChange(withOptional(rule, 'phrases', phrases))}
          />
          <LinesInput
            label="Patterns, one a line (RE2 regular expressions)"
            value={rule.patterns}
            onChange={(patterns) => onChange(withOptional(rule, 'patterns', patterns))}
          />
        </>
      )}
      <Choice
        label="Raise to"
        options={RAISE_TIER_NAMES}
        value={rule.raiseTo}
        onChange={(raiseTo) => onChange({ ...rule, raiseTo })}
      />
      <Checks
        legend="Drafts (none: all)"
        options={DRAFT_ACTIONS}
        value={rule.actions}
        onChange={(actions) => onChange(withOptional(rule, 'actions', actions))}
      />
      <Checks
        legend="Agent roles (none: all)"
        options={MATRIX_ROLES}
        value={rule.roles}
        onChange={(roles) => onChange(withOptional(rule, 'roles', roles))}
      />
      <button type="button" onClick={() => onChange(null)}>
        Remove
      </button>
      {!checked.ok && <span role="alert">This rule {checked.message}</span>}
    </fieldset>
  );
}

/** A list typed one item a line; blank lines are left out, and no line at all leaves the list out. */
function LinesInput(props: {
  label: string;
  value: readonly string[] | undefined;
  onChange: (value: string[] | undefined) => void;
}) {
  const [text, setText] = useState((props.value ?? []).join('\n'));
  return (
    <label>
      {props.label}
      <textarea
        rows={3}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          props.onChange(linesFromText(event.target.value));
        }}
      />
    </label>
  );
}

/**
 * Record creation and governed reads (issue 21), per object type: who may create one and at what
 * tier, what a likely duplicate of an existing record does, and which properties each agent role
 * reads, in full or masked.
 */
export function RecordCreation({ policy, editable, onChange }: EditorProps) {
  return (
    <>
      {MATRIX_OBJECT_TYPES.map((objectType) => (
        <section key={objectType} aria-label={`Creating and reading ${objectType}`} className="card">
          <h2>{objectType}: creating records and governed reads</h2>
          <CreateTiers objectType={objectType} policy={policy} editable={editable} onChange={onChange} />
          <Reads objectType={objectType} policy={policy} editable={editable} onChange={onChange} />
        </section>
      ))}
    </>
  );
}

function CreateTiers({ objectType, policy, editable, onChange }: EditorProps & { objectType: ObjectType }) {
  const object = policy.objects[objectType];
  const duplicate = object?.onDuplicate ?? 'deny';
  return (
    <>
      <table>
        <caption>Creating a record, by agent role (not named: may not create)</caption>
        <thead>
          <tr>
            {MATRIX_ROLES.map((role) => (
              <th key={role}>{role}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {MATRIX_ROLES.map((role) => (
              <td key={role}>
                <TierSelect
                  label={`create ${objectType} ${role}`}
                  value={object?.create?.[role] ?? ''}
                  editable={editable}
                  allowNone
                  onChange={(tier) =>
                    onChange(
                      withObjectSetting(
                        policy,
                        objectType,
                        'create',
                        nonEmpty(withOptional(object?.create ?? {}, role, tier || undefined)),
                      ),
                    )
                  }
                />
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      <p>
        {editable ? (
          <label>
            A likely duplicate of an existing {objectType.slice(0, -1)} is{' '}
            <select
              value={duplicate}
              onChange={(event) =>
                onChange(
                  withObjectSetting(
                    policy,
                    objectType,
                    'onDuplicate',
                    // The default left out, as a document that never set it.
                    event.target.value === 'deny' ? undefined : (event.target.value as typeof duplicate),
                  ),
                )
              }
            >
              {DUPLICATE_CHOICES.map(([tier, label]) => (
                <option key={tier} value={tier}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        ) : (
          `A likely duplicate of an existing ${objectType.slice(0, -1)} is ${DUPLICATE_CHOICES.find(([tier]) => tier === duplicate)?.[1]}.`
        )}
      </p>
    </>
  );
}

function Reads({ objectType, policy, editable, onChange }: EditorProps & { objectType: ObjectType }) {
  const read = policy.objects[objectType]?.read ?? {};
  // A property added here shows until a role is given it; with no role it is not read, as if never named.
  const [added, setAdded] = useState<string[]>([]);
  const [property, setProperty] = useState('');
  const [error, setError] = useState<string | null>(null);
  const properties = [...new Set([...Object.keys(read), ...added])].sort();
  const add = () => {
    const checked = validate(propertyNameSchema, property.trim());
    if (!checked.ok) return setError(`The property ${checked.message}`);
    if (properties.includes(checked.value)) return setError(`${checked.value} is already listed.`);
    setError(null);
    setProperty('');
    setAdded([...added, checked.value]);
  };
  const set = (name: string, role: AgentRole | '*', access: string) =>
    onChange(
      withReadAccess(policy, {
        objectType,
        property: name,
        role,
        access: access === 'full' || access === 'masked' ? access : undefined,
      }),
    );
  return (
    <>
      {properties.length === 0 ? (
        <p>Agents read no {objectType} property through the governance API.</p>
      ) : (
        <table>
          <caption>Governed reads: property × agent role (* for the others) → full or masked</caption>
          <thead>
            <tr>
              <th>Property</th>
              {READ_ROLES.map((role) => (
                <th key={role}>{role}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {properties.map((name) => (
              <tr key={name}>
                <td>{name}</td>
                {READ_ROLES.map((role) => {
                  const access = read[name]?.[role] ?? '';
                  return (
                    <td key={role}>
                      {editable ? (
                        <select
                          aria-label={`read ${objectType} ${name} ${role}`}
                          value={access}
                          onChange={(event) => set(name, role, event.target.value)}
                        >
                          <option value="">not read</option>
                          <option value="full">full</option>
                          <option value="masked">masked</option>
                        </select>
                      ) : (
                        access || '—'
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editable && (
        <div className="actions">
          <label>
            Let agents read another {objectType} property{' '}
            <input value={property} onChange={(event) => setProperty(event.target.value)} />
          </label>
          <button type="button" onClick={add}>
            Add read property
          </button>
          {error && <span role="alert">{error}</span>}
        </div>
      )}
    </>
  );
}

/** An empty map of tiers left out of the policy, as a document that never named any. */
function nonEmpty<T extends object>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined;
}
