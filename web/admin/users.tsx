/**
 * Users: search, details with the effective settings and where each comes from, lock and unlock, the personal
 * passcode window, and a test passcode sent through the user's own rule chain.
 */
import { Hono } from 'hono';
import type { AdminAccountService } from '../../functions/core/admin-accounts.ts';
import type { AgentService } from '../../functions/core/agents.ts';
import type { CreatedChallenge } from '../../functions/core/challenges.ts';
import { DomainError } from '../../functions/core/errors.ts';
import type { KeysService } from '../../functions/core/keys-service.ts';
import type { LockoutService } from '../../functions/core/lockout-service.ts';
import type { MessageLogService } from '../../functions/core/message-log.ts';
import { maskPhone } from '../../functions/core/phone.ts';
import type { AuditLog } from '../../functions/core/ports/audit.ts';
import type { DirectoryStore } from '../../functions/core/ports/directory.ts';
import type { ServiceEventService } from '../../functions/core/service-events.ts';
import type { TenantConfigService } from '../../functions/core/tenant-config.ts';
import type { TenantSettingsService } from '../../functions/core/tenant-settings.ts';
import type { TokenService } from '../../functions/core/tokens.ts';
import type { UserAdminService, UserView } from '../../functions/core/user-admin.ts';
import {
  Badge,
  Empty,
  Field,
  type FieldErrors,
  NextPage,
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
} from './context.ts';
import { domainErrors } from './forms.ts';
import { consolePage } from './page.tsx';

export interface TenantPagesDeps {
  config: TenantConfigService;
  users: UserAdminService;
  audit: AuditLog;
  directory: DirectoryStore;
  accounts: AdminAccountService;
  keys: KeysService;
  lockouts: LockoutService;
  messageLog: MessageLogService;
  serviceEvents: ServiceEventService;
  settings: TenantSettingsService;
  tokens?: TokenService | undefined;
  agents?: AgentService | undefined;
  /** Sends a passcode to the user through their rule chain, as a login would. */
  testPasscode?:
    | ((tenantId: string, username: string, actor: string) => Promise<CreatedChallenge>)
    | undefined;
}

const USERNAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}/]{1,256}$/u;
const userHref = (username: string) => `/admin/users/${encodeURIComponent(username)}`;
/** The services' key actor, for those that audit a key: the console's person instead. */
export const keyActorOf = (c: ConsoleContext) => ({
  tenantId: tenantOf(c),
  keyPrefix: `console:${c.get('admin').email}`,
});

