/**
 * Who may make and change console accounts, one service behind every path (the first-operator CLI, the operator
 * API, the console's account pages). A new account has no password: the person sets their own through a
 * set-up link (single use, expiring), so no admin ever knows another's password. Operators manage every
 * account; a tenant admin manages the tenant admins and auditors of their own tenant only; auditors nothing.
 * Each change is audited, in the tenant's log (an operator account's in the operator's).
 */
import { createHash, randomBytes } from 'node:crypto';
import { AlreadyExistsError, ForbiddenError } from './admin-errors.ts';
import type { Clock } from './clock.ts';
import { InvalidRequestError, NotFoundError } from './errors.ts';
import type {
  AdminAccount,
  AdminAccountStore,
  AdminRole,
  SecondFactor,
  SmsTarget,
} from './ports/admin-accounts.ts';
import type { AuditLog } from './ports/audit.ts';
import { NO_TENANT } from './web-sessions.ts';

/** How long a set-up link is good for: a working day and a half, for an invitation read the next morning. */
export const SETUP_LINK_HOURS = 36;

/** Who asks: an operator (console, operator key or CLI) or a tenant's admin or auditor. */
export interface AccountActor {
  role: AdminRole;
  /** `-` for operators. */
  tenantId: string;
  /** The audit actor: `admin:<email>`, `key:<prefix>`, `cli:<name>`. */
  actor: string;
  /** The actor's own account, which they may not disable or reset (so nobody locks themselves out). */
  email?: string;
}

export interface AccountInvite {
  email: string;
  role: AdminRole;
  /** Ignored for operators. */
  tenantId?: string | undefined;
  secondFactor?: SecondFactor | undefined;
  /** The user whose phone gets the SMS codes, in the account's own tenant. */
  smsUsername?: string | undefined;
  /** Operators belong to no tenant: theirs come through a user of the tenant the operators keep for that. */
  smsTenantId?: string | undefined;
}

export interface AccountView {
  email: string;
  role: AdminRole;
  tenantId: string;
  secondFactor: SecondFactor;
  sms?: SmsTarget;
  /** `pending` until the person has used their set-up link. */
  state: 'pending' | 'active' | 'disabled';
  createdAt: string;
  createdBy: string;
}

export interface SetUpLink {
  /** Goes into `/admin/set-up?token=…`; shown once, only its hash is stored. */
  token: string;
  expiresAt: string;
}

export interface AdminAccountManagerDeps {
  store: AdminAccountStore;
  audit: AuditLog;
  clock: Clock;
  tenantActive: (tenantId: string) => Promise<boolean>;
  userExists: (tenantId: string, username: string) => Promise<boolean>;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;
export const normalEmail = (email: string) => email.trim().toLowerCase().slice(0, 256);
export const setUpLinkHash = (token: string) => createHash('sha256').update(token).digest('base64url');
/** Where a set-up link leads, under the console's base URL (`…/admin`). */
export const setUpPath = (token: string) => `/set-up?token=${token}`;

export function accountView(a: AdminAccount): AccountView {
  return {
    email: a.email,
    role: a.role,
    tenantId: a.tenantId,
    secondFactor: a.secondFactor ?? 'totp',
    ...(a.sms && { sms: a.sms }),
    state: a.disabledAt ? 'disabled' : a.password ? 'active' : 'pending',
    createdAt: a.createdAt,
    createdBy: a.createdBy,
  };
}

export class AdminAccountManager {
  constructor(private readonly deps: AdminAccountManagerDeps) {}

  /** A new account and its set-up link (shown once). */
  async invite(by: AccountActor, input: AccountInvite): Promise<{ account: AccountView; setUp: SetUpLink }> {
    const email = normalEmail(input.email);
    if (!EMAIL.test(email)) throw new InvalidRequestError('email: must be an e-mail address');
    const tenantId = input.role === 'operator' ? NO_TENANT : (input.tenantId ?? by.tenantId);
    this.mayManage(by, input.role, tenantId, 'create');
    if (input.role !== 'operator' && !(await this.deps.tenantActive(tenantId)))
      throw new NotFoundError('The tenant');
    const factor = input.secondFactor ?? 'totp';
    const sms = await this.smsTarget(input.role, tenantId, factor, input.smsUsername, input.smsTenantId);
    const link = this.newLink();
    const account: AdminAccount = {
      email,
      role: input.role,
      tenantId,
      secondFactor: factor,
      ...(sms && { sms }),
      createdAt: this.nowIso(),
      createdBy: by.actor,
      setupLink: link.hash,
      setupExpiresAt: link.expiresAt,
    };
    await this.deps.store.putSetUpLink(link.hash, email, link.expiresAt);
    try {
      await this.deps.store.create(account);
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new AlreadyExistsError('An account with this address');
      throw error;
    }
    await this.audit(tenantId, by.actor, 'admin_account.created', email, {
      role: input.role,
      secondFactor: factor,
    });
    return { account: accountView(account), setUp: { token: link.token, expiresAt: link.expiresAt } };
  }

