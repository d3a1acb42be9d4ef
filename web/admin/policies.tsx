/**
 * Policies. The load-balancing editor is the rule chain: rules are added, removed and moved up or down. Without
 * the page script each of those buttons posts the form and the server answers with the edited chain (nothing
 * saved until "Save"); with it, the same edits happen in the page. User group policies (dispatch, channels,
 * passcode overrides, self-service, RADIUS) and user integration policies (an AD group mapped to a group policy)
 * have forms of their own. Validation comes from the same schema and service as the admin API, and each message
 * is shown beside the field it is about.
 */
import { Hono } from 'hono';
import {
  GroupPolicyInput,
  IntegrationPolicyInput,
  LoadBalancingPolicyInput,
  SELF_SERVICE_FIELDS,
  type SelfServiceField,
} from '../../functions/contracts/admin.ts';
import { CHANNEL_KINDS } from '../../functions/contracts/channels.ts';
import { ID_PATTERN } from '../../functions/contracts/topics.ts';
import { AboveCeilingError } from '../../functions/core/admin-errors.ts';
import { DomainError, NotFoundError } from '../../functions/core/errors.ts';
import type {
  GroupPolicy,
  IntegrationPolicy,
  LoadBalancingPolicy,
} from '../../functions/core/ports/tenant-config.ts';
import {
  Badge,
  Checkbox,
  Empty,
  Field,
  FieldError,
  type FieldErrors,
  Notice,
  PostForm,
  Select,
  Table,
} from '../layout/components.tsx';
import {
  actorOf,
  type ConsoleContext,
  type ConsoleEnv,
  canWrite,
  csrfOf,
  formOf,
  tenantOf,
  valuesOf,
} from './context.ts';
import { domainErrors, numberOf, zodErrors } from './forms.ts';
import { consolePage } from './page.tsx';
import type { TenantPagesDeps } from './users.tsx';

const CHANNEL_LABEL: Record<string, string> = {
  sms_modem: 'SMS through a modem group',
  sms_web: 'SMS through a web provider',
  voice: 'Voice call',
  email: 'E-mail',
  totp: 'Authenticator app',
};
const TARGETS = [
  { value: 'primary', label: 'Primary mobile' },
  { value: 'secondary', label: 'Secondary mobile' },
  { value: 'email', label: 'E-mail address' },
];

interface RuleDraft {
  channel: string;
  target: string;
  route: string;
  timeoutSeconds: string;
  requireDeliveryReport: boolean;
}

interface Draft {
  name: string;
  description: string;
  fallbackPolicyId: string;
  rules: RuleDraft[];
}

const BLANK_RULE: RuleDraft = {
  channel: 'sms_modem',
  target: 'primary',
  route: '',
  timeoutSeconds: '60',
  requireDeliveryReport: false,
};

function draftOf(policy: LoadBalancingPolicy): Draft {
  return {
    name: policy.name,
    description: policy.description ?? '',
    fallbackPolicyId: policy.fallbackPolicyId ?? '',
    rules: policy.rules.map((r) => ({
      channel: r.channel,
      target: r.target,
      route: r.route ?? '',
      timeoutSeconds: String(r.timeoutSeconds),
      requireDeliveryReport: r.requireDeliveryReport === true,
    })),
  };
}

/** The posted form as a draft: rules in the order of their indices. */
function draftFromForm(form: Record<string, string>): Draft {
  const indices = [
    ...new Set(
      Object.keys(form)
        .map((k) => /^rules\.(\d+)\.channel$/.exec(k)?.[1])
        .filter((i): i is string => i !== undefined)
        .map(Number),
    ),
  ].sort((a, b) => a - b);
  return {
    name: form.name ?? '',
    description: form.description ?? '',
    fallbackPolicyId: form.fallbackPolicyId ?? '',
    rules: indices.slice(0, 16).map((i) => ({
      channel: form[`rules.${i}.channel`] ?? '',
      target: form[`rules.${i}.target`] ?? '',
      route: form[`rules.${i}.route`] ?? '',
      timeoutSeconds: form[`rules.${i}.timeoutSeconds`] ?? '',
      requireDeliveryReport: form[`rules.${i}.requireDeliveryReport`] === 'on',
    })),
  };
}