export function userPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  app.get('/', async (c) => {
    const search = (c.req.query('search') ?? '').slice(0, 256);
    const cursor = c.req.query('cursor');
    const page = await deps.users.list(tenantOf(c), {
      limit: 25,
      ...(search && { search }),
      ...(cursor && /^[A-Za-z0-9_-]{1,1024}$/.test(cursor) && { cursor }),
    });
    const next = page.cursor
      ? `/admin/users?${new URLSearchParams({ ...(search && { search }), cursor: page.cursor })}`
      : undefined;
    return consolePage(
      c,
      'Users',
      <>
        <form method="get" action="/admin/users" class="filters">
          <Field name="search" label="Username starts with" type="search" value={search} />
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        {page.users.length === 0 ? (
          <Empty>
            {search
              ? `No user's name starts with “${search}”.`
              : 'No users yet. Users arrive from the AD sync of an edge agent.'}
          </Empty>
        ) : (
          <Table caption="Users" head={['Username', 'Name', 'Mobile', 'Group policy', 'State']}>
            {page.users.map((u: UserView) => (
              <tr>
                <td>
                  <a href={userHref(u.username)}>{u.username}</a>
                </td>
                <td>{u.displayName ?? '—'}</td>
                <td class="mono">{u.mobile ?? '—'}</td>
                <td>{u.groupPolicyId ?? 'tenant default'}</td>
                <td>{u.locked ? <Badge tone="bad">locked</Badge> : <Badge tone="ok">active</Badge>}</td>
              </tr>
            ))}
          </Table>
        )}
        <NextPage href={next} />
      </>,
    );
  });

  const detail = async (
    c: ConsoleContext,
    username: string,
    notice?: { kind: 'ok' | 'error'; text: string },
    errors?: FieldErrors,
  ) => {
    if (!USERNAME.test(username)) return c.notFound();
    const tenantId = tenantOf(c);
    const user = await deps.users.get(tenantId, username);
    const effective = await deps.users.effective(tenantId, user.username);
    const guard = await deps.lockouts.state(keyActorOf(c), user.username);
    const csrf = csrfOf(c);
    const write = canWrite(c);
    const base = userHref(user.username);
    const settings = Object.entries(
      effective.settings as unknown as Record<string, { value: unknown; from: string }>,
    );
    return consolePage(
      c,
      `User ${user.username}`,
      <>
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        <div class="grid2">
          <section class="card" aria-labelledby="h-facts">
            <h2 id="h-facts">Details</h2>
            <dl class="facts">
              <dt>Name</dt>
              <dd>{user.displayName ?? '—'}</dd>
              <dt>Mobile</dt>
              <dd class="mono">{userMasked(user.mobile)}</dd>
              <dt>Second mobile</dt>
              <dd class="mono">{userMasked(user.secondaryMobile)}</dd>
              <dt>E-mail</dt>
              <dd>{user.email ?? '—'}</dd>
              <dt>Group policy</dt>
              <dd>
                {effective.groupPolicy ? effective.groupPolicy.name : 'none (tenant settings)'}
                {effective.groupPolicyFrom &&
                  ` · ${effective.groupPolicyFrom === 'assigned' ? 'assigned by an admin' : 'from the AD group'}`}
              </dd>
              <dt>Tokens</dt>
              <dd>
                <a href={`/admin/tokens/users/${encodeURIComponent(user.username)}`}>
                  Authenticator apps and hardware tokens
                </a>
              </dd>
              <dt>State</dt>
              <dd>
                {user.locked ? <Badge tone="bad">locked by an admin</Badge> : <Badge tone="ok">active</Badge>}{' '}
                {guard.locked && (
                  <Badge tone="warn">locked after failed passcodes until {guard.lockedUntil}</Badge>
                )}
              </dd>
              <dt>PIN set</dt>
              <dd>
                {user.pin ? 'yes' : 'no'}
                {effective.settings['pin.required'].value && ' · required at login'}
              </dd>
            </dl>
            {write && (
              <div class="actions">
                {user.locked || guard.locked ? (
                  <PostForm action={`${base}/unlock`} csrf={csrf} class="inline">
                    <button type="submit" class="secondary">
                      Unlock
                    </button>
                  </PostForm>
                ) : (
                  <PostForm
                    action={`${base}/lock`}
                    csrf={csrf}
                    class="inline"
                    confirm={`Lock ${user.username}? Their logins are refused until unlocked.`}
                  >
                    <button type="submit" class="danger">
                      Lock
                    </button>
                  </PostForm>
                )}
                {user.pin && (
                  <PostForm
                    action={`${base}/clear-pin`}
                    csrf={csrf}
                    class="inline"
                    confirm={`Clear ${user.username}'s PIN? Where a PIN is required they cannot log in until they set a new one.`}
                  >
                    <button type="submit" class="secondary">
                      Clear PIN
                    </button>
                  </PostForm>
                )}
                {deps.testPasscode && (
                  <PostForm action={`${base}/test-passcode`} csrf={csrf} class="inline">
                    <button type="submit">Send a test passcode</button>
                  </PostForm>
                )}
              </div>
            )}
          </section>
          <section class="card" aria-labelledby="h-chain">
            <h2 id="h-chain">Rule chain of the next login</h2>
            {effective.chain.length === 0 ? (
              <Empty>No rule can reach this user: logins fail with no_delivery_route.</Empty>
            ) : (
              <ol>
                {effective.chain.map((r) => (
                  <li>
                    {r.channel} to the {r.target}{' '}
                    {r.route && (
                      <>
                        via <code>{r.route}</code>
                      </>
                    )}
                    , wait {r.timeoutSeconds} s
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
        <h2 id="h-settings">Effective settings</h2>
        <Table caption="Effective settings and where each comes from" head={['Setting', 'Value', 'From']}>
          {settings.map(([name, s]) => (
            <tr>
              <td>
                <code>{name}</code>
              </td>
              <td>{format(s.value)}</td>
              <td>
                <Badge tone={s.from === 'default' ? 'muted' : 'ok'}>{s.from}</Badge>
              </td>
            </tr>
          ))}
        </Table>
        {write && (
          <>
            <h2 id="h-personal">Personal passcode</h2>
            <p>
              A static last-resort code, valid only within its window. It is stored hashed and never shown
              again.
            </p>
            {errors?.[''] && <Notice kind="error">{errors['']}</Notice>}
            <PostForm action={`${base}/personal-passcode`} csrf={csrf}>
              <Field
                name="passcode"
                label="Personal passcode"
                type="password"
                autocomplete="new-password"
                errors={errors}
                required
              />
              <Field name="validFrom" label="Valid from" type="datetime-local" errors={errors} required />
              <Field name="validUntil" label="Valid until" type="datetime-local" errors={errors} required />
              <div class="actions">
                <button type="submit">Set personal passcode</button>
              </div>
            </PostForm>
            <PostForm
              action={`${base}/personal-passcode/clear`}
              csrf={csrf}
              confirm="Remove the personal passcode?"
            >
              <button type="submit" class="secondary">
                Remove personal passcode
              </button>
            </PostForm>
          </>
        )}
      </>,
      errors ? 422 : 200,
    );
  };

  app.get('/:username', (c) => detail(c, c.req.param('username')));
  app.post('/:username/lock', async (c) => {
    const user = await deps.users.setLocked(tenantOf(c), actorOf(c), c.req.param('username'), true);
    return detail(c, user.username, { kind: 'ok', text: `${user.username} is locked.` });
  });
  app.post('/:username/unlock', async (c) => {
    const tenantId = tenantOf(c);
    const user = await deps.users.setLocked(tenantId, actorOf(c), c.req.param('username'), false);
    return detail(c, user.username, { kind: 'ok', text: `${user.username} is unlocked.` });
  });
  app.post('/:username/clear-pin', async (c) => {
    const user = await deps.users.clearPin(tenantOf(c), actorOf(c), c.req.param('username'));
    return detail(c, user.username, { kind: 'ok', text: `${user.username}'s PIN is cleared.` });
  });
  app.post('/:username/personal-passcode', async (c) => {
    const username = c.req.param('username');
    const user = await deps.users.get(tenantOf(c), username);
    const form = await formOf(c);
    const errors: FieldErrors = {};
    if (!form.passcode || form.passcode.length < 6) errors.passcode = 'At least 6 characters.';
    const from = Date.parse(form.validFrom ?? '');
    const until = Date.parse(form.validUntil ?? '');
    if (Number.isNaN(from)) errors.validFrom = 'Pick a date and time.';
    if (Number.isNaN(until)) errors.validUntil = 'Pick a date and time.';
    else if (!Number.isNaN(from) && until <= from) errors.validUntil = 'Must be after “valid from”.';
    if (Object.keys(errors).length > 0) return detail(c, user.username, undefined, errors);
    try {
      const set = await deps.lockouts.setPersonalPasscode(keyActorOf(c), user.username, {
        passcode: form.passcode!,
        validFrom: new Date(from).toISOString(),
        validUntil: new Date(until).toISOString(),
      });
      return detail(c, user.username, {
        kind: set.acceptedAtLogin ? 'ok' : 'error',
        text: set.acceptedAtLogin
          ? `Personal passcode set, valid ${set.validFrom} to ${set.validUntil}.`
          : 'Personal passcode stored, but the security settings do not accept personal passcodes at login.',
      });
    } catch (error) {
      return detail(c, user.username, undefined, domainErrors(error));
    }
  });
  app.post('/:username/personal-passcode/clear', async (c) => {
    const user = await deps.users.get(tenantOf(c), c.req.param('username'));
    await deps.lockouts.clearPersonalPasscode(keyActorOf(c), user.username);
    return detail(c, user.username, { kind: 'ok', text: 'Personal passcode removed.' });
  });
  app.post('/:username/test-passcode', async (c) => {
    const user = await deps.users.get(tenantOf(c), c.req.param('username'));
    if (!deps.testPasscode) return c.notFound();
    try {
      const sent = await deps.testPasscode(tenantOf(c), user.username, actorOf(c));
      return detail(c, user.username, {
        kind: 'ok',
        text: `Test passcode sent by ${sent.channel} to ${sent.destination}. It expires at ${sent.expiresAt}.`,
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return detail(c, user.username, { kind: 'error', text: error.message });
    }
  });
  return app;
}

const userMasked = (phone: string | null | undefined) => (phone ? maskPhone(phone) : '—');

function format(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
