/**
 * Edge agents and their modems: register an agent (its one-time enrolment command is shown once), the list
 * with offline agents first and marked, an agent's modems with their signal over time, queue, retransmissions,
 * last error, registration and network, rename, modem groups and delete. Modem groups have their own page.
 * Every read and change goes through the agent and configuration services the admin API uses.
 */
import { Hono } from 'hono';
import { ModemGroupInput } from '../../functions/contracts/admin.ts';
import { AgentCreateRequest, AgentPatchRequest } from '../../functions/contracts/agents.ts';
import { ID_PATTERN } from '../../functions/contracts/topics.ts';
import type { AgentService } from '../../functions/core/agents.ts';
import { DomainError } from '../../functions/core/errors.ts';
import type { ModemReport } from '../../functions/core/ports/directory.ts';
import {
  Badge,
  Checkbox,
  Empty,
  Field,
  FieldError,
  type FieldErrors,
  Notice,
  PostForm,
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
import { domainErrors, zodErrors } from './forms.ts';
import { EVENT_LABEL } from './logs.tsx';
import { consolePage } from './page.tsx';
import { when } from './paging.ts';
import { SignalChart, signalText } from './signal-chart.tsx';
import { keyActorOf, type TenantPagesDeps } from './users.tsx';

export type AgentPagesDeps = Pick<TenantPagesDeps, 'agents' | 'config' | 'directory' | 'serviceEvents'>;

type AgentView = Awaited<ReturnType<AgentService['list']>>[number];

/** Reports kept for an agent's chart (the store keeps at most 100 a modem). */
const CHART_REPORTS = 60;

/** What the sysadmin runs on the box (the agent as its archive installs it). */
const enrolCommand = (apiUrl: string, token: string) =>
  `node /opt/smspass-edge-agent/index.mjs enroll --url ${apiUrl} --token ${token} --config /etc/smspass-edge-agent/config.yaml`;

const agentHref = (agentId: string) => `/admin/agents/${encodeURIComponent(agentId)}`;
const stateRank = (a: AgentView) => (a.state === 'offline' ? 0 : a.state === 'unknown' ? 1 : 2);

function StateBadge(props: { agent: Pick<AgentView, 'state' | 'enrolled'> }) {
  const { state, enrolled } = props.agent;
  if (state === 'online') return <Badge tone="ok">online</Badge>;
  if (state === 'offline') return <Badge tone="bad">offline</Badge>;
  return <Badge tone="muted">{enrolled ? 'not connected yet' : 'waiting for enrolment'}</Badge>;
}

/** The field a message of the agent schema or service belongs beside. */
function agentErrors(error: unknown): FieldErrors {
  if (error instanceof DomainError && error.code === 'already_exists')
    return { agentId: 'An agent with this id exists already: choose another id.' };
  const errors = domainErrors(error);
  const lead = errors[''] && /^(agentId|displayName|modemGroups): (.*)$/.exec(errors['']);
  return lead ? { [lead[1]!]: lead[2]! } : errors;
}

/** zod's paths of a list (`modemGroups.0`) stand beside the list's fieldset. */
function listErrors(errors: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, message] of Object.entries(errors))
    out[path.replace(/^modemGroups\.\d+$/, 'modemGroups')] ??= message;
  return out;
}

/** The tenant's modem groups, sorted, with its default group first (what a new agent serves unless told). */
async function groupNames(deps: AgentPagesDeps, tenantId: string): Promise<string[]> {
  const [groups, tenant] = await Promise.all([
    deps.config.list(tenantId, 'modemGroup'),
    deps.directory.getTenant(tenantId),
  ]);
  const fallback = tenant?.defaultModemGroup;
  const others = groups.map((g) => g.name).filter((name) => name !== fallback);
  return [...(fallback ? [fallback] : []), ...others.sort()];
}

