/**
 * Enrolment links: an admin e-mails a user who lacks a number a link to the portal. The link is single use,
 * expiring, stored only as a hash bound to its tenant, and (core/self-service.ts `redeemLink`) signs the user
 * in only to fill in what is missing.
 */
import { randomBytes } from 'node:crypto';
import type { Channel } from './channels/channel.ts';
import type { ProviderDefinition } from './channels/provider-kinds.ts';
import { maskEmail } from './channels/registry.ts';
import type { Clock } from './clock.ts';
import { DomainError, NotFoundError } from './errors.ts';
import type { AuditLog } from './ports/audit.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { SelfServiceStore } from './ports/self-service.ts';
import type { ConfigStore } from './ports/tenant-config.ts';
import type { UserStore } from './ports/users.ts';
import { secretHash } from './secrets.ts';
import { missingOf } from './self-service.ts';

const DEFAULT_LINK_DAYS = 7;

/** Bound to the tenant, so a link's hash cannot be moved to another tenant's partition. */
export const linkHash = (tenantId: string, secret: string) => secretHash(`${tenantId}\u0000${secret}`);

export interface LinkMail {
  to: string;
  subject: string;
  text: string;
}

/** Sends an enrolment link; throws a DomainError when it cannot. */
export interface LinkMailer {
  send(tenantId: string, mail: LinkMail): Promise<void>;
}

/** Sends by the tenant's own e-mail provider (the first of kind `email`), as an e-mail rule would. */
export class ProviderLinkMailer implements LinkMailer {
  constructor(
    private readonly deps: {
      config: Pick<ConfigStore, 'list'>;
      channelFor: (provider: ProviderDefinition) => Promise<Channel>;
    },
  ) {}

  async send(tenantId: string, mail: LinkMail) {
    const provider = (await this.deps.config.list(tenantId, 'provider')).find((p) => p.kind === 'email');
    if (!provider)
      throw new DomainError(
        'delivery_unavailable',
        'The tenant has no e-mail provider to send the link with.',
      );
    const channel = await this.deps.channelFor({
      tenantId,
      id: provider.name,
      kind: provider.kind,
      params: provider.params,
    });
    const outcome = await channel.deliver(
      {
        tenantId,
        challengeId: 'enrolment-link',
        step: 0,
        to: mail.to,
        text: mail.text,
        subject: mail.subject,
      },
      AbortSignal.timeout(15_000),
    );
    if (outcome.status !== 'sent')
      throw new DomainError(
        'delivery_unavailable',
        'The e-mail provider did not take the link; try again later.',
      );
  }
}

export class EnrolmentLinks {
  constructor(
    private readonly deps: {
      users: Pick<UserStore, 'get'>;
      directory: Pick<DirectoryStore, 'getTenant'>;
      store: Pick<SelfServiceStore, 'putLink'>;
      audit: AuditLog;
      clock: Clock;
      mailer: LinkMailer;
      /** Where links lead: the portal's base URL (`…/portal`). */
      portalUrl: () => string;
    },
  ) {}

  /** An admin's e-mailed link to a user with a missing number; the link is in the mail only. */
  async send(tenantId: string, actor: string, username: string, validDays = DEFAULT_LINK_DAYS) {
    const user = await this.deps.users.get(tenantId, username);
    if (!user) throw new NotFoundError('The user');
    const missing = missingOf(user);
    if (missing.length === 0)
      throw new DomainError(
        'nothing_missing',
        'The user has every number already; a link can only fill in what is missing.',
      );
    if (!user.email)
      throw new DomainError('no_delivery_route', 'The user has no e-mail address to send a link to.');
    const tenant = await this.deps.directory.getTenant(tenantId);
    if (!tenant) throw new NotFoundError('The tenant');
    const secret = randomBytes(32).toString('base64url');
    const now = this.deps.clock.now();
    const expiresAt = new Date(now + validDays * 24 * 3600 * 1000).toISOString();
    await this.deps.store.putLink(linkHash(tenantId, secret), {
      tenantId,
      username: user.username,
      createdAt: new Date(now).toISOString(),
      expiresAt,
      sentBy: actor,
    });
    const url = `${this.deps.portalUrl()}/enrol?tenant=${encodeURIComponent(tenantId)}&token=${secret}`;
    await this.deps.mailer.send(tenantId, {
      to: user.email,
      subject: `${tenant.name}: add your phone number for sign-in`,
      text: [
        `Hello ${user.displayName ?? user.username},`,
        '',
        `${tenant.name} needs your mobile number for signing in with a passcode. Open this link to add it:`,
        '',
        url,
        '',
        `The link works once, until ${expiresAt.slice(0, 10)}. If you did not expect it, ignore this mail.`,
      ].join('\n'),
    });
    await this.deps.audit.record({
      tenantId,
      at: new Date(now).toISOString(),
      actor,
      action: 'self.enrolment_link_sent',
      target: `user:${user.username}`,
      details: { username: user.username, to: maskEmail(user.email), expiresAt, missing: missing.join(',') },
    });
    return { username: user.username, sentTo: maskEmail(user.email), expiresAt, missing };
  }
}