function inputOf(draft: Draft) {
  return {
    name: draft.name.trim(),
    ...(draft.description.trim() && { description: draft.description.trim() }),
    fallbackPolicyId: draft.fallbackPolicyId || null,
    rules: draft.rules.map((r) => ({
      channel: r.channel,
      target: r.target,
      route: r.route || null,
      timeoutSeconds: numberOf(r.timeoutSeconds),
      ...(r.requireDeliveryReport && { requireDeliveryReport: true }),
    })),
  };
}

/** Applies one of the editor's buttons (`add`, `up:2`, `down:0`, `remove:1`) to the draft. */
function edit(draft: Draft, op: string): Draft {
  const rules = [...draft.rules];
  const [verb, at] = op.split(':');
  const i = Number(at);
  if (verb === 'add' && rules.length < 16) rules.push({ ...BLANK_RULE });
  if (verb === 'remove' && rules[i]) rules.splice(i, 1);
  if (verb === 'up' && i > 0 && rules[i]) [rules[i - 1], rules[i]] = [rules[i]!, rules[i - 1]!];
  if (verb === 'down' && rules[i + 1]) [rules[i], rules[i + 1]] = [rules[i + 1]!, rules[i]!];
  return { ...draft, rules };
}

export function policyPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  app.get('/', async (c) => {
    const tenantId = tenantOf(c);
    const [lb, groups, integration] = await Promise.all([
      deps.config.list(tenantId, 'loadBalancing'),
      deps.config.list(tenantId, 'group'),
      deps.config.list(tenantId, 'integration'),
    ]);
    const lbName = new Map(lb.map((p) => [p.id, p.name]));
    const groupName = new Map(groups.map((p) => [p.id, p.name]));
    return consolePage(
      c,
      'Policies',
      <>
        <h2 id="h-lb">Load-balancing policies</h2>
        <p>Each is a rule chain: when a rule fails or times out, the next one runs.</p>
        {lb.length === 0 ? (
          <Empty>
            No load-balancing policies: every login sends one SMS through the default modem group.
          </Empty>
        ) : (
          <Table caption="Load-balancing policies" head={['Name', 'Rules', 'Fallback']}>
            {lb.map((p) => (
              <tr>
                <td>
                  <a href={`/admin/policies/lb/${p.id}`}>{p.name}</a>
                </td>
                <td>{p.rules.map((r) => CHANNEL_LABEL[r.channel]).join(' → ')}</td>
                <td>{p.fallbackPolicyId ? (lbName.get(p.fallbackPolicyId) ?? p.fallbackPolicyId) : '—'}</td>
              </tr>
            ))}
          </Table>
        )}
        {canWrite(c) && (
          <p>
            <a class="button" href="/admin/policies/lb/new">
              New load-balancing policy
            </a>
          </p>
        )}
        <h2 id="h-groups">User group policies</h2>
        {groups.length === 0 ? (
          <Empty>No user group policies: users get the tenant's settings.</Empty>
        ) : (
          <Table caption="User group policies" head={['Name', 'Dispatch', 'Channels', 'Self-service']}>
            {groups.map((g) => (
              <tr>
                <td>
                  <a href={`/admin/policies/groups/${g.id}`}>{g.name}</a>
                </td>
                <td>
                  {g.loadBalancingPolicyId
                    ? (lbName.get(g.loadBalancingPolicyId) ?? g.loadBalancingPolicyId)
                    : 'default modem group'}
                </td>
                <td>{g.channels.join(', ')}</td>
                <td>
                  {g.selfService.enabled ? <Badge tone="ok">on</Badge> : <Badge tone="muted">off</Badge>}
                </td>
              </tr>
            ))}
          </Table>
        )}
        {canWrite(c) && (
          <p>
            <a class="button" href="/admin/policies/groups/new">
              New user group policy
            </a>
          </p>
        )}
        <h2 id="h-integration">User integration policies</h2>
        {integration.length === 0 ? (
          <Empty>No AD group is mapped to a user group policy yet.</Empty>
        ) : (
          <Table
            caption="User integration policies"
            head={['AD group', 'Domain', 'User group policy', 'Priority']}
          >
            {integration.map((p) => (
              <tr>
                <td class="mono">
                  <a href={`/admin/policies/integration/${p.id}`}>{p.groupDn}</a>
                </td>
                <td>{p.domain}</td>
                <td>{groupName.get(p.groupPolicyId) ?? p.groupPolicyId}</td>
                <td>{p.priority}</td>
              </tr>
            ))}
          </Table>
        )}
        {canWrite(c) && groups.length > 0 && (
          <p>
            <a class="button" href="/admin/policies/integration/new">
              New user integration policy
            </a>
          </p>
        )}
      </>,
    );
  });

  const editor = async (
    c: ConsoleContext,
    id: string | undefined,
    draft: Draft,
    errors: FieldErrors = {},
    saved = false,
  ) => {
    const tenantId = tenantOf(c);
    const [groups, providers, policies] = await Promise.all([
      deps.config.list(tenantId, 'modemGroup'),
      deps.config.list(tenantId, 'provider'),
      deps.config.list(tenantId, 'loadBalancing'),
    ]);
    const routes = [
      { value: '', label: 'None / default' },
      ...groups.map((g) => ({ value: g.name, label: `Modem group: ${g.name}` })),
      ...providers.map((p) => ({ value: p.name, label: `${p.kind} provider: ${p.name}` })),
    ];
    const action = id ? `/admin/policies/lb/${id}` : '/admin/policies/lb/new';
    const write = canWrite(c);
    const n = draft.rules.length;
    return consolePage(
      c,
      id ? `Policy: ${draft.name || id}` : 'New load-balancing policy',
      <>
        {saved && <Notice kind="ok">Saved.</Notice>}
        {errors[''] && <Notice kind="error">{errors['']}</Notice>}
        <PostForm action={action} csrf={csrfOf(c)}>
          <Field name="name" label="Name" value={draft.name} errors={errors} required />
          <Field name="description" label="Description" value={draft.description} errors={errors} />
          <Select
            name="fallbackPolicyId"
            label="When every rule failed, run"
            value={draft.fallbackPolicyId}
            errors={errors}
            options={[
              { value: '', label: 'Nothing (the login fails)' },
              ...policies.filter((p) => p.id !== id).map((p) => ({ value: p.id, label: p.name })),
            ]}
          />
          <fieldset>
            <legend>Rule chain</legend>
            <FieldError id="f-rules-error" message={errors.rules} />
            {n === 0 && <Empty>No rules yet. Add the first one.</Empty>}
            <ol class="chain" data-chain="">
              {draft.rules.map((r, i) => (
                <li>
                  <div class="rule-head">
                    <strong class="rule-no">Rule {i + 1}</strong>
                    {write && (
                      <span class="actions">
                        <button
                          type="submit"
                          name="op"
                          value={`up:${i}`}
                          class="small secondary"
                          disabled={i === 0}
                        >
                          Move up
                        </button>
                        <button
                          type="submit"
                          name="op"
                          value={`down:${i}`}
                          class="small secondary"
                          disabled={i === n - 1}
                        >
                          Move down
                        </button>
                        <button type="submit" name="op" value={`remove:${i}`} class="small secondary">
                          Remove
                        </button>
                      </span>
                    )}
                  </div>
                  <div class="rule-fields">
                    <Select
                      name={`rules.${i}.channel`}
                      label="Channel"
                      value={r.channel}
                      errors={errors}
                      options={CHANNEL_KINDS.map((k) => ({ value: k, label: CHANNEL_LABEL[k] ?? k }))}
                    />
                    <Select
                      name={`rules.${i}.target`}
                      label="Send to"
                      value={r.target}
                      errors={errors}
                      options={TARGETS}
                    />
                    <Select
                      name={`rules.${i}.route`}
                      label="Route"
                      value={r.route}
                      errors={errors}
                      options={routes}
                    />
                    <Field
                      name={`rules.${i}.timeoutSeconds`}
                      label="Timeout (seconds)"
                      type="number"
                      min={5}
                      max={900}
                      value={r.timeoutSeconds}
                      errors={errors}
                    />
                  </div>
                  <Checkbox
                    name={`rules.${i}.requireDeliveryReport`}
                    label="Wait for the delivery report before counting the rule as done"
                    checked={r.requireDeliveryReport}
                  />
                </li>
              ))}
            </ol>
            {write && n < 16 && (
              <button type="submit" name="op" value="add" class="secondary">
                Add a rule
              </button>
            )}
          </fieldset>
          {write && (
            <div class="actions">
              <button type="submit" name="op" value="save">
                Save policy
              </button>
              <a href="/admin/policies">Back to policies</a>
            </div>
          )}
        </PostForm>
        {id && write && (
          <PostForm action={`/admin/policies/lb/${id}/delete`} csrf={csrfOf(c)} confirm="Delete this policy?">
            <button type="submit" class="danger">
              Delete policy
            </button>
          </PostForm>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  const idOf = (raw: string) => {
    if (!ID_PATTERN.test(raw)) return undefined;
    return raw;
  };

  app.get('/lb/new', (c) =>
    editor(c, undefined, { name: '', description: '', fallbackPolicyId: '', rules: [{ ...BLANK_RULE }] }),
  );
  app.get('/lb/:id', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    return editor(c, id, draftOf(await deps.config.get(tenantOf(c), 'loadBalancing', id)));
  });

  const save = async (c: ConsoleContext, id: string | undefined) => {
    if (id) await deps.config.get(tenantOf(c), 'loadBalancing', id);
    const form = await formOf(c);
    const draft = draftFromForm(form);
    const op = form.op ?? 'save';
    if (op !== 'save') return editor(c, id, edit(draft, op));
    const parsed = LoadBalancingPolicyInput.safeParse(inputOf(draft));
    if (!parsed.success) return editor(c, id, draft, zodErrors(parsed.error));
    try {
      const saved = id
        ? await deps.config.replace(tenantOf(c), actorOf(c), 'loadBalancing', id, parsed.data)
        : await deps.config.create(tenantOf(c), actorOf(c), 'loadBalancing', parsed.data as never);
      return editor(c, saved.id, draftOf(saved), {}, true);
    } catch (error) {
      const errors = domainErrors(error);
      if (errors[''] && /at least one rule|empty/i.test(errors[''])) errors.rules = errors[''];
      return editor(c, id, draft, errors);
    }
  };
  app.post('/lb/new', (c) => save(c, undefined));
  app.post('/lb/:id', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    return save(c, id);
  });
  app.post('/lb/:id/delete', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    try {
      await deps.config.remove(tenantOf(c), actorOf(c), 'loadBalancing', id);
    } catch (error) {
      const policy = await deps.config.get(tenantOf(c), 'loadBalancing', id);
      return editor(c, id, draftOf(policy), domainErrors(error));
    }
    return c.redirect('/admin/policies', 303);
  });
  groupPolicyRoutes(app, deps);
  integrationRoutes(app, deps);
  return app;
}

