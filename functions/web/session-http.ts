/**
 * The HTTP side of browser sessions: the cookie (HttpOnly, Secure, SameSite=Strict, Path=/, `__Host-` prefixed
 * whenever it is Secure) and the CSRF defence every state-changing request passes: the request must come from
 * this origin (Origin, or Sec-Fetch-Site when a browser sends no Origin) and carry the session's synchronizer
 * token, as the `_csrf` form field or the `x-csrf-token` header of a script's request.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type WebSession, WebSessions } from '../core/web-sessions.ts';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionCookieOptions {
  /** The name without prefix, e.g. `smspass-admin`. */
  name: string;
  /** False only for a plain-HTTP local stack whose browser refuses Secure cookies there (see README). */
  secure: boolean;
}

export const cookieNameOf = (options: SessionCookieOptions) =>
  options.secure ? `__Host-${options.name}` : options.name;

/** Reads, starts and ends one kind of session through its cookie. */
export class SessionCookie {
  readonly cookieName: string;

  constructor(
    readonly sessions: WebSessions,
    private readonly options: SessionCookieOptions,
  ) {
    this.cookieName = cookieNameOf(options);
  }

  read(c: Context): Promise<WebSession | undefined> {
    return this.sessions.load(getCookie(c, this.cookieName));
  }

  /** Ends the request's current session, if any, and starts a new one with a new id (rotation). */
  async start(c: Context, tenantId: string, principal: Record<string, unknown>): Promise<WebSession> {
    await this.sessions.end(getCookie(c, this.cookieName));
    const session = await this.sessions.start(tenantId, principal);
    setCookie(c, this.cookieName, session.cookieValue, {
      httpOnly: true,
      secure: this.options.secure,
      sameSite: 'Strict',
      path: '/',
      // A session cookie: closing the browser ends it on this side too; the absolute end is the server's.
    });
    return session;
  }

  async end(c: Context): Promise<void> {
    await this.sessions.end(getCookie(c, this.cookieName));
    deleteCookie(c, this.cookieName, { path: '/', secure: this.options.secure });
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Whether the request came from a page of this origin. A browser sends Origin on every POST; Sec-Fetch-Site
 * covers the rest. A request with neither (curl, a script) is judged by the CSRF token alone.
 */
export function fromSameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin !== undefined) return origin === new URL(c.req.url).origin;
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  return true;
}

export class CsrfError extends Error {
  override name = 'CsrfError';
}

/** The token a request carries: the header of a script's request, else the form field. */
export async function csrfTokenOf(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  // hono keeps the parsed body, so the handler reads the same form again without a second parse.
  const body = await c.req.parseBody();
  const field = body[CSRF_FIELD];
  return typeof field === 'string' ? field : undefined;
}

/**
 * Refuses (throws CsrfError) a state-changing request that is cross-origin or lacks the session's token.
 * `sessionOf` gives the request's session; without one, only the origin is checked (the sign-in form).
 */
export function csrfGuard(sessionOf: (c: Context) => WebSession | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      if (!fromSameOrigin(c)) throw new CsrfError('cross-origin request');
      const session = sessionOf(c);
      if (session && !WebSessions.csrfMatches(session, await csrfTokenOf(c)))
        throw new CsrfError('missing or wrong CSRF token');
    }
    await next();
  };
}
