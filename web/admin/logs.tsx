/**
 * Logs: the messages sent (masked destinations), the service-status log (agents and modems going down and
 * coming back, with the reason) and the audit log. Each is filtered by a date range and its own fields and
 * paged forward with the cursors of the services the JSON API uses (`/v1/message-log`, `/v1/service-events`,
 * `/v1/audit`); what a service cannot filter itself is filtered here, on the rows of its pages.
 */
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { CHANNEL_KINDS } from '../../functions/contracts/channels.ts';
import { MessageLogQuery, type MessageLogRow } from '../../functions/contracts/message-log.ts';
import { SERVICE_EVENT_TYPES, type ServiceEventRow } from '../../functions/contracts/service-events.ts';
import { ID_PATTERN } from '../../functions/contracts/topics.ts';
import { DomainError } from '../../functions/core/errors.ts';
import { InvalidMessageLogCursorError } from '../../functions/core/message-log.ts';
import { maskPhonesIn } from '../../functions/core/phone.ts';
import type { AuditEntry } from '../../functions/core/ports/audit.ts';
import { InvalidServiceEventCursorError } from '../../functions/core/service-events.ts';
import { Badge, Empty, Field, type FieldErrors, Notice, Select, Table } from '../layout/components.tsx';
import { type ConsoleContext, type ConsoleEnv, tenantOf } from './context.ts';
import { consolePage } from './page.tsx';
import { type Collected, collect, cursorOf, dayBound, hrefWith, type Range, when } from './paging.ts';
import { keyActorOf, type TenantPagesDeps } from './users.tsx';

export type LogPagesDeps = Pick<TenantPagesDeps, 'messageLog' | 'serviceEvents' | 'audit' | 'agents'>;

/** Rows a page aims for; a read of the service returns at most this many items. */
const PAGE = 25;

const TABS = [
  { href: '/admin/logs/messages', label: 'Messages' },
  { href: '/admin/logs/service-status', label: 'Service status' },
  { href: '/admin/logs/audit', label: 'Audit' },
];