function GroupChoices(props: { groups: string[]; checked: string[]; errors?: FieldErrors | undefined }) {
  const error = props.errors?.modemGroups;
  return (
    <fieldset
      class={error ? 'invalid' : undefined}
      aria-describedby={error ? 'f-modemGroups-error' : undefined}
    >
      <legend>Modem groups it serves</legend>
      {props.groups.length === 0 ? (
        <Empty>No modem groups yet: create one on the Modem groups page.</Empty>
      ) : (
        props.groups.map((g) => (
          <Checkbox name="modemGroups" value={g} label={g} checked={props.checked.includes(g)} />
        ))
      )}
      <FieldError id="f-modemGroups-error" message={error} />
    </fieldset>
  );
}

export function agentPages(deps: AgentPagesDeps) {
  const app = new Hono<ConsoleEnv>();
  const service = (_c: ConsoleContext) => {
    if (!deps.agents)
      throw new DomainError('delivery_unavailable', 'Agents cannot be managed in this deployment.');
    return deps.agents;
  };

  const listPage = async (
    c: ConsoleContext,
    form: {
      values?: Record<string, string>;
      groups?: string[];
      errors?: FieldErrors;
      registered?: { agentId: string; token: string; expiresAt: string };
      deleted?: string;
    } = {},
  ) => {
    const tenantId = tenantOf(c);
    const [agents, groups] = await Promise.all([service(c).list(keyActorOf(c)), groupNames(deps, tenantId)]);
    // The routing view keeps each modem's latest health on the agent: enough for the list, no history read.
    const records = new Map(
      (await deps.directory.listAgents(tenantId)).map((a) => [a.agentId, Object.values(a.modems ?? {})]),
    );
    agents.sort((a, b) => stateRank(a) - stateRank(b) || a.agentId.localeCompare(b.agentId));
    const offline = agents.filter((a) => a.state === 'offline');
    const write = canWrite(c);
    const v = form.values ?? {};
    const errors = form.errors;
    const origin = new URL(c.req.url).origin;
    return consolePage(
      c,
      'Agents',
      <>
        {form.registered && (
          <Notice kind="ok">
            <p>
              Agent “{form.registered.agentId}” is registered. On the agent's box, run this command before{' '}
              {when(form.registered.expiresAt)}. The token in it is shown <strong>only this once</strong> and
              works once.
            </p>
            <pre class="secret" id="enrol-command">
              <code>{enrolCommand(origin, form.registered.token)}</code>
            </pre>
            <p class="hint">
              Add <code>--modem GROUP=/dev/ttyUSB0</code> for each modem. In a checkout the command is{' '}
              <code>npx tsx edge-agent/cli.ts enroll</code>.
            </p>
          </Notice>
        )}
        {form.deleted && (
          <Notice kind="ok">
            Agent “{form.deleted}” was deleted: its certificate is revoked and its session cut.
          </Notice>
        )}
        {offline.length > 0 && (
          <Notice kind="error">
            {offline.length === 1 ? '1 agent is offline' : `${offline.length} agents are offline`}:{' '}
            {offline.map((a) => a.displayName ?? a.agentId).join(', ')}. Logins routed to its modem groups go
            to other agents, or fail when none is left.
          </Notice>
        )}
        {agents.length === 0 ? (
          <Empty>
            No agents yet. Register one below, then run its enrolment command on the box with the modems.
          </Empty>
        ) : (
          <Table
            caption="Edge agents, offline first"
            head={['Agent', 'State', 'Since', 'Modem groups', 'Modems']}
          >
            {agents.map((a) => {
              const modems = records.get(a.agentId) ?? [];
              const unhealthy = modems.filter((m) => !m.healthy).length;
              return (
                <tr class={a.state === 'offline' ? 'offline' : undefined}>
                  <td>
                    <a href={agentHref(a.agentId)}>{a.displayName ?? a.agentId}</a>
                    {a.displayName && (
                      <>
                        <br />
                        <code>{a.agentId}</code>
                      </>
                    )}
                  </td>
                  <td>
                    <StateBadge agent={a} />
                  </td>
                  <td>{when(a.stateAt)}</td>
                  <td>{a.modemGroups.join(', ')}</td>
                  <td>
                    {modems.length === 0 ? (
                      'none reported'
                    ) : (
                      <>
                        {modems.length} {unhealthy > 0 && <Badge tone="warn">{unhealthy} unhealthy</Badge>}
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
        <p>
          <a href="/admin/logs/service-status">Service-status log</a>: agents and modems going down and coming
          back.
        </p>
        {write && (
          <>
            <h2 id="h-register">Register an agent</h2>
            {errors?.[''] && <Notice kind="error">{errors['']}</Notice>}
            <PostForm action="/admin/agents" csrf={csrfOf(c)}>
              <Field
                name="agentId"
                label="Agent id"
                value={v.agentId}
                errors={errors}
                required
                hint="1 to 64 letters, digits, - or _; it never changes (e.g. branch-1)."
              />
              <Field
                name="displayName"
                label="Display name (optional)"
                value={v.displayName}
                errors={errors}
              />
              <GroupChoices groups={groups} checked={form.groups ?? groups.slice(0, 1)} errors={errors} />
              <div class="actions">
                <button type="submit">Register agent</button>
              </div>
            </PostForm>
          </>
        )}
      </>,
      form.registered ? 201 : errors ? 422 : 200,
    );
  };

  app.get('/', (c) => {
    const deleted = c.req.query('deleted');
    return listPage(c, deleted && ID_PATTERN.test(deleted) ? { deleted } : {});
  });

  app.post('/', async (c) => {
    const values = await formOf(c);
    const groups = await valuesOf(c, 'modemGroups');
    const parsed = AgentCreateRequest.safeParse({
      agentId: values.agentId?.trim() ?? '',
      ...(values.displayName?.trim() && { displayName: values.displayName.trim() }),
      modemGroups: groups,
    });
    if (!parsed.success) return listPage(c, { values, groups, errors: listErrors(zodErrors(parsed.error)) });
    try {
      const made = await service(c).register(keyActorOf(c), parsed.data);
      return listPage(c, {
        registered: {
          agentId: made.agentId,
          token: made.enrolment.token,
          expiresAt: made.enrolment.expiresAt,
        },
      });
    } catch (error) {
      return listPage(c, { values, groups, errors: agentErrors(error) });
    }
  });

  const idOf = (raw: string) => (ID_PATTERN.test(raw) ? raw : undefined);

  const detail = async (
    c: ConsoleContext,
    agentId: string,
    notice?: { kind: 'ok' | 'error'; text: string },
    form: { errors?: FieldErrors; displayName?: string; groups?: string[] } = {},
  ) => {
    const tenantId = tenantOf(c);
    const agent = await service(c).show(keyActorOf(c), agentId, CHART_REPORTS);
    const [groups, events] = await Promise.all([
      groupNames(deps, tenantId),
      deps.serviceEvents.list(tenantId, { agentId: agent.agentId, limit: 10 }),
    ]);
    const write = canWrite(c);
    const csrf = csrfOf(c);
    const base = agentHref(agent.agentId);
    const errors = form.errors;
    return consolePage(
      c,
      `Agent ${agent.displayName ?? agent.agentId}`,
      <>
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        {agent.state === 'offline' && (
          <Notice kind="error">
            This agent is offline since {when(agent.stateAt)}. Nothing is routed to its modems until it
            connects again.
          </Notice>
        )}
        <div class="grid2">
          <section class="card" aria-labelledby="h-facts">
            <h2 id="h-facts">Details</h2>
            <dl class="facts">
              <dt>Agent id</dt>
              <dd>
                <code>{agent.agentId}</code>
              </dd>
              <dt>Thing name</dt>
              <dd>
                <code>{agent.thingName}</code>
              </dd>
              <dt>State</dt>
              <dd>
                <StateBadge agent={agent} /> since {when(agent.stateAt)}
              </dd>
              <dt>Enrolled</dt>
              <dd>{agent.enrolled ? when(agent.enrolledAt) : 'not yet'}</dd>
              <dt>Registered</dt>
              <dd>{when(agent.createdAt)}</dd>
              <dt>Modem groups</dt>
              <dd>{agent.modemGroups.join(', ')}</dd>
            </dl>
          </section>
          <section class="card" aria-labelledby="h-events">
            <h2 id="h-events">Recent service events</h2>
            {events.events.length === 0 ? (
              <Empty>No service events in the last 30 days.</Empty>
            ) : (
              <ul class="events">
                {events.events.map((e) => {
                  const label = EVENT_LABEL[e.type] ?? { text: e.type, tone: 'warn' as const };
                  return (
                    <li>
                      <Badge tone={label.tone}>{label.text}</Badge> {e.modem && <strong>{e.modem}</strong>}{' '}
                      {e.reason && `(${e.reason}) `}
                      <span class="hint">{when(e.at)}</span>
                    </li>
                  );
                })}
              </ul>
            )}
            <p>
              <a href={`/admin/logs/service-status?agentId=${encodeURIComponent(agent.agentId)}`}>
                All of this agent's events
              </a>
            </p>
          </section>
        </div>
        <h2 id="h-modems">Modems</h2>
        {agent.modems.length === 0 ? (
          <Empty>
            {agent.enrolled
              ? 'No modem has reported yet. Agents report each modem about once a minute while connected.'
              : 'No modem has reported yet: the agent has not enrolled.'}
          </Empty>
        ) : (
          agent.modems.map((m, i) => {
            const latest: Partial<ModemReport> = m.history[0] ?? {};
            const headingId = `h-modem-${i}`;
            return (
              <section class="card modem" aria-labelledby={headingId}>
                <h3 id={headingId}>
                  {m.modem} <span class="hint">group {m.group}</span>{' '}
                  {agent.state !== 'online' ? (
                    <Badge tone="muted">{m.healthy ? 'healthy' : 'unhealthy'} at its last report</Badge>
                  ) : m.healthy ? (
                    <Badge tone="ok">healthy</Badge>
                  ) : (
                    <Badge tone="bad">unhealthy</Badge>
                  )}
                </h3>
                <dl class="facts">
                  <dt>Signal</dt>
                  <dd>{signalText(latest.signal)}</dd>
                  <dt>Registration</dt>
                  <dd>{latest.registration ?? '—'}</dd>
                  <dt>Operator</dt>
                  <dd>{latest.operator ?? '—'}</dd>
                  <dt>Queue</dt>
                  <dd>{m.queue} waiting</dd>
                  <dt>Retransmissions</dt>
                  <dd>{latest.retries ?? '—'}</dd>
                  <dt>Errors</dt>
                  <dd>{latest.errors ?? '—'}</dd>
                  <dt>Last error</dt>
                  <dd>{latest.lastError ?? 'none'}</dd>
                  <dt>Last report</dt>
                  <dd>{when(m.at)}</dd>
                </dl>
                <SignalChart id={`chart-${i}`} modem={m.modem} history={m.history} />
              </section>
            );
          })
        )}
        {write && (
          <>
            <h2 id="h-change">Change</h2>
            {errors?.[''] && <Notice kind="error">{errors['']}</Notice>}
            <PostForm action={`${base}/rename`} csrf={csrf}>
              <Field
                name="displayName"
                label="Display name"
                value={form.displayName ?? agent.displayName ?? ''}
                errors={errors}
                hint="Leave empty to show the agent id. The id and thing name never change."
              />
              <div class="actions">
                <button type="submit">Rename</button>
              </div>
            </PostForm>
            <PostForm action={`${base}/modem-groups`} csrf={csrf}>
              <GroupChoices groups={groups} checked={form.groups ?? agent.modemGroups} errors={errors} />
              <div class="actions">
                <button type="submit">Save modem groups</button>
              </div>
            </PostForm>
            <PostForm
              action={`${base}/delete`}
              csrf={csrf}
              confirm={`Delete agent ${agent.agentId}? Its certificate is revoked and its session cut; the box must enrol again to come back.`}
            >
              <button type="submit" class="danger">
                Delete agent
              </button>
            </PostForm>
          </>
        )}
        <p>
          <a href="/admin/agents">Back to agents</a>
        </p>
      </>,
      errors ? 422 : 200,
    );
  };

  app.get('/:id', (c) => {
    const id = idOf(c.req.param('id'));
    return id ? detail(c, id) : c.notFound();
  });

  app.post('/:id/rename', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    const typed = (await formOf(c)).displayName?.trim() ?? '';
    const parsed = AgentPatchRequest.safeParse({ displayName: typed || null });
    if (!parsed.success)
      return detail(c, id, undefined, { errors: zodErrors(parsed.error), displayName: typed });
    try {
      const after = await service(c).update(keyActorOf(c), id, parsed.data);
      return detail(c, id, {
        kind: 'ok',
        text: after.displayName ? `Renamed to “${after.displayName}”.` : 'The display name is removed.',
      });
    } catch (error) {
      return detail(c, id, undefined, { errors: agentErrors(error), displayName: typed });
    }
  });

  app.post('/:id/modem-groups', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    const groups = await valuesOf(c, 'modemGroups');
    const parsed = AgentPatchRequest.safeParse({ modemGroups: groups });
    if (!parsed.success)
      return detail(c, id, undefined, { errors: listErrors(zodErrors(parsed.error)), groups });
    try {
      const after = await service(c).update(keyActorOf(c), id, parsed.data);
      return detail(c, id, { kind: 'ok', text: `It serves ${after.modemGroups.join(', ')} now.` });
    } catch (error) {
      return detail(c, id, undefined, { errors: listErrors(agentErrors(error)), groups });
    }
  });

  app.post('/:id/delete', async (c) => {
    const id = idOf(c.req.param('id'));
    if (!id) return c.notFound();
    await service(c).remove(keyActorOf(c), id);
    return c.redirect(`/admin/agents?deleted=${encodeURIComponent(id)}`, 303);
  });

  return app;
}

/** Modem groups: which agents serve each and how their modems are, create and delete. */
export function modemGroupPages(deps: AgentPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  const page = async (
    c: ConsoleContext,
    form: { values?: Record<string, string>; errors?: FieldErrors; notice?: string } = {},
  ) => {
    const tenantId = tenantOf(c);
    const [groups, tenant, agents] = await Promise.all([
      deps.config.list(tenantId, 'modemGroup'),
      deps.directory.getTenant(tenantId),
      deps.directory.listAgents(tenantId),
    ]);
    const names = [
      ...new Set([...groups.map((g) => g.name), ...(tenant ? [tenant.defaultModemGroup] : [])]),
    ].sort();
    const described = new Map(groups.map((g) => [g.name, g.description]));
    const write = canWrite(c);
    const csrf = csrfOf(c);
    const v = form.values ?? {};
    const errors = form.errors;
    return consolePage(
      c,
      'Modem groups',
      <>
        {form.notice && <Notice kind="ok">{form.notice}</Notice>}
        {errors?.[''] && <Notice kind="error">{errors['']}</Notice>}
        <p>
          A rule chain sends SMS through a modem group; any online agent serving the group with a healthy
          modem in it may send.
        </p>
        {names.length === 0 ? (
          <Empty>No modem groups yet. Create one below.</Empty>
        ) : (
          <Table
            caption="Modem groups"
            head={['Group', 'Agents serving it', 'Modems of online agents', ...(write ? ['Change'] : [])]}
          >
            {names.map((name) => {
              const serving = agents.filter((a) => a.modemGroups.includes(name));
              // an offline agent's last reports say nothing about what can send now
              const modems = agents
                .filter((a) => a.state === 'online')
                .flatMap((a) => Object.values(a.modems ?? {}).filter((m) => m.group === name));
              const healthy = modems.filter((m) => m.healthy).length;
              const online = serving.filter((a) => a.state === 'online').length;
              return (
                <tr class={serving.length > 0 && online === 0 ? 'offline' : undefined}>
                  <td>
                    <strong>{name}</strong>{' '}
                    {tenant?.defaultModemGroup === name && <Badge tone="muted">default</Badge>}
                    {described.get(name) && (
                      <>
                        <br />
                        <span class="hint">{described.get(name)}</span>
                      </>
                    )}
                  </td>
                  <td>
                    {serving.length === 0
                      ? 'none'
                      : serving.map((a, i) => (
                          <>
                            {i > 0 && ', '}
                            <a href={agentHref(a.agentId)}>{a.displayName ?? a.agentId}</a>{' '}
                            <StateBadge
                              agent={{ state: a.state, enrolled: a.certificateFingerprint !== undefined }}
                            />
                          </>
                        ))}
                  </td>
                  <td>
                    {modems.length === 0 ? (
                      'none reported'
                    ) : (
                      <>
                        {healthy} of {modems.length} healthy{' '}
                        {healthy < modems.length && (
                          <Badge tone="warn">{modems.length - healthy} unhealthy</Badge>
                        )}
                      </>
                    )}
                  </td>
                  {write && (
                    <td>
                      {described.has(name) && tenant?.defaultModemGroup !== name && (
                        <PostForm
                          action={`/admin/modem-groups/${encodeURIComponent(name)}/delete`}
                          csrf={csrf}
                          class="inline"
                          confirm={`Delete modem group ${name}?`}
                        >
                          <button
                            type="submit"
                            class="small secondary"
                            aria-label={`Delete modem group ${name}`}
                          >
                            Delete
                          </button>
                        </PostForm>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </Table>
        )}
        {write && (
          <>
            <h2 id="h-new-group">New modem group</h2>
            <PostForm action="/admin/modem-groups" csrf={csrf}>
              <Field
                name="name"
                label="Name"
                value={v.name}
                errors={errors}
                required
                hint="1 to 64 letters, digits, - or _ (e.g. carrier-a)."
              />
              <Field
                name="description"
                label="Description (optional)"
                value={v.description}
                errors={errors}
              />
              <div class="actions">
                <button type="submit">Create modem group</button>
              </div>
            </PostForm>
          </>
        )}
      </>,
      errors ? 422 : 200,
    );
  };

  app.get('/', (c) => page(c));
  app.post('/', async (c) => {
    const values = await formOf(c);
    const parsed = ModemGroupInput.safeParse({
      name: values.name?.trim() ?? '',
      ...(values.description?.trim() && { description: values.description.trim() }),
    });
    if (!parsed.success) return page(c, { values, errors: zodErrors(parsed.error) });
    try {
      await deps.config.create(tenantOf(c), actorOf(c), 'modemGroup', parsed.data as never, parsed.data.name);
    } catch (error) {
      const errors = domainErrors(error);
      if (error instanceof DomainError && error.code === 'already_exists')
        return page(c, { values, errors: { name: 'A modem group with this name exists already.' } });
      return page(c, { values, errors });
    }
    return page(c, { notice: `Modem group “${parsed.data.name}” was created.` });
  });
  app.post('/:name/delete', async (c) => {
    const name = c.req.param('name');
    if (!ID_PATTERN.test(name)) return c.notFound();
    try {
      await deps.config.remove(tenantOf(c), actorOf(c), 'modemGroup', name);
    } catch (error) {
      return page(c, { errors: domainErrors(error) });
    }
    return page(c, { notice: `Modem group “${name}” was deleted.` });
  });
  return app;
}
