import type { Child } from 'hono/jsx';
import { Shell } from '../layout/shell.tsx';
import type { ConsoleContext } from './context.ts';
import { OPERATOR_NAV, TENANT_NAV } from './nav.ts';

const ROLE_LABEL = { operator: 'Operator', tenant_admin: 'Tenant admin', auditor: 'Auditor (read only)' };

/** A signed-in console page: the section's navigation, who is signed in, and the sign-out form. */
export function consolePage(
  c: ConsoleContext,
  title: string,
  body: Child,
  status: 200 | 201 | 400 | 409 | 422 = 200,
) {
  const admin = c.get('admin');
  const operator = admin.role === 'operator';
  return c.html(
    <Shell
      title={title}
      area={operator ? 'Operator console' : `Admin console · ${admin.tenantId}`}
      home="/admin"
      nav={operator ? OPERATOR_NAV : TENANT_NAV}
      current={c.req.path}
      user={{
        label: `${admin.email} · ${ROLE_LABEL[admin.role]}`,
        signOutAction: '/admin/sign-out',
        csrf: c.get('session').csrf,
      }}
    >
      {body}
    </Shell>,
    status,
  );
}