const SELF_SERVICE_LABEL: Record<SelfServiceField, string> = {
  smsType: 'SMS type (flash or normal)',
  mobile: 'Mobile number',
  secondaryMobile: 'Secondary mobile number',
  pin: 'PIN',
  personalPasscode: 'Personal passcode',
  authenticator: 'Authenticator app',
};
const PASSCODE_NUMBERS = [
  { name: 'length', label: 'Passcode length' },
  { name: 'validitySeconds', label: 'Passcode valid for (seconds)' },
  { name: 'maxAttempts', label: 'Attempts per passcode' },
] as const;

/** A group policy's form as typed: every field a string, so a bad value comes back as it was typed. */
interface GroupDraft {
  name: string;
  description: string;
  loadBalancingPolicyId: string;
  channels: string[];
  passcode: Record<
    'length' | 'validitySeconds' | 'maxAttempts' | 'alphabet' | 'flash' | 'messageTemplate',
    string
  >;
  selfServiceEnabled: boolean;
  selfServiceFields: string[];
  secondaryPhone: boolean;
  /** `inherit`: the tenant's host; `off`: none for this group; `host`: the one typed. */
  webOtpMode: string;
  webOtpOrigin: string;
  radiusClass: string;
  radiusFilterId: string;
}

const BLANK_GROUP: GroupDraft = {
  name: '',
  description: '',
  loadBalancingPolicyId: '',
  channels: ['sms_modem'],
  passcode: {
    length: '',
    validitySeconds: '',
    maxAttempts: '',
    alphabet: '',
    flash: '',
    messageTemplate: '',
  },
  selfServiceEnabled: false,
  selfServiceFields: [],
  secondaryPhone: true,
  webOtpMode: 'inherit',
  webOtpOrigin: '',
  radiusClass: '',
  radiusFilterId: '',
};