function Tabs(props: { current: string }) {
  return (
    <nav aria-label="Logs" class="tabs">
      <ul>
        {TABS.map((t) => (
          <li>
            <a href={t.href} aria-current={t.href === props.current ? 'page' : undefined}>
              {t.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The date range of the query, and the field messages when it is not one. */
function rangeOf(q: Record<string, string>): { range: Range; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const from = dayBound(q.from, false);
  const to = dayBound(q.to, true);
  if (q.from && !from) errors.from = 'Pick a date.';
  if (q.to && !to) errors.to = 'Pick a date.';
  if (from && to && to < from) errors.to = 'Must be on or after “From”.';
  return { range: errors.to ? { from } : { from, to }, errors };
}

function DateFields(props: { q: Record<string, string>; errors: FieldErrors }) {
  return (
    <>
      <Field name="from" label="From (UTC)" type="date" value={props.q.from} errors={props.errors} />
      <Field name="to" label="To (UTC)" type="date" value={props.q.to} errors={props.errors} />
    </>
  );
}

/** Forward by the service's cursor; back to the newest once paged on (the cursors lead one way only). */
function Pager(props: {
  path: string;
  q: Record<string, string>;
  cursor: string | undefined;
  paged: boolean;
}) {
  const next = props.cursor && hrefWith(props.path, { ...props.q, cursor: props.cursor });
  if (!next && !props.paged) return null;
  return (
    <p class="pager">
      {props.paged && <a href={hrefWith(props.path, props.q)}>← Newest</a>}
      {props.paged && next && ' · '}
      {next && <a href={next}>Next page →</a>}
    </p>
  );
}

function FilterForm(props: { action: string; children?: Child; clear: boolean }) {
  return (
    <form method="get" action={props.action} class="filters" aria-label="Filters">
      {props.children}
      <div class="actions">
        <button type="submit" class="secondary">
          Filter
        </button>
        {props.clear && <a href={props.action}>Clear filters</a>}
      </div>
    </form>
  );
}

/** A cursor the service did not hand out (an old link, an edited URL): the page starts at the newest. */
const STALE = 'That page link is no longer valid, so the newest entries are shown.';

async function freshOnStale<T>(
  cursor: string | undefined,
  read: (cursor: string | undefined) => Promise<Collected<T>>,
): Promise<{ page: Collected<T>; stale: boolean }> {
  try {
    return { page: await read(cursor), stale: false };
  } catch (error) {
    const stale =
      error instanceof InvalidMessageLogCursorError ||
      error instanceof InvalidServiceEventCursorError ||
      (error instanceof DomainError && error.code === 'invalid_request');
    if (!stale || cursor === undefined) throw error;
    return { page: await read(undefined), stale: true };
  }
}

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = {
  delivered: 'ok',
  sent: 'ok',
  failed: 'bad',
  queued: 'muted',
  dispatched: 'muted',
  sending: 'warn',
};

/** Service events in words, with a tone for down (bad) and back (ok). */
export const EVENT_LABEL: Record<string, { text: string; tone: 'ok' | 'warn' | 'bad' }> = {
  'agent.connected': { text: 'agent connected', tone: 'ok' },
  'agent.disconnected': { text: 'agent disconnected', tone: 'bad' },
  'modem.up': { text: 'modem up', tone: 'ok' },
  'modem.blocked': { text: 'modem blocked', tone: 'bad' },
  'modem.recovered': { text: 'modem recovered', tone: 'ok' },
};

/** Query values as strings, each cut to a sane length (they only ever filter). */
function queryOf(c: ConsoleContext, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = c.req.query(name);
    if (value) out[name] = value.trim().slice(0, 256);
  }
  return out;
}

export function logPages(deps: LogPagesDeps) {
  const app = new Hono<ConsoleEnv>();
  app.get('/', (c) => c.redirect('/admin/logs/messages', 303));

  app.get('/messages', async (c) => {
    const q = queryOf(c, ['from', 'to', 'username', 'status', 'channel']);
    const { range, errors } = rangeOf(q);
    const filters = MessageLogQuery.safeParse({
      ...(q.username && { username: q.username }),
      ...(q.status && { status: q.status }),
      ...(q.channel && { channel: q.channel }),
    });
    const query = filters.success ? filters.data : {};
    if (!filters.success)
      for (const issue of filters.error.issues) errors[String(issue.path[0])] ??= 'Pick one of the list.';
    const tenantId = tenantOf(c);
    const { page, stale } = await freshOnStale(cursorOf(c.req.query('cursor')), (start) =>
      collect<MessageLogRow>(
        async (cursor) => {
          const got = await deps.messageLog.list(tenantId, {
            ...query,
            limit: PAGE,
            ...(cursor && { cursor }),
          });
          return { rows: got.messages, cursor: got.cursor };
        },
        { start, range, want: PAGE },
      ),
    );
    const filtered = Object.values(q).some(Boolean);
    return consolePage(
      c,
      'Logs',
      <>
        <Tabs current="/admin/logs/messages" />
        <h2 id="h-log">Messages</h2>
        <p>Every passcode message, newest first. Phone numbers and addresses are masked.</p>
        <FilterForm action="/admin/logs/messages" clear={filtered}>
          <DateFields q={q} errors={errors} />
          <Field
            name="username"
            label="Username starts with"
            type="search"
            value={q.username}
            errors={errors}
          />
          <Select
            name="status"
            label="Status"
            value={q.status}
            errors={errors}
            options={[
              { value: '', label: 'Any' },
              ...['queued', 'dispatched', 'sending', 'sent', 'delivered', 'failed'].map((s) => ({
                value: s,
                label: s,
              })),
            ]}
          />
          <Select
            name="channel"
            label="Channel"
            value={q.channel}
            errors={errors}
            options={[{ value: '', label: 'Any' }, ...CHANNEL_KINDS.map((k) => ({ value: k, label: k }))]}
          />
        </FilterForm>
        {stale && <Notice kind="info">{STALE}</Notice>}
        {page.rows.length === 0 ? (
          <Empty>
            {filtered
              ? 'No messages match these filters on this page of the log.'
              : 'No messages yet. They appear here once users log in.'}
          </Empty>
        ) : (
          <Table
            caption="Messages, newest first"
            head={['Time', 'User', 'Step', 'Channel', 'Route', 'Destination', 'Status']}
          >
            {page.rows.map((m) => (
              <tr>
                <td>{when(m.at)}</td>
                <td>{m.username}</td>
                <td>{m.step + 1}</td>
                <td>{m.channel}</td>
                <td>{m.route}</td>
                <td class="mono">{maskPhonesIn(m.destination)}</td>
                <td>
                  <Badge tone={STATUS_TONE[m.status] ?? 'muted'}>{m.status}</Badge>
                  {m.reason && <span class="hint"> {m.reason}</span>}
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager
          path="/admin/logs/messages"
          q={q}
          cursor={page.cursor}
          paged={!stale && cursorOf(c.req.query('cursor')) !== undefined}
        />
      </>,
    );
  });

  app.get('/service-status', async (c) => {
    const q = queryOf(c, ['from', 'to', 'agentId', 'type']);
    const { range, errors } = rangeOf(q);
    if (q.agentId && !ID_PATTERN.test(q.agentId)) {
      errors.agentId = 'Not an agent id.';
      delete q.agentId;
    }
    const types =
      q.type === 'down'
        ? ['agent.disconnected', 'modem.blocked']
        : q.type === 'up'
          ? ['agent.connected', 'modem.up', 'modem.recovered']
          : q.type && (SERVICE_EVENT_TYPES as readonly string[]).includes(q.type)
            ? [q.type]
            : undefined;
    const tenantId = tenantOf(c);
    const [{ page, stale }, agents] = await Promise.all([
      freshOnStale(cursorOf(c.req.query('cursor')), (start) =>
        collect<ServiceEventRow>(
          async (cursor) => {
            const got = await deps.serviceEvents.list(tenantId, {
              limit: PAGE,
              ...(q.agentId && { agentId: q.agentId }),
              ...(cursor && { cursor }),
            });
            return { rows: got.events, cursor: got.cursor };
          },
          { start, range, want: PAGE, ...(types && { keep: (e) => types.includes(e.type) }) },
        ),
      ),
      deps.agents ? deps.agents.list(keyActorOf(c)) : Promise.resolve([]),
    ]);
    const filtered = Object.values(q).some(Boolean);
    return consolePage(
      c,
      'Logs',
      <>
        <Tabs current="/admin/logs/service-status" />
        <h2 id="h-log">Service status</h2>
        <p>
          Agents connecting and disconnecting, and modems going up, blocked and recovering, with the reason;
          newest first, for 30 days.
        </p>
        <FilterForm action="/admin/logs/service-status" clear={filtered}>
          <DateFields q={q} errors={errors} />
          <Select
            name="agentId"
            label="Agent"
            value={q.agentId}
            errors={errors}
            options={[
              { value: '', label: 'All agents' },
              ...agents.map((a) => ({ value: a.agentId, label: a.displayName ?? a.agentId })),
            ]}
          />
          <Select
            name="type"
            label="Event"
            value={q.type}
            errors={errors}
            options={[
              { value: '', label: 'Any' },
              { value: 'down', label: 'Going down (disconnected, blocked)' },
              { value: 'up', label: 'Coming back (connected, up, recovered)' },
              ...SERVICE_EVENT_TYPES.map((t) => ({ value: t, label: t })),
            ]}
          />
        </FilterForm>
        {stale && <Notice kind="info">{STALE}</Notice>}
        {page.rows.length === 0 ? (
          <Empty>
            {filtered
              ? 'No events match these filters on this page of the log.'
              : 'No service events in the last 30 days: no agent or modem has changed state.'}
          </Empty>
        ) : (
          <Table caption="Service events, newest first" head={['Time', 'Event', 'Agent', 'Modem', 'Reason']}>
            {page.rows.map((e) => {
              const label = EVENT_LABEL[e.type] ?? { text: e.type, tone: 'warn' as const };
              return (
                <tr class={label.tone === 'bad' ? 'offline' : undefined}>
                  <td>{when(e.at)}</td>
                  <td>
                    <Badge tone={label.tone}>{label.text}</Badge>
                  </td>
                  <td>
                    <a href={`/admin/agents/${encodeURIComponent(e.agentId)}`}>{e.agentId}</a>
                  </td>
                  <td>
                    {e.modem ?? '—'}
                    {e.group && <span class="hint"> group {e.group}</span>}
                  </td>
                  <td>{e.reason ?? '—'}</td>
                </tr>
              );
            })}
          </Table>
        )}
        <Pager
          path="/admin/logs/service-status"
          q={q}
          cursor={page.cursor}
          paged={!stale && cursorOf(c.req.query('cursor')) !== undefined}
        />
      </>,
    );
  });

  app.get('/audit', async (c) => {
    const q = queryOf(c, ['from', 'to', 'actor', 'action']);
    const { range, errors } = rangeOf(q);
    const actor = q.actor?.toLowerCase();
    const action = q.action?.toLowerCase();
    const tenantId = tenantOf(c);
    const { page, stale } = await freshOnStale(cursorOf(c.req.query('cursor')), (start) =>
      collect<AuditEntry>(
        async (cursor) => {
          const got = await deps.audit.list(tenantId, { limit: PAGE, ...(cursor && { cursor }) });
          return { rows: got.entries, cursor: got.cursor };
        },
        {
          start,
          range,
          want: PAGE,
          keep: (e) =>
            (!actor || e.actor.toLowerCase().includes(actor)) &&
            (!action || e.action.toLowerCase().startsWith(action)),
        },
      ),
    );
    const filtered = Object.values(q).some(Boolean);
    return consolePage(
      c,
      'Logs',
      <>
        <Tabs current="/admin/logs/audit" />
        <h2 id="h-log">Audit</h2>
        <p>
          Who changed what and when, with the state before and after. Numbers are masked; keys never shown.
          Filter by part of who did it (an e-mail, a key prefix, <code>agent:</code>…) and by the start of the
          action (<code>agent.</code>, <code>user.locked</code>…).
        </p>
        <FilterForm action="/admin/logs/audit" clear={filtered}>
          <DateFields q={q} errors={errors} />
          <Field name="actor" label="Who (contains)" type="search" value={q.actor} errors={errors} />
          <Field name="action" label="Action starts with" type="search" value={q.action} errors={errors} />
        </FilterForm>
        {stale && <Notice kind="info">{STALE}</Notice>}
        {page.rows.length === 0 ? (
          <Empty>
            {filtered
              ? 'No audit entries match these filters on this page of the log.'
              : 'No audit entries yet.'}
          </Empty>
        ) : (
          <Table caption="Audit entries, newest first" head={['Time', 'Who', 'Action', 'Object', 'Change']}>
            {page.rows.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td class="mono">{e.actor}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td class="mono">{maskPhonesIn(e.target)}</td>
                <td>
                  <Change entry={e} />
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager
          path="/admin/logs/audit"
          q={q}
          cursor={page.cursor}
          paged={!stale && cursorOf(c.req.query('cursor')) !== undefined}
        />
      </>,
    );
  });
  return app;
}

/** Before, after and details of an audit entry, folded; masked again in case a writer forgot a number. */
function Change(props: { entry: AuditEntry }) {
  const { before, after, details } = props.entry;
  const parts = [
    ['Before', before],
    ['After', after],
    ['Details', details],
  ].filter(([, v]) => v !== undefined && v !== null) as Array<[string, unknown]>;
  if (parts.length === 0) return <>—</>;
  return (
    <details>
      <summary>Show</summary>
      {parts.map(([label, value]) => {
        const text = maskPhonesIn(JSON.stringify(value, null, 1));
        return (
          <>
            <p class="hint">{label}</p>
            <pre class="secret">{text.length > 2000 ? `${text.slice(0, 2000)} …` : text}</pre>
          </>
        );
      })}
    </details>
  );
}
