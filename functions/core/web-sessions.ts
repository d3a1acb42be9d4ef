/**
 * Browser sessions for the console and the portal, without HTTP: an id drawn from the CSPRNG (256 bits) that
 * only the cookie holds, its SHA-256 in the store, an idle and an absolute timeout, and a synchronizer token
 * for CSRF. Each kind of page (admin, portal) has its own sessions with its own timeouts; the HTTP glue
 * (cookies, the CSRF check) is functions/web/session-http.ts.
 *
 * The cookie value is `<tenant>.<id>`: the tenant part only says which partition to read (the item is
 * tenant-scoped like every other); the id is what authenticates, and a wrong tenant part finds nothing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { WebSessionRecord, WebSessionStore } from './ports/web-sessions.ts';

/** The tenant part of an operator's session: the operator belongs to no tenant. */
export const NO_TENANT = '-';

export interface WebSessionOptions {
  kind: string;
  idleSeconds: number;
  absoluteSeconds: number;
  /** How stale `lastSeenAt` may get before a request writes it again: one write a minute, not one a click. */
  touchEverySeconds?: number;
}

export interface WebSession {
  /** What goes into the cookie; never stored. */
  cookieValue: string;
  tenantId: string;
  principal: Record<string, unknown>;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

const TENANT_PART = /^(?:-|[A-Za-z0-9_-]{1,64})$/;
const ID_PART = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (id: string) => createHash('sha256').update(id).digest('base64url');

export class WebSessions {
  constructor(
    private readonly store: WebSessionStore,
    private readonly clock: Clock,
    readonly options: WebSessionOptions,
  ) {}

  /** A new session (a new id: sign-in always rotates it). `tenantId` is NO_TENANT for the operator. */
  async start(tenantId: string, principal: Record<string, unknown>): Promise<WebSession> {
    const id = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const record: WebSessionRecord = {
      kind: this.options.kind,
      tenantId,
      idHash: hashOf(id),
      principal,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.options.absoluteSeconds * 1000,
    };
    await this.store.put(record);
    return { cookieValue: `${tenantId}.${id}`, ...this.view(record) };
  }

  /** The live session a cookie names, or undefined (unknown, malformed, idle too long or past its end). */
  async load(cookieValue: string | undefined): Promise<WebSession | undefined> {
    const parsed = this.parse(cookieValue);
    if (!parsed) return undefined;
    const record = await this.store.get(this.options.kind, parsed.tenantId, parsed.idHash);
    if (!record) return undefined;
    const now = this.clock.now();
    if (now >= record.expiresAt || now - record.lastSeenAt >= this.options.idleSeconds * 1000) {
      await this.store.delete(this.options.kind, parsed.tenantId, parsed.idHash);
      return undefined;
    }
    if (now - record.lastSeenAt >= (this.options.touchEverySeconds ?? 60) * 1000)
      await this.store.touch(this.options.kind, parsed.tenantId, parsed.idHash, now);
    return { cookieValue: cookieValue!, ...this.view(record) };
  }

  /** Sign-out: the item goes, so a copied cookie is worthless from now on. */
  async end(cookieValue: string | undefined): Promise<void> {
    const parsed = this.parse(cookieValue);
    if (parsed) await this.store.delete(this.options.kind, parsed.tenantId, parsed.idHash);
  }

  /** Constant-time check of a request's CSRF token against the session's. */
  static csrfMatches(session: Pick<WebSession, 'csrf'>, given: string | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private parse(cookieValue: string | undefined) {
    if (!cookieValue || cookieValue.length > 200) return undefined;
    const dot = cookieValue.lastIndexOf('.');
    const tenantId = cookieValue.slice(0, dot);
    const id = cookieValue.slice(dot + 1);
    if (dot < 1 || !TENANT_PART.test(tenantId) || !ID_PART.test(id)) return undefined;
    return { tenantId, idHash: hashOf(id) };
  }

  private view(record: WebSessionRecord) {
    return {
      tenantId: record.tenantId,
      principal: record.principal,
      csrf: record.csrf,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
    };
  }
}
