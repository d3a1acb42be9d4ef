import type { NavItem } from '../layout/shell.tsx';

export const OPERATOR_NAV: NavItem[] = [
  { href: '/admin/operator', label: 'Tenants' },
  { href: '/admin/operator/agents', label: 'Agents' },
  { href: '/admin/operator/accounts', label: 'Admins' },
];

export const TENANT_NAV: NavItem[] = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/policies', label: 'Policies' },
  { href: '/admin/accounts', label: 'Admins' },
];
