/**
 * Policies. The load-balancing editor is the rule chain: rules are added, removed and moved up or down. Without
 * the page script each of those buttons posts the form and the server answers with the edited chain (nothing
 * saved until "Save"); with it, the same edits happen in the page. Validation comes from the same schema and
 * service as the admin API, and each message is shown beside the field it is about.
 */
import { Hono } from 'hono';
import { LoadBalancingPolicyInput } from '../../functions/contracts/admin.ts';
import { CHANNEL_KINDS } from '../../functions/contracts/channels.ts';
import { ID_PATTERN } from '../../functions/contracts/topics.ts';
import type { LoadBalancingPolicy } from '../../functions/core/ports/tenant-config.ts';
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
                <td>{g.name}</td>
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
                <td class="mono">{p.groupDn}</td>
                <td>{p.domain}</td>
                <td>{groupName.get(p.groupPolicyId) ?? p.groupPolicyId}</td>
                <td>{p.priority}</td>
              </tr>
            ))}
          </Table>
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
  return app;
}
