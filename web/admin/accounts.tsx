/**
 * Console accounts: the operator's page (`/admin/operator/accounts`, any tenant's accounts and the operators')
 * and the tenant's (`/admin/accounts`, its own admins and auditors). Both call the one AdminAccountManager,
 * which decides who may do what; a new account or a reset shows its set-up link once.
 */
import { Hono } from 'hono';
import {
  type AccountActor,
  type AccountView,
  type AdminAccountManager,
  type SetUpLink,
  setUpPath,
} from '../../functions/core/admin-account-management.ts';
import { NO_TENANT } from '../../functions/core/web-sessions.ts';
import {
  Badge,
  Empty,
  Field,
  type FieldErrors,
  Notice,
  PostForm,
  Select,
  Table,
} from '../layout/components.tsx';
import { type ConsoleContext, type ConsoleEnv, canWrite, csrfOf, formOf } from './context.ts';
import { domainErrors } from './forms.ts';
import { consolePage } from './page.tsx';

export interface AccountPagesDeps {
  manager: AdminAccountManager;
  /** The tenants an operator can pick from (ids); not needed for a tenant's page. */
  tenantIds?: () => Promise<string[]>;
}

type Scope = 'operator' | 'tenant';

const ROLE_LABEL = { operator: 'Operator', tenant_admin: 'Tenant admin', auditor: 'Auditor (read only)' };
const FACTOR_LABEL = { totp: 'Authenticator app', sms: 'SMS code' };

const actorOf = (c: ConsoleContext): AccountActor => {
  const admin = c.get('admin');
  return { role: admin.role, tenantId: admin.tenantId, actor: `admin:${admin.email}`, email: admin.email };
};

/** The full link, from the address the console was reached at (the same host serves `/admin/set-up`). */
const linkOf = (c: ConsoleContext, setUp: SetUpLink) =>
  `${new URL(c.req.url).origin}/admin${setUpPath(setUp.token)}`;

interface PageState {
  values?: Record<string, string>;
  errors?: FieldErrors;
  made?: { email: string; link: string; expiresAt: string; reset: boolean };
  changed?: string;
  failed?: string;
}

