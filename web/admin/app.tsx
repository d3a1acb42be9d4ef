/**
 * The admin console (`/admin…`): sign-in, then the operator's pages (`/admin/operator/…`) or the tenant's
 * (everything else), by role. The tenant is always the signed-in admin's own, taken from the session and never
 * from the URL: an id of another tenant's object finds nothing and answers 404. Auditors see every tenant page
 * but change nothing (403 on every post). Every post passes the CSRF guard.
 */
import { type Context, Hono } from 'hono';
import type { AdminAccountService, AdminPrincipal } from '../../functions/core/admin-accounts.ts';
import { SetUpLinkError, SignInError } from '../../functions/core/admin-accounts.ts';
import { DomainError } from '../../functions/core/errors.ts';
import { NO_TENANT, type WebSession } from '../../functions/core/web-sessions.ts';
import { ErrorPage } from '../../functions/web/error-page.tsx';
import { csrfGuard, type SessionCookie } from '../../functions/web/session-http.ts';
import type { ConsoleEnv } from './context.ts';
import { formOf } from './context.ts';
import { domainErrors } from './forms.ts';
import { CodePage, SetUpGonePage, SetUpPage, SignInPage } from './sign-in.tsx';

export interface ConsoleDeps {
  accounts: AdminAccountService;
  sessions: SessionCookie;
  /** The client's address for the sign-in rate limit (API Gateway's source IP, or the socket's). */
  clientIp: (c: Context) => string;
  /** The operator's pages. */
  operator: Hono<ConsoleEnv>;
  /** The tenant admin's and auditor's pages. */
  tenant: Hono<ConsoleEnv>;
  /** The admin-account pages (accounts.tsx), for operators and for a tenant's own. */
  accountPages?: { operator: Hono<ConsoleEnv>; tenant: Hono<ConsoleEnv> };
}

type Stage = 'code' | 'in';
const principalOf = (session: WebSession) =>
  session.principal as unknown as AdminPrincipal & {
    stage: Stage;
    /** An SMS second step: the challenge its code belongs to, and where it went. */
    challengeId?: string;
    destination?: string;
  };

export const HOME = { operator: '/admin/operator', tenant: '/admin/users' } as const;
const homeOf = (p: AdminPrincipal) => (p.role === 'operator' ? HOME.operator : HOME.tenant);