  /** The accounts of a tenant (`-`: the operators), for someone who may manage them or, auditors, see them. */
  async list(by: AccountActor, tenantId: string): Promise<AccountView[]> {
    if (by.role !== 'operator' && tenantId !== by.tenantId) throw new NotFoundError('The tenant');
    const accounts = await this.deps.store.listByTenant(tenantId);
    return accounts.map(accountView).sort((a, b) => a.email.localeCompare(b.email));
  }

  async setDisabled(by: AccountActor, typedEmail: string, disabled: boolean): Promise<AccountView> {
    const account = await this.target(by, typedEmail, disabled ? 'disable' : 'enable');
    const at = disabled ? this.nowIso() : null;
    if (!(await this.deps.store.setDisabled(account.email, at))) throw new NotFoundError('The account');
    await this.audit(
      account.tenantId,
      by.actor,
      disabled ? 'admin_account.disabled' : 'admin_account.enabled',
      account.email,
      {},
    );
    const { disabledAt: _d, ...rest } = account;
    return accountView(at ? { ...rest, disabledAt: at } : rest);
  }

  /**
   * A lost phone or authenticator: the password and second factor are taken away and a new set-up link (the only
   * good one) is made, with the factor to enrol, which may change.
   */
  async resetSignIn(
    by: AccountActor,
    typedEmail: string,
    change: {
      secondFactor?: SecondFactor | undefined;
      smsUsername?: string | undefined;
      smsTenantId?: string | undefined;
    } = {},
  ): Promise<{ account: AccountView; setUp: SetUpLink }> {
    const account = await this.target(by, typedEmail, 'reset');
    const factor = change.secondFactor ?? account.secondFactor ?? 'totp';
    const sms = await this.smsTarget(
      account.role,
      account.tenantId,
      factor,
      change.smsUsername ?? account.sms?.username,
      change.smsTenantId ?? account.sms?.tenantId,
    );
    const link = this.newLink();
    await this.deps.store.putSetUpLink(link.hash, account.email, link.expiresAt);
    const restarted = await this.deps.store.restartSetUp(account.email, {
      linkHash: link.hash,
      expiresAt: link.expiresAt,
      secondFactor: factor,
      sms,
    });
    if (!restarted) throw new NotFoundError('The account');
    await this.audit(account.tenantId, by.actor, 'admin_account.sign_in_reset', account.email, {
      secondFactor: factor,
    });
    const { password: _p, sealedTotp: _s, sms: _old, ...rest } = account;
    return {
      account: accountView({ ...rest, secondFactor: factor, ...(sms && { sms }) }),
      setUp: { token: link.token, expiresAt: link.expiresAt },
    };
  }

  /** An account the actor may change; another tenant's (or an operator's, for a tenant admin) is not found. */
  private async target(by: AccountActor, typedEmail: string, what: string): Promise<AdminAccount> {
    const email = normalEmail(typedEmail);
    const account = await this.deps.store.get(email);
    if (!account || (by.role !== 'operator' && account.tenantId !== by.tenantId))
      throw new NotFoundError('The account');
    if (by.email !== undefined && normalEmail(by.email) === email)
      throw new ForbiddenError(`You cannot ${what} your own account; ask another admin.`);
    this.mayManage(by, account.role, account.tenantId, what);
    return account;
  }

  private mayManage(by: AccountActor, role: AdminRole, tenantId: string, what: string) {
    if (by.role === 'operator') return;
    if (by.role === 'auditor') throw new ForbiddenError('Auditors can look but not change anything.');
    if (role === 'operator') throw new ForbiddenError(`A tenant admin cannot ${what} an operator account.`);
    if (tenantId !== by.tenantId)
      throw new ForbiddenError(`A tenant admin can ${what} accounts of their own tenant only.`);
  }

  private async smsTarget(
    role: AdminRole,
    tenantId: string,
    factor: SecondFactor,
    typedUsername: string | undefined,
    operatorsTenant: string | undefined,
  ): Promise<SmsTarget | undefined> {
    if (factor !== 'sms') return undefined;
    const username = typedUsername?.trim();
    if (!username) throw new InvalidRequestError('smsUsername: the user whose phone gets the codes');
    const target = role === 'operator' ? operatorsTenant?.trim() : tenantId;
    if (!target)
      throw new InvalidRequestError('smsTenantId: the tenant of the user who gets an operator’s codes');
    if (!(await this.deps.tenantActive(target)) || !(await this.deps.userExists(target, username)))
      throw new InvalidRequestError(`smsUsername: tenant ${target} has no user ${username}`);
    return { tenantId: target, username };
  }

  private newLink() {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.deps.clock.now() + SETUP_LINK_HOURS * 3600_000).toISOString();
    return { token, hash: setUpLinkHash(token), expiresAt };
  }

  private nowIso() {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private async audit(
    tenantId: string,
    actor: string,
    action: string,
    email: string,
    details: Record<string, string>,
  ) {
    await this.deps.audit.record({
      tenantId: tenantId === NO_TENANT ? '' : tenantId,
      at: this.nowIso(),
      actor,
      action,
      target: `admin:${email}`,
      details,
    });
  }
}