export function accountPages(deps: AccountPagesDeps, scope: Scope) {
  const app = new Hono<ConsoleEnv>();
  const base = scope === 'operator' ? '/admin/operator/accounts' : '/admin/accounts';
  const shownTenant = (c: ConsoleContext, values?: Record<string, string>) =>
    scope === 'operator'
      ? (values?.listTenant ?? c.req.query('tenant') ?? NO_TENANT)
      : c.get('admin').tenantId;

  const page = async (c: ConsoleContext, state: PageState = {}) => {
    const tenantId = shownTenant(c, state.values);
    const accounts = await deps.manager.list(actorOf(c), tenantId);
    const tenantIds = scope === 'operator' ? ((await deps.tenantIds?.()) ?? []) : [];
    const csrf = csrfOf(c);
    const writer = canWrite(c);
    const v = state.values ?? {};
    const listName = tenantId === NO_TENANT ? 'Operators' : `Admins of ${tenantId}`;
    return consolePage(
      c,
      'Admin accounts',
      <>
        {state.made && (
          <Notice kind="ok">
            {state.made.reset ? 'Sign-in reset for' : 'Account created for'} {state.made.email}. Send them
            this set-up link; it works once, until {whenOf(state.made.expiresAt)}, and is not shown again:
            <br />
            <code class="setup-link">{state.made.link}</code>
          </Notice>
        )}
        {state.changed && <Notice kind="ok">{state.changed}</Notice>}
        {state.failed && <Notice kind="error">{state.failed}</Notice>}
        {scope === 'operator' && (
          <form method="get" action={base} class="inline">
            <Select
              name="tenant"
              label="Show the accounts of"
              value={tenantId}
              options={[
                { value: NO_TENANT, label: 'Operators' },
                ...tenantIds.map((id) => ({ value: id, label: `Tenant ${id}` })),
              ]}
            />
            <div class="actions">
              <button type="submit" class="secondary">
                Show
              </button>
            </div>
          </form>
        )}
        <h2>{listName}</h2>
        {accounts.length === 0 ? (
          <Empty>No accounts here yet.{writer && ' Create the first one below.'}</Empty>
        ) : (
          <Table caption={listName} head={['Account', 'Role', 'Second factor', 'State', '']}>
            {accounts.map((a) => (
              <AccountRow account={a} base={base} csrf={csrf} writer={writer} self={c.get('admin').email} />
            ))}
          </Table>
        )}
        {writer && (
          <>
            <h2 id="new-account">New admin account</h2>
            <p>
              The person sets their own password with a set-up link, which this page shows once the account
              exists.
            </p>
            {state.errors?.[''] && <Notice kind="error">{state.errors['']}</Notice>}
            <PostForm action={base} csrf={csrf}>
              <Field
                name="email"
                label="E-mail address"
                type="email"
                value={v.email}
                errors={state.errors}
                required
              />
              <Select
                name="role"
                label="Role"
                value={v.role ?? 'tenant_admin'}
                errors={state.errors}
                options={(scope === 'operator'
                  ? (['tenant_admin', 'auditor', 'operator'] as const)
                  : (['tenant_admin', 'auditor'] as const)
                ).map((r) => ({ value: r, label: ROLE_LABEL[r] }))}
              />
              {scope === 'operator' && (
                <Select
                  name="tenantId"
                  label="Tenant"
                  value={v.tenantId ?? (tenantId === NO_TENANT ? tenantIds[0] : tenantId)}
                  errors={state.errors}
                  hint="Not used for operators, who belong to no tenant."
                  options={tenantIds.map((id) => ({ value: id, label: id }))}
                />
              )}
              <Select
                name="secondFactor"
                label="Second factor"
                value={v.secondFactor ?? 'totp'}
                errors={state.errors}
                options={[
                  { value: 'totp', label: FACTOR_LABEL.totp },
                  { value: 'sms', label: FACTOR_LABEL.sms },
                ]}
              />
              <Field
                name="smsUsername"
                label="SMS codes go to user"
                value={v.smsUsername}
                errors={state.errors}
                hint="For SMS codes: the username whose phone and delivery rules carry them."
              />
              {scope === 'operator' && (
                <Field
                  name="smsTenantId"
                  label="Operators' SMS tenant"
                  value={v.smsTenantId}
                  errors={state.errors}
                  hint="For an operator with SMS codes: the tenant that user belongs to."
                />
              )}
              <div class="actions">
                <button type="submit">Create account</button>
              </div>
            </PostForm>
          </>
        )}
      </>,
      state.errors ? 422 : 200,
    );
  };

  app.get('/', (c) => page(c));
  app.post('/', async (c) => {
    const values = await formOf(c);
    const role = values.role as AccountView['role'];
    try {
      const made = await deps.manager.invite(actorOf(c), {
        email: values.email ?? '',
        role,
        tenantId: scope === 'operator' ? values.tenantId : c.get('admin').tenantId,
        secondFactor: values.secondFactor === 'sms' ? 'sms' : 'totp',
        smsUsername: values.smsUsername,
        smsTenantId: values.smsTenantId,
      });
      return page(c, {
        values: { listTenant: made.account.tenantId },
        made: {
          email: made.account.email,
          link: linkOf(c, made.setUp),
          expiresAt: made.setUp.expiresAt,
          reset: false,
        },
      });
    } catch (error) {
      return page(c, { values, errors: domainErrors(error) });
    }
  });

  for (const action of ['disable', 'enable', 'reset'] as const)
    app.post(`/${action}`, async (c) => {
      const values = await formOf(c);
      const email = values.email ?? '';
      try {
        if (action === 'reset') {
          const made = await deps.manager.resetSignIn(actorOf(c), email);
          return page(c, {
            values: { listTenant: made.account.tenantId },
            made: {
              email: made.account.email,
              link: linkOf(c, made.setUp),
              expiresAt: made.setUp.expiresAt,
              reset: true,
            },
          });
        }
        const changed = await deps.manager.setDisabled(actorOf(c), email, action === 'disable');
        return page(c, {
          values: { listTenant: changed.tenantId },
          changed: `${changed.email} is ${action === 'disable' ? 'disabled' : 'enabled'}.`,
        });
      } catch (error) {
        return page(c, { failed: domainErrors(error)[''] ?? 'That did not work.' });
      }
    });
  return app;
}

/** `2026-12-02 03:04 UTC`: the minute is enough for an expiry. */
const whenOf = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

function AccountRow(props: {
  account: AccountView;
  base: string;
  csrf: string;
  writer: boolean;
  self: string;
}) {
  const a = props.account;
  const tone = a.state === 'active' ? 'ok' : a.state === 'pending' ? 'muted' : 'bad';
  const action = (name: 'disable' | 'enable' | 'reset', label: string, danger: boolean, confirm?: string) => (
    <PostForm action={`${props.base}/${name}`} csrf={props.csrf} class="inline" {...(confirm && { confirm })}>
      <input type="hidden" name="email" value={a.email} />
      <button type="submit" class={danger ? 'small danger' : 'small secondary'}>
        {label}
      </button>
    </PostForm>
  );
  return (
    <tr>
      <td>
        <strong>{a.email}</strong>
      </td>
      <td>{ROLE_LABEL[a.role]}</td>
      <td>
        {FACTOR_LABEL[a.secondFactor]}
        {a.sms && (
          <>
            {' '}
            · <code>{a.sms.username}</code>
          </>
        )}
      </td>
      <td>
        <Badge tone={tone}>{a.state === 'pending' ? 'waiting for set-up' : a.state}</Badge>
      </td>
      <td>
        {a.email === props.self && <span class="hint">you</span>}
        {props.writer && a.email !== props.self && (
          <>
            {a.state === 'disabled'
              ? action('enable', 'Enable', false)
              : action('disable', 'Disable', true, `Disable ${a.email}? They are signed out at once.`)}{' '}
            {action('reset', 'Reset sign-in', false, `Reset ${a.email}'s password and second factor?`)}
          </>
        )}
      </td>
    </tr>
  );
}