export function adminConsole(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const { sessions, accounts } = deps;

  // Loads the session first, so the CSRF guard can check the token of whoever is signed in (or half-way).
  app.use('*', async (c, next) => {
    const session = await sessions.read(c);
    if (session) c.set('session', session);
    await next();
  });
  app.use(
    '*',
    csrfGuard((c) => c.get('session')),
  );

  app.get('/', (c) => {
    const session = c.get('session');
    const p = session && principalOf(session);
    return c.redirect(p?.stage === 'in' ? homeOf(p) : '/admin/sign-in', 303);
  });

  app.get('/sign-in', (c) => c.html(<SignInPage />));
  app.post('/sign-in', async (c) => {
    const form = await formOf(c);
    const email = form.email ?? '';
    try {
      const who = await accounts.checkPassword(email, form.password ?? '', deps.clientIp(c));
      const step = await accounts.startSecondStep(who.email, deps.clientIp(c));
      // Half-way: the password is right; the session opens nothing until the code is too.
      await sessions.start(c, who.tenantId, {
        ...who,
        stage: 'code',
        ...(step.factor === 'sms' && {
          challengeId: step.challengeId,
          ...(step.destination && { destination: step.destination }),
        }),
      });
      return c.redirect('/admin/sign-in/code', 303);
    } catch (error) {
      return c.html(<SignInPage email={email} error={signInMessage(error)} />, statusOf(error));
    }
  });

  app.get('/sign-in/code', (c) => {
    const session = c.get('session');
    if (!session || principalOf(session).stage !== 'code') return c.redirect('/admin/sign-in', 303);
    return c.html(<CodePage csrf={session.csrf} {...smsOf(principalOf(session))} />);
  });
  app.post('/sign-in/code', async (c) => {
    const session = c.get('session');
    if (!session || principalOf(session).stage !== 'code') return c.redirect('/admin/sign-in', 303);
    const form = await formOf(c);
    try {
      const half = principalOf(session);
      const who = await accounts.checkCode(half.email, form.code ?? '', deps.clientIp(c), half.challengeId);
      // A new session id for the signed-in session: an id seen before sign-in is worthless after it.
      await sessions.start(c, who.tenantId, { ...who, stage: 'in' });
      return c.redirect(homeOf(who), 303);
    } catch (error) {
      return c.html(
        <CodePage csrf={session.csrf} error={signInMessage(error)} {...smsOf(principalOf(session))} />,
        statusOf(error),
      );
    }
  });

  // A new admin's set-up link: their own password (and authenticator), then the ordinary sign-in.
  app.get('/set-up', async (c) => {
    const token = c.req.query('token') ?? '';
    try {
      return c.html(<SetUpPage token={token} view={await accounts.setUpView(token)} />);
    } catch (error) {
      return c.html(<SetUpGonePage message={setUpMessage(error)} />, 410);
    }
  });
  app.post('/set-up', async (c) => {
    const form = await formOf(c);
    const token = form.token ?? '';
    try {
      const who = await accounts.completeSetUp(token, {
        password: form.password ?? '',
        confirm: form.confirm ?? '',
        code: form.code,
      });
      return c.html(
        <SignInPage email={who.email} notice="Your account is ready. Sign in with your new password." />,
      );
    } catch (error) {
      if (!(error instanceof DomainError) || error.code === 'token_expired')
        return c.html(<SetUpGonePage message={setUpMessage(error)} />, 410);
      const errors = domainErrors(error);
      if (error.code === 'wrong_code') errors.code = error.message;
      try {
        return c.html(
          <SetUpPage token={token} view={await accounts.setUpView(token)} errors={errors} />,
          422,
        );
      } catch (gone) {
        return c.html(<SetUpGonePage message={setUpMessage(gone)} />, 410);
      }
    }
  });

  app.post('/sign-out', async (c) => {
    await sessions.end(c);
    return c.redirect('/admin/sign-in', 303);
  });

  // Every other page needs a signed-in session whose account is still enabled.
  app.use('*', async (c, next) => {
    const session = c.get('session');
    const p = session && principalOf(session);
    if (p?.stage !== 'in' || !(await accounts.stillActive(p))) {
      if (c.req.method === 'GET') return c.redirect('/admin/sign-in', 303);
      return c.html(<ErrorPage status={401} message="Your session has ended. Please sign in again." />, 401);
    }
    c.set('admin', { email: p.email, role: p.role, tenantId: p.tenantId });
    return next();
  });

  app.use('/operator/*', async (c, next) => {
    if (c.get('admin').role !== 'operator') return notFound(c);
    return next();
  });
  app.use('/operator', async (c, next) => {
    if (c.get('admin').role !== 'operator') return notFound(c);
    return next();
  });
  if (deps.accountPages) app.route('/operator/accounts', deps.accountPages.operator);
  app.route('/operator', deps.operator);

  // Tenant pages: never an operator's (they have no tenant), and read-only for auditors.
  app.use('*', async (c, next) => {
    const admin = c.get('admin');
    if (admin.role === 'operator' || admin.tenantId === NO_TENANT) return notFound(c);
    if (admin.role === 'auditor' && c.req.method !== 'GET')
      return c.html(<ErrorPage status={403} message="Auditors can look but not change anything." />, 403);
    return next();
  });
  if (deps.accountPages) app.route('/accounts', deps.accountPages.tenant);
  app.route('/', deps.tenant);
  return app;
}

const smsOf = (p: ReturnType<typeof principalOf>) =>
  p.challengeId ? { sms: { destination: p.destination } } : {};

function setUpMessage(error: unknown): string {
  if (error instanceof SetUpLinkError) return error.message;
  throw error;
}

const notFound = (c: Context) => c.html(<ErrorPage status={404} message="There is no such page." />, 404);

function signInMessage(error: unknown): string {
  if (error instanceof SignInError) return error.message;
  if (error instanceof DomainError && error.code === 'rate_limited')
    return 'Too many sign-in attempts. Wait a minute and try again.';
  // Only an SMS code's challenge gets here (its user locked, or without a number), after a right password.
  if (error instanceof DomainError)
    return `Your sign-in code could not be sent: ${error.message} Ask another admin to check your account.`;
  throw error;
}

const statusOf = (error: unknown) =>
  error instanceof DomainError && error.code === 'rate_limited' ? 429 : 401;
