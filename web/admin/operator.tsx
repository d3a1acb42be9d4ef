/** The operator's pages: tenants with their limits and usage, creating and suspending them, agents' health. */
import { Hono } from 'hono';
import { TenantInput } from '../../functions/contracts/admin.ts';
import type { AdminAccountService } from '../../functions/core/admin-accounts.ts';
import type { DirectoryStore } from '../../functions/core/ports/directory.ts';
import type { TenantService } from '../../functions/core/tenants.ts';
import { Badge, Empty, Field, type FieldErrors, Notice, PostForm, Table } from '../layout/components.tsx';
import { type ConsoleContext, type ConsoleEnv, csrfOf, formOf } from './context.ts';
import { domainErrors, numberOf, zodErrors } from './forms.ts';
import { consolePage } from './page.tsx';

export interface OperatorPagesDeps {
  tenants: TenantService;
  accounts: AdminAccountService;
  directory: DirectoryStore;
}

const actor = (email: string) => `admin:${email}`;

export function operatorPages(deps: OperatorPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  const tenantsPage = async (
    c: ConsoleContext,
    form: { values?: Record<string, string>; errors?: FieldErrors; created?: string } = {},
  ) => {
    const tenants = await deps.tenants.list();
    const usage = await Promise.all(tenants.map((t) => deps.tenants.usage(t.id)));
    const csrf = csrfOf(c);
    const v = form.values ?? {};
    return consolePage(
      c,
      'Tenants',
      <>
        {form.created && <Notice kind="ok">Tenant “{form.created}” was created.</Notice>}
        {tenants.length === 0 ? (
          <Empty>No tenants yet. Create the first one below.</Empty>
        ) : (
          <Table
            caption="Tenants"
            head={['Tenant', 'Status', 'Users / limit', `Messages ${usage[0]?.month ?? ''}`, '']}
          >
            {tenants.map((t, i) => {
              const u = usage[i]!;
              const full = u.activeUsers >= u.userLimit;
              return (
                <tr>
                  <td>
                    <strong>{t.name}</strong>
                    <br />
                    <code>{t.id}</code>
                  </td>
                  <td>
                    <Badge tone={t.status === 'active' ? 'ok' : 'warn'}>{t.status}</Badge>
                  </td>
                  <td>
                    {u.activeUsers} / {u.userLimit} {full && <Badge tone="warn">at limit</Badge>}
                  </td>
                  <td>{u.messages}</td>
                  <td>
                    {t.status === 'active' ? (
                      <PostForm
                        action={`/admin/operator/tenants/${t.id}/suspend`}
                        csrf={csrf}
                        confirm={`Suspend ${t.name}? Its logins stop at once.`}
                        class="inline"
                      >
                        <button type="submit" class="small danger">
                          Suspend
                        </button>
                      </PostForm>
                    ) : (
                      <PostForm action={`/admin/operator/tenants/${t.id}/resume`} csrf={csrf} class="inline">
                        <button type="submit" class="small secondary">
                          Resume
                        </button>
                      </PostForm>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
        <h2 id="new-tenant">New tenant</h2>
        {form.errors?.[''] && <Notice kind="error">{form.errors['']}</Notice>}
        <PostForm action="/admin/operator/tenants" csrf={csrf}>
          <Field
            name="id"
            label="Tenant id"
            value={v.id}
            errors={form.errors}
            required
            hint="Letters, digits, - and _; it never changes."
          />
          <Field name="name" label="Name" value={v.name} errors={form.errors} required />
          <Field
            name="defaultCountry"
            label="Default country"
            value={v.defaultCountry ?? 'DK'}
            errors={form.errors}
            required
            hint="ISO code such as DK: numbers without a country code are read as this country's."
          />
          <Field
            name="userLimit"
            label="User limit"
            type="number"
            min={0}
            value={v.userLimit ?? '100'}
            errors={form.errors}
            required
          />
          <div class="actions">
            <button type="submit">Create tenant</button>
          </div>
        </PostForm>
      </>,
      form.errors ? 422 : 200,
    );
  };

  app.get('/', (c) => tenantsPage(c));
  app.post('/tenants', async (c) => {
    const values = await formOf(c);
    const parsed = TenantInput.safeParse({
      id: values.id?.trim(),
      name: values.name?.trim(),
      defaultCountry: values.defaultCountry?.trim(),
      userLimit: numberOf(values.userLimit),
    });
    if (!parsed.success) return tenantsPage(c, { values, errors: zodErrors(parsed.error) });
    try {
      // The admin key the API hands out is not shown: console admins sign in with accounts instead.
      await deps.tenants.create(actor(c.get('admin').email), parsed.data);
    } catch (error) {
      const errors = domainErrors(error);
      if (errors[''] && /already exists/.test(errors['']))
        return tenantsPage(c, { values, errors: { id: errors[''] } });
      return tenantsPage(c, { values, errors });
    }
    return tenantsPage(c, { created: parsed.data.id });
  });
  for (const [op, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const)
    app.post(`/tenants/:id/${op}`, async (c) => {
      await deps.tenants.setStatus(actor(c.get('admin').email), c.req.param('id'), status);
      return c.redirect('/admin/operator', 303);
    });

  app.get('/agents', async (c) => {
    const tenants = await deps.tenants.list();
    const rows = (
      await Promise.all(
        tenants.map(async (t) =>
          (await deps.directory.listAgents(t.id)).map((a) => ({ tenant: t, agent: a })),
        ),
      )
    ).flat();
    rows.sort((a, b) => rank(a.agent.state) - rank(b.agent.state));
    const offline = rows.filter((r) => r.agent.state !== 'online').length;
    return consolePage(
      c,
      'Agents',
      <>
        <p>
          {rows.length} agents, {offline === 0 ? 'all online' : `${offline} not online (listed first)`}.
        </p>
        {rows.length === 0 ? (
          <Empty>No tenant has registered an edge agent yet.</Empty>
        ) : (
          <Table caption="Edge agents of every tenant" head={['Tenant', 'Agent', 'State', 'Since', 'Modems']}>
            {rows.map(({ tenant, agent }) => {
              const modems = Object.values(agent.modems ?? {});
              const unhealthy = modems.filter((m) => !m.healthy).length;
              return (
                <tr class={agent.state === 'online' ? '' : 'offline'}>
                  <td>{tenant.name}</td>
                  <td>
                    <code>{agent.agentId}</code>
                    {agent.displayName && ` · ${agent.displayName}`}
                  </td>
                  <td>
                    <Badge tone={agent.state === 'online' ? 'ok' : 'bad'}>{agent.state}</Badge>
                  </td>
                  <td>{agent.stateAt ?? '—'}</td>
                  <td>
                    {modems.length} {unhealthy > 0 && <Badge tone="warn">{unhealthy} unhealthy</Badge>}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </>,
    );
  });

  return app;
}

const rank = (state: string) => (state === 'offline' ? 0 : state === 'unknown' ? 1 : 2);
