import type { NavItem } from '../layout/shell.tsx';

export const OPERATOR_NAV: NavItem[] = [
  { href: '/admin/operator', label: 'Tenants' },
  { href: '/admin/operator/agents', label: 'Agents' },
  { href: '/admin/operator/accounts', label: 'Admins' },
];

export const TENANT_NAV: NavItem[] = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/policies', label: 'Policies' },
  { href: '/admin/agents', label: 'Agents' },
  { href: '/admin/modem-groups', label: 'Modem groups' },
  { href: '/admin/logs', label: 'Logs' },
  { href: '/admin/sync-runs', label: 'AD sync' },
  { href: '/admin/providers', label: 'Providers' },
  { href: '/admin/tokens', label: 'Tokens' },
  { href: '/admin/keys', label: 'Keys' },
  { href: '/admin/security', label: 'Security settings' },
  { href: '/admin/accounts', label: 'Admins' },
];