function groupDraftOf(g: GroupPolicy): GroupDraft {
  const p = g.passcode ?? {};
  const text = (v: unknown) => (v === undefined ? '' : String(v));
  return {
    name: g.name,
    description: g.description ?? '',
    loadBalancingPolicyId: g.loadBalancingPolicyId ?? '',
    channels: [...g.channels],
    passcode: {
      length: text(p.length),
      validitySeconds: text(p.validitySeconds),
      maxAttempts: text(p.maxAttempts),
      alphabet: text(p.alphabet),
      flash: text(p.flash),
      messageTemplate: text(p.messageTemplate),
    },
    selfServiceEnabled: g.selfService.enabled,
    selfServiceFields: [...g.selfService.fields],
    secondaryPhone: g.secondaryPhone,
    webOtpMode: g.webOtpOrigin === undefined ? 'inherit' : g.webOtpOrigin === null ? 'off' : 'host',
    webOtpOrigin: g.webOtpOrigin ?? '',
    radiusClass: g.radius?.class ?? '',
    radiusFilterId: g.radius?.filterId ?? '',
  };
}

async function groupDraftFromForm(c: ConsoleContext): Promise<GroupDraft> {
  const form = await formOf(c);
  return {
    name: form.name ?? '',
    description: form.description ?? '',
    loadBalancingPolicyId: form.loadBalancingPolicyId ?? '',
    channels: await valuesOf(c, 'channels'),
    passcode: {
      length: form['passcode.length'] ?? '',
      validitySeconds: form['passcode.validitySeconds'] ?? '',
      maxAttempts: form['passcode.maxAttempts'] ?? '',
      alphabet: form['passcode.alphabet'] ?? '',
      flash: form['passcode.flash'] ?? '',
      messageTemplate: form['passcode.messageTemplate'] ?? '',
    },
    selfServiceEnabled: form['selfService.enabled'] === 'on',
    selfServiceFields: await valuesOf(c, 'selfService.fields'),
    secondaryPhone: form.secondaryPhone === 'on',
    webOtpMode: form.webOtpMode ?? 'inherit',
    webOtpOrigin: form.webOtpOrigin ?? '',
    radiusClass: form['radius.class'] ?? '',
    radiusFilterId: form['radius.filterId'] ?? '',
  };
}

/** The draft as the API's request body: empty overrides are left out, so the tenant's values apply. */
function groupInputOf(d: GroupDraft) {
  const p = d.passcode;
  const passcode = {
    ...(p.length.trim() && { length: numberOf(p.length) }),
    ...(p.validitySeconds.trim() && { validitySeconds: numberOf(p.validitySeconds) }),
    ...(p.maxAttempts.trim() && { maxAttempts: numberOf(p.maxAttempts) }),
    ...(p.alphabet && { alphabet: p.alphabet }),
    ...(p.flash && { flash: p.flash === 'true' }),
    ...(p.messageTemplate.trim() && { messageTemplate: p.messageTemplate }),
  };
  const radius = {
    ...(d.radiusClass.trim() && { class: d.radiusClass.trim() }),
    ...(d.radiusFilterId.trim() && { filterId: d.radiusFilterId.trim() }),
  };
  return {
    name: d.name.trim(),
    ...(d.description.trim() && { description: d.description.trim() }),
    loadBalancingPolicyId: d.loadBalancingPolicyId || null,
    channels: d.channels,
    ...(Object.keys(passcode).length > 0 && { passcode }),
    selfService: { enabled: d.selfServiceEnabled, fields: d.selfServiceEnabled ? d.selfServiceFields : [] },
    secondaryPhone: d.secondaryPhone,
    ...(d.webOtpMode === 'off' && { webOtpOrigin: null }),
    ...(d.webOtpMode === 'host' && { webOtpOrigin: d.webOtpOrigin.trim() }),
    ...(Object.keys(radius).length > 0 && { radius }),
  };
}

/** The service's refusals of a group policy, beside the field each is about. */
function groupErrors(error: unknown): FieldErrors {
  if (error instanceof AboveCeilingError) {
    const out: FieldErrors = { '': error.message };
    for (const part of error.fields) {
      const name = /^(\w+)/.exec(part)?.[1];
      if (name) out[`passcode.${name}`] ??= `${error.message.split(':')[0]}: ${part}.`;
    }
    return out;
  }
  const errors = domainErrors(error);
  const message = errors[''];
  if (message && error instanceof DomainError) {
    if (error.code === 'missing_reference') errors.loadBalancingPolicyId = message;
    if (error.code === 'weak_passcode') errors['passcode.length'] = message;
  }
  return errors;
}

/** The error of the whole form, or else a pointer to the messages beside the fields. */
function ErrorSummary(props: { errors: FieldErrors; what: string }) {
  if (props.errors['']) return <Notice kind="error">{props.errors['']}</Notice>;
  if (Object.keys(props.errors).length === 0) return null;
  return <Notice kind="error">{props.what} was not saved: see the messages beside the fields.</Notice>;
}

/** A checkbox group (one name, many values) with its legend and its error. */
function CheckboxGroup(props: {
  name: string;
  legend: string;
  options: Array<{ value: string; label: string }>;
  checked: string[];
  errors: FieldErrors;
}) {
  const id = `f-${props.name.replace(/[^A-Za-z0-9_-]/g, '-')}-error`;
  return (
    <fieldset aria-describedby={props.errors[props.name] ? id : undefined}>
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <Checkbox
          name={props.name}
          value={o.value}
          label={o.label}
          checked={props.checked.includes(o.value)}
        />
      ))}
      <FieldError id={id} message={props.errors[props.name]} />
    </fieldset>
  );
}

function groupPolicyRoutes(app: Hono<ConsoleEnv>, deps: TenantPagesDeps) {
  const editor = async (
    c: ConsoleContext,
    id: string | undefined,
    d: GroupDraft,
    errors: FieldErrors = {},
    saved = false,
  ) => {
    const lb = await deps.config.list(tenantOf(c), 'loadBalancing');
    const write = canWrite(c);
    const action = id ? `/admin/policies/groups/${id}` : '/admin/policies/groups/new';
    return consolePage(
      c,
      id ? `Group policy: ${d.name || id}` : 'New user group policy',
      <>
        {saved && <Notice kind="ok">Saved.</Notice>}
        <ErrorSummary errors={errors} what="The group policy" />
        <PostForm action={action} csrf={csrfOf(c)}>
          <Field name="name" label="Name" value={d.name} errors={errors} required />
          <Field name="description" label="Description (optional)" value={d.description} errors={errors} />
          <Select
            name="loadBalancingPolicyId"
            label="Dispatch (load-balancing policy)"
            value={d.loadBalancingPolicyId}
            errors={errors}
            options={[
              { value: '', label: "The tenant's default modem group" },
              ...lb.map((p) => ({ value: p.id, label: p.name })),
            ]}
          />
          <CheckboxGroup
            name="channels"
            legend="Channels the group's users may get passcodes by"
            options={CHANNEL_KINDS.map((k) => ({ value: k, label: CHANNEL_LABEL[k] ?? k }))}
            checked={d.channels}
            errors={errors}
          />
          <div class="field">
            <Checkbox
              name="secondaryPhone"
              label="A secondary mobile may be used"
              checked={d.secondaryPhone}
            />
          </div>
          <fieldset>
            <legend>Passcode (empty: the tenant's setting)</legend>
            {PASSCODE_NUMBERS.map((f) => (
              <Field
                name={`passcode.${f.name}`}
                label={f.label}
                type="number"
                inputmode="numeric"
                value={d.passcode[f.name]}
                errors={errors}
              />
            ))}
            <Select
              name="passcode.alphabet"
              label="Characters"
              value={d.passcode.alphabet}
              errors={errors}
              options={[
                { value: '', label: "The tenant's" },
                { value: 'numeric', label: 'Digits' },
                { value: 'alphanumeric', label: 'Letters and digits' },
                { value: 'memo', label: 'Easy to remember' },
              ]}
            />
            <Select
              name="passcode.flash"
              label="Flash SMS (shown at once, not stored on the phone)"
              value={d.passcode.flash}
              errors={errors}
              options={[
                { value: '', label: "The tenant's" },
                { value: 'true', label: 'Yes' },
                { value: 'false', label: 'No' },
              ]}
            />
            <Field
              name="passcode.messageTemplate"
              label="Message"
              value={d.passcode.messageTemplate}
              hint="Must contain {code}; {minutes}, {ip} and {client} are filled in too."
              errors={errors}
            />
          </fieldset>
          <fieldset>
            <legend>Self-service portal</legend>
            <Checkbox
              name="selfService.enabled"
              label="The group's users may sign in to the portal"
              checked={d.selfServiceEnabled}
            />
            <CheckboxGroup
              name="selfService.fields"
              legend="What they may change there"
              options={SELF_SERVICE_FIELDS.map((f) => ({ value: f, label: SELF_SERVICE_LABEL[f] }))}
              checked={d.selfServiceFields}
              errors={errors}
            />
          </fieldset>
          <fieldset>
            <legend>Login page and RADIUS</legend>
            <Select
              name="webOtpMode"
              label="Origin-bound code line"
              value={d.webOtpMode}
              options={[
                { value: 'inherit', label: "The tenant's login page host" },
                { value: 'off', label: 'Off for this group' },
                { value: 'host', label: 'This host:' },
              ]}
            />
            <Field
              name="webOtpOrigin"
              label="Login page host"
              value={d.webOtpOrigin}
              hint="Used when “This host” is chosen, e.g. vpn.example.com."
              errors={errors}
            />
            <Field
              name="radius.class"
              label="RADIUS Class (optional)"
              value={d.radiusClass}
              errors={errors}
            />
            <Field
              name="radius.filterId"
              label="RADIUS Filter-Id (optional)"
              value={d.radiusFilterId}
              errors={errors}
            />
          </fieldset>
          {write && (
            <div class="actions">
              <button type="submit">Save group policy</button>
              <a href="/admin/policies">Back to policies</a>
            </div>
          )}
        </PostForm>
        {id && write && (
          <PostForm
            action={`/admin/policies/groups/${id}/delete`}
            csrf={csrfOf(c)}
            confirm="Delete this group policy?"
          >
            <button type="submit" class="danger">
              Delete group policy
            </button>
          </PostForm>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  const idParam = (c: ConsoleContext) => {
    const id = c.req.param('id') ?? '';
    if (!ID_PATTERN.test(id)) throw new NotFoundError('The user group policy');
    return id;
  };
  const save = async (c: ConsoleContext, id: string | undefined) => {
    if (id) await deps.config.get(tenantOf(c), 'group', id);
    const draft = await groupDraftFromForm(c);
    const parsed = GroupPolicyInput.safeParse(groupInputOf(draft));
    if (!parsed.success) return editor(c, id, draft, zodErrors(parsed.error));
    try {
      if (!id) {
        const created = await deps.config.create(tenantOf(c), actorOf(c), 'group', parsed.data as never);
        // To the new policy's own page: a reload there shows it, and does not create a second one.
        return c.redirect(`/admin/policies/groups/${created.id}?saved=1`, 303);
      }
      const saved = await deps.config.replace(
        tenantOf(c),
        actorOf(c),
        'group',
        id,
        parsed.data as Partial<GroupPolicy>,
      );
      return editor(c, saved.id, groupDraftOf(saved), {}, true);
    } catch (error) {
      return editor(c, id, draft, groupErrors(error));
    }
  };

  app.get('/groups/new', (c) => editor(c, undefined, { ...BLANK_GROUP }));
  app.post('/groups/new', (c) => save(c, undefined));
  app.get('/groups/:id', async (c) => {
    const id = idParam(c);
    const policy = await deps.config.get(tenantOf(c), 'group', id);
    return editor(c, id, groupDraftOf(policy), {}, c.req.query('saved') === '1');
  });
  app.post('/groups/:id', (c) => save(c, idParam(c)));
  app.post('/groups/:id/delete', async (c) => {
    const id = idParam(c);
    const policy = await deps.config.get(tenantOf(c), 'group', id);
    try {
      await deps.config.remove(tenantOf(c), actorOf(c), 'group', id);
    } catch (error) {
      return editor(c, id, groupDraftOf(policy), domainErrors(error));
    }
    return c.redirect('/admin/policies', 303);
  });
}

interface IntegrationDraft {
  domain: string;
  groupDn: string;
  groupPolicyId: string;
  priority: string;
}

function integrationRoutes(app: Hono<ConsoleEnv>, deps: TenantPagesDeps) {
  const editor = async (
    c: ConsoleContext,
    id: string | undefined,
    d: IntegrationDraft,
    errors: FieldErrors = {},
    saved = false,
  ) => {
    const groups = await deps.config.list(tenantOf(c), 'group');
    const write = canWrite(c);
    const action = id ? `/admin/policies/integration/${id}` : '/admin/policies/integration/new';
    return consolePage(
      c,
      id ? 'User integration policy' : 'New user integration policy',
      <>
        {saved && <Notice kind="ok">Saved. The next AD sync places the group's members by it.</Notice>}
        <ErrorSummary errors={errors} what="The integration policy" />
        {groups.length === 0 ? (
          <Empty>
            An integration policy maps an AD group to a user group policy, and there are none yet.{' '}
            <a href="/admin/policies/groups/new">Create a user group policy</a> first.
          </Empty>
        ) : (
          <PostForm action={action} csrf={csrfOf(c)}>
            <Field
              name="domain"
              label="AD domain"
              value={d.domain}
              hint="The DNS domain, e.g. corp.example.test."
              errors={errors}
              required
            />
            <Field
              name="groupDn"
              label="AD group (distinguished name)"
              value={d.groupDn}
              hint="e.g. CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=test"
              errors={errors}
              required
            />
            <Select
              name="groupPolicyId"
              label="User group policy of its members"
              value={d.groupPolicyId}
              errors={errors}
              options={groups.map((g) => ({ value: g.id, label: g.name }))}
            />
            <Field
              name="priority"
              label="Priority"
              type="number"
              inputmode="numeric"
              value={d.priority}
              hint="0–10000. A user in several mapped groups gets the policy of the highest priority."
              errors={errors}
              required
            />
            {write && (
              <div class="actions">
                <button type="submit">Save integration policy</button>
                <a href="/admin/policies">Back to policies</a>
              </div>
            )}
          </PostForm>
        )}
        {id && write && (
          <PostForm
            action={`/admin/policies/integration/${id}/delete`}
            csrf={csrfOf(c)}
            confirm="Delete this integration policy? The next AD sync no longer maps this group."
          >
            <button type="submit" class="danger">
              Delete integration policy
            </button>
          </PostForm>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  const draftOfPolicy = (p: IntegrationPolicy): IntegrationDraft => ({
    domain: p.domain,
    groupDn: p.groupDn,
    groupPolicyId: p.groupPolicyId,
    priority: String(p.priority),
  });
  const idParam = (c: ConsoleContext) => {
    const id = c.req.param('id') ?? '';
    if (!ID_PATTERN.test(id)) throw new NotFoundError('The user integration policy');
    return id;
  };
  const save = async (c: ConsoleContext, id: string | undefined) => {
    if (id) await deps.config.get(tenantOf(c), 'integration', id);
    const form = await formOf(c);
    const draft: IntegrationDraft = {
      domain: (form.domain ?? '').trim(),
      groupDn: (form.groupDn ?? '').trim(),
      groupPolicyId: form.groupPolicyId ?? '',
      priority: form.priority ?? '',
    };
    const parsed = IntegrationPolicyInput.safeParse({ ...draft, priority: numberOf(draft.priority) });
    if (!parsed.success) return editor(c, id, draft, zodErrors(parsed.error));
    try {
      if (!id) {
        const created = await deps.config.create(
          tenantOf(c),
          actorOf(c),
          'integration',
          parsed.data as never,
        );
        return c.redirect(`/admin/policies/integration/${created.id}?saved=1`, 303);
      }
      const saved = await deps.config.replace(tenantOf(c), actorOf(c), 'integration', id, parsed.data);
      return editor(c, saved.id, draftOfPolicy(saved), {}, true);
    } catch (error) {
      const errors = domainErrors(error);
      if (error instanceof DomainError && error.code === 'missing_reference')
        errors.groupPolicyId = error.message;
      if (error instanceof DomainError && error.code === 'already_exists') errors.groupDn = error.message;
      return editor(c, id, draft, errors);
    }
  };

  app.get('/integration/new', (c) =>
    editor(c, undefined, { domain: '', groupDn: '', groupPolicyId: '', priority: '10' }),
  );
  app.post('/integration/new', (c) => save(c, undefined));
  app.get('/integration/:id', async (c) => {
    const id = idParam(c);
    const policy = await deps.config.get(tenantOf(c), 'integration', id);
    return editor(c, id, draftOfPolicy(policy), {}, c.req.query('saved') === '1');
  });
  app.post('/integration/:id', (c) => save(c, idParam(c)));
  app.post('/integration/:id/delete', async (c) => {
    const id = idParam(c);
    const policy = await deps.config.get(tenantOf(c), 'integration', id);
    try {
      await deps.config.remove(tenantOf(c), actorOf(c), 'integration', id);
    } catch (error) {
      return editor(c, id, draftOfPolicy(policy), domainErrors(error));
    }
    return c.redirect('/admin/policies', 303);
  });
}
