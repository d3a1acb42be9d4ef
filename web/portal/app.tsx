/**
 * The self-service portal (`/portal…`): sign-in with a passcode sent through the user's own rule chain, then
 * the profile with what the user's policy lets them change. Every action calls core/self-service.ts, the same
 * domain the JSON API (`/v1/self/…`) calls. The session is a cookie of its own (`smspass-portal`, shorter
 * timeouts than the console's) and every post passes the CSRF guard.
 */
import { type Context, Hono } from 'hono';
import { raw } from 'hono/html';
import { PersonalPasscodeRequest } from '../../functions/contracts/lockout.ts';
import { SelfPin } from '../../functions/contracts/self-service.ts';
import { DomainError } from '../../functions/core/errors.ts';
import type { PasswordResetService } from '../../functions/core/password-reset.ts';
import type { PortalScope } from '../../functions/core/ports/self-service.ts';
import type { SelfService, SessionContext } from '../../functions/core/self-service.ts';
import type { WebSession } from '../../functions/core/web-sessions.ts';
import { csrfGuard, type SessionCookie } from '../../functions/web/session-http.ts';
import { formOf } from '../admin/context.ts';
import { Csrf, Field, Notice, Select } from '../layout/components.tsx';
import { Shell } from '../layout/shell.tsx';
import { passwordResetPages } from './password-reset.tsx';

export interface PortalDeps {
  self: SelfService;
  sessions: SessionCookie;
  clientIp: (c: Context) => string;
  /** The AD password reset; without it the sign-in page offers no "forgot your password". */
  resets?: PasswordResetService;
}

type Env = { Variables: { session: WebSession; who: SessionContext } };

const AREA = 'Self-service';
const DONE: Record<string, string> = {
  number: 'Your number was saved. The old number got a notice.',
  added: 'Your number was added.',
  sms: 'Your SMS type was saved.',
  personal: 'Your personal passcode was saved.',
  pin: 'Your PIN was saved. At sign-in, type it and then the passcode, in the one field.',
  app: 'Your authenticator app is set up.',
};

/** A domain error's message is meant for the user; anything else is not shown. */
const messageOf = (error: unknown) => {
  if (error instanceof DomainError) return error.message;
  throw error;
};

export function portalApp(deps: PortalDeps) {
  const { self, sessions } = deps;
  const app = new Hono<Env>();
  const ip = (c: Context) => {
    const value = deps.clientIp(c);
    return value === 'unknown' ? undefined : value;
  };

  app.use('*', async (c, next) => {
    const session = await sessions.read(c);
    if (session) c.set('session', session);
    await next();
  });
  app.use(
    '*',
    csrfGuard((c) => c.get('session')),
  );

  app.get('/', (c) => c.redirect(c.get('session') ? '/portal/profile' : '/portal/sign-in', 303));

  const canReset = deps.resets !== undefined;
  app.get('/sign-in', (c) => c.html(<SignInPage tenant={c.req.query('tenant') ?? ''} canReset={canReset} />));
  app.post('/sign-in', async (c) => {
    const form = await formOf(c);
    const tenant = (form.tenant ?? '').trim();
    const username = (form.username ?? '').trim();
    if (!tenant || !username)
      return c.html(
        <SignInPage tenant={tenant} username={username} canReset={canReset} error="Fill in both fields." />,
        400,
      );
    try {
      const started = await self.startSignIn({ tenant, username }, ip(c));
      return c.html(
        <CodePage tenant={tenant} signInId={started.challengeId} destination={started.destination} />,
      );
    } catch (error) {
      return c.html(
        <SignInPage tenant={tenant} username={username} canReset={canReset} error={messageOf(error)} />,
        400,
      );
    }
  });
  app.post('/sign-in/code', async (c) => {
    const form = await formOf(c);
    const tenant = form.tenant ?? '';
    const signInId = form.signInId ?? '';
    const page = (error: string) => (
      <CodePage tenant={tenant} signInId={signInId} destination={form.destination ?? ''} error={error} />
    );
    try {
      const checked = await self.checkSignIn(tenant, signInId, (form.passcode ?? '').trim(), ip(c));
      if (checked.result !== 'accept')
        return c.html(
          page(
            checked.reason === 'wrong' && checked.attemptsLeft > 0
              ? `That code is not right. ${checked.attemptsLeft} attempts left.`
              : 'That code can no longer be used. Start again.',
          ),
          401,
        );
      await sessions.start(c, tenant, { username: checked.username, scope: 'full' satisfies PortalScope });
      return c.redirect('/portal/profile', 303);
    } catch (error) {
      return c.html(page(messageOf(error)), 400);
    }
  });

  // An enrolment link's landing page: the GET only shows a button, so a mail scanner that opens links does
  // not use the link up.
  app.get('/enrol', (c) =>
    c.html(<EnrolPage tenant={c.req.query('tenant') ?? ''} token={c.req.query('token') ?? ''} />),
  );
  app.post('/enrol', async (c) => {
    const form = await formOf(c);
    try {
      const taken = await self.takeLink(form.tenant ?? '', form.token ?? '');
      await sessions.start(c, form.tenant ?? '', { username: taken.username, scope: 'enrolment' });
      return c.redirect('/portal/profile', 303);
    } catch (error) {
      return c.html(<EnrolPage tenant="" token="" error={messageOf(error)} />, 410);
    }
  });

  // The password reset needs no portal session: a locked-out user has no way to sign in.
  if (deps.resets) app.route('/password-reset', passwordResetPages({ resets: deps.resets, clientIp: ip }));

  app.post('/sign-out', async (c) => {
    await sessions.end(c);
    return c.redirect('/portal/sign-in', 303);
  });

  // Everything below needs a signed-in portal session.
  app.use('*', async (c, next) => {
    const session = c.get('session');
    const p = session?.principal as { username?: string; scope?: PortalScope } | undefined;
    if (!session || !p?.username) {
      if (c.req.method === 'GET') return c.redirect('/portal/sign-in', 303);
      return c.html(<Message title="Signed out" text="Your session has ended. Please sign in again." />, 401);
    }
    c.set('who', {
      tenantId: session.tenantId,
      username: p.username,
      scope: p.scope === 'full' ? 'full' : 'enrolment',
      createdAt: new Date(session.createdAt).toISOString(),
      expiresAt: new Date(session.expiresAt).toISOString(),
      idleUntil: new Date(session.expiresAt).toISOString(),
      hash: '',
    });
    return next();
  });

  const profilePage = async (
    c: Context<Env>,
    notice?: { kind: 'ok' | 'error'; text: string },
    status = 200,
  ) => {
    const profile = await self.profile(c.get('who'));
    return c.html(
      <ProfilePage profile={profile} csrf={c.get('session').csrf} notice={notice} />,
      status as 200,
    );
  };

  app.get('/profile', (c) => {
    const done = DONE[c.req.query('done') ?? ''];
    return profilePage(c, done ? { kind: 'ok', text: done } : undefined);
  });

  app.post('/sms-type', async (c) => {
    const form = await formOf(c);
    try {
      await self.setSmsType(c.get('who'), form.smsType === 'flash' ? 'flash' : 'normal');
      return c.redirect('/portal/profile?done=sms', 303);
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  app.post('/numbers', async (c) => {
    const form = await formOf(c);
    const field = form.field === 'secondaryMobile' ? 'secondaryMobile' : 'mobile';
    try {
      const started = await self.startNumberChange(c.get('who'), { field, number: form.number ?? '' }, ip(c));
      if (started.applied) return c.redirect('/portal/profile?done=added', 303);
      return c.html(
        <ConfirmPage
          csrf={c.get('session').csrf}
          username={c.get('who').username}
          changeId={started.changeId}
          destination={started.destination}
        />,
      );
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  app.post('/numbers/confirm', async (c) => {
    const form = await formOf(c);
    const changeId = form.changeId ?? '';
    const again = (error: string) =>
      c.html(
        <ConfirmPage
          csrf={c.get('session').csrf}
          username={c.get('who').username}
          changeId={changeId}
          destination={form.destination ?? ''}
          error={error}
        />,
        400,
      );
    try {
      const result = await self.confirmNumberChange(
        c.get('who'),
        changeId,
        (form.passcode ?? '').trim(),
        ip(c),
      );
      if (result.result === 'accept') return c.redirect('/portal/profile?done=number', 303);
      return again(
        result.reason === 'wrong' && result.attemptsLeft > 0
          ? `That code is not right. ${result.attemptsLeft} attempts left.`
          : 'That code can no longer be used. Start the change again.',
      );
    } catch (error) {
      return again(messageOf(error));
    }
  });

  app.post('/personal-passcode', async (c) => {
    const form = await formOf(c);
    const days = Math.min(30, Math.max(1, Number(form.days) || 7));
    const now = Date.now();
    const parsed = PersonalPasscodeRequest.safeParse({
      passcode: form.passcode ?? '',
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(now + days * 86400_000).toISOString(),
    });
    if (!parsed.success)
      return profilePage(
        c,
        { kind: 'error', text: 'A personal passcode is 8 to 32 letters or digits.' },
        400,
      );
    try {
      await self.setPersonalPasscode(c.get('who'), parsed.data);
      return c.redirect('/portal/profile?done=personal', 303);
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  app.post('/pin', async (c) => {
    const form = await formOf(c);
    const parsed = SelfPin.safeParse({
      pin: form.pin ?? '',
      ...(form.currentPin && { currentPin: form.currentPin }),
    });
    if (!parsed.success) return profilePage(c, { kind: 'error', text: 'A PIN is 4 to 12 digits.' }, 400);
    try {
      await self.setPin(c.get('who'), parsed.data);
      return c.redirect('/portal/profile?done=pin', 303);
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  app.post('/authenticator', async (c) => {
    try {
      const enrolled = await self.enrolAuthenticator(c.get('who'), true);
      return c.html(
        <AppPage
          csrf={c.get('session').csrf}
          username={c.get('who').username}
          tokenId={enrolled.tokenId}
          qrSvg={enrolled.qrSvg}
          secret={enrolled.secret}
        />,
      );
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  app.post('/authenticator/confirm', async (c) => {
    const form = await formOf(c);
    try {
      await self.confirmAuthenticator(c.get('who'), form.tokenId ?? '', (form.code ?? '').trim());
      return c.redirect('/portal/profile?done=app', 303);
    } catch (error) {
      return profilePage(c, { kind: 'error', text: messageOf(error) }, 400);
    }
  });

  return app;
}

function Page(props: { title: string; csrf?: string; username?: string; children?: unknown }) {
  return (
    <Shell
      title={props.title}
      area={AREA}
      home="/portal"
      script={null}
      {...(props.csrf &&
        props.username && {
          user: { label: props.username, signOutAction: '/portal/sign-out', csrf: props.csrf },
        })}
    >
      {props.children as never}
    </Shell>
  );
}

function Message(props: { title: string; text: string }) {
  return (
    <Page title={props.title}>
      <p>{props.text}</p>
      <p>
        <a href="/portal/sign-in">Sign in</a>
      </p>
    </Page>
  );
}

function SignInPage(props: { tenant: string; username?: string; canReset: boolean; error?: string }) {
  return (
    <Page title="Sign in">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p>We send a passcode to your phone.</p>
      <form method="post" action="/portal/sign-in">
        <Field
          name="tenant"
          label="Organisation"
          value={props.tenant}
          required
          autocomplete="organization"
          hint="As your IT support gave it, e.g. demo"
        />
        <Field name="username" label="Username" value={props.username} required autocomplete="username" />
        <div class="actions">
          <button type="submit">Send passcode</button>
        </div>
      </form>
      {props.canReset && (
        <p>
          <a
            href={`/portal/password-reset${props.tenant ? `?tenant=${encodeURIComponent(props.tenant)}` : ''}`}
          >
            Forgot your password?
          </a>
        </p>
      )}
    </Page>
  );
}

function CodePage(props: { tenant: string; signInId: string; destination: string; error?: string }) {
  return (
    <Page title="Enter your passcode">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p>We sent a passcode to {props.destination || 'your phone'}.</p>
      <form method="post" action="/portal/sign-in/code">
        <input type="hidden" name="tenant" value={props.tenant} />
        <input type="hidden" name="signInId" value={props.signInId} />
        <input type="hidden" name="destination" value={props.destination} />
        <Field name="passcode" label="Passcode" required autocomplete="one-time-code" inputmode="numeric" />
        <div class="actions">
          <button type="submit">Sign in</button>
          <a href={`/portal/sign-in?tenant=${encodeURIComponent(props.tenant)}`}>Start again</a>
        </div>
      </form>
    </Page>
  );
}

function EnrolPage(props: { tenant: string; token: string; error?: string }) {
  return (
    <Page title="Add your phone number">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {props.token ? (
        <form method="post" action="/portal/enrol">
          <p>Your organisation asked you to add your mobile number for signing in. The link works once.</p>
          <input type="hidden" name="tenant" value={props.tenant} />
          <input type="hidden" name="token" value={props.token} />
          <div class="actions">
            <button type="submit">Continue</button>
          </div>
        </form>
      ) : (
        <p>Ask your IT support for a new link.</p>
      )}
    </Page>
  );
}

type Profile = Awaited<ReturnType<SelfService['profile']>>;

function ProfilePage(props: {
  profile: Profile;
  csrf: string;
  notice?: { kind: 'ok' | 'error'; text: string } | undefined;
}) {
  const p = props.profile;
  const can = (f: string) => p.editable.includes(f as never);
  return (
    <Page title="Your sign-in details" csrf={props.csrf} username={p.displayName ?? p.username}>
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      {p.session.scope === 'enrolment' && (
        <Notice kind="info">
          This link lets you add what is missing. Sign in with a passcode to change anything else.
        </Notice>
      )}
      <dl class="facts">
        <dt>Organisation</dt>
        <dd>{p.tenant.name}</dd>
        <dt>Mobile</dt>
        <dd>{p.mobile ?? 'None yet'}</dd>
        <dt>Second mobile</dt>
        <dd>{p.secondaryMobile ?? 'None'}</dd>
        <dt>SMS type</dt>
        <dd>{p.smsType === 'flash' ? 'Flash (shown at once, not stored)' : 'Normal'}</dd>
        <dt>Personal passcode</dt>
        <dd>
          {p.personalPasscode ? `Set, valid until ${p.personalPasscode.validUntil.slice(0, 10)}` : 'None'}
        </dd>
        <dt>PIN</dt>
        <dd>{p.pin.set ? 'Set' : 'None'}</dd>
      </dl>
      {p.pin.required && !p.pin.set && (
        <Notice kind="error">
          {can('pin')
            ? 'Your organisation requires a PIN before your passcode at sign-in. Set one below: until then you cannot sign in elsewhere.'
            : 'Your organisation requires a PIN before your passcode at sign-in. Ask your IT support to let you set one.'}
        </Notice>
      )}
      {p.directory.managed && (
        <Notice kind="info">
          Your numbers come from your company directory. A change here is replaced at the next directory sync
          unless it is made there too.
        </Notice>
      )}
      {p.editable.length === 0 && <p class="empty">Your organisation lets you change nothing here.</p>}
      {(can('mobile') || can('secondaryMobile')) && (
        <section aria-labelledby="h-number">
          <h2 id="h-number">Change a number</h2>
          <p class="hint">We first send a passcode to the number you have now.</p>
          <form method="post" action="/portal/numbers">
            <Csrf token={props.csrf} />
            <Select
              name="field"
              label="Which number"
              options={[
                ...(can('mobile') ? [{ value: 'mobile', label: 'Mobile' }] : []),
                ...(can('secondaryMobile') ? [{ value: 'secondaryMobile', label: 'Second mobile' }] : []),
              ]}
            />
            <Field
              name="number"
              label="New number"
              type="tel"
              required
              autocomplete="tel"
              hint="e.g. +45 20 12 34 56"
            />
            <div class="actions">
              <button type="submit">Continue</button>
            </div>
          </form>
        </section>
      )}
      {can('smsType') && (
        <section aria-labelledby="h-sms">
          <h2 id="h-sms">SMS type</h2>
          <form method="post" action="/portal/sms-type">
            <Csrf token={props.csrf} />
            <Select
              name="smsType"
              label="Passcodes arrive as"
              value={p.smsType}
              options={[
                { value: 'normal', label: 'Normal SMS' },
                { value: 'flash', label: 'Flash SMS' },
              ]}
            />
            <div class="actions">
              <button type="submit">Save</button>
            </div>
          </form>
        </section>
      )}
      {can('personalPasscode') && (
        <section aria-labelledby="h-personal">
          <h2 id="h-personal">Personal passcode</h2>
          <p class="hint">A code of your own for when your phone is out of reach, e.g. when travelling.</p>
          <form method="post" action="/portal/personal-passcode">
            <Csrf token={props.csrf} />
            <Field
              name="passcode"
              label="Personal passcode"
              type="password"
              required
              autocomplete="new-password"
              hint="8 to 32 letters or digits"
            />
            <Field
              name="days"
              label="Valid for (days)"
              type="number"
              value={7}
              min={1}
              max={30}
              inputmode="numeric"
            />
            <div class="actions">
              <button type="submit">Save</button>
            </div>
          </form>
        </section>
      )}
      {can('pin') && (
        <section aria-labelledby="h-pin">
          <h2 id="h-pin">PIN</h2>
          <p class="hint">
            {p.pin.required
              ? 'At sign-in, type your PIN and then the passcode, in the one field.'
              : 'Your organisation does not ask for it at sign-in yet.'}
          </p>
          <form method="post" action="/portal/pin">
            <Csrf token={props.csrf} />
            {p.pin.set && (
              <Field
                name="currentPin"
                label="Current PIN"
                type="password"
                required
                autocomplete="current-password"
                inputmode="numeric"
              />
            )}
            <Field
              name="pin"
              label={p.pin.set ? 'New PIN' : 'PIN'}
              type="password"
              required
              autocomplete="new-password"
              inputmode="numeric"
              hint={`${p.pin.minLength} to 12 digits; not all the same, nor running (1234)`}
            />
            <div class="actions">
              <button type="submit">Save</button>
            </div>
          </form>
        </section>
      )}
      {can('authenticator') && (
        <section aria-labelledby="h-app">
          <h2 id="h-app">Authenticator app</h2>
          <p>{p.authenticator?.enrolled ? 'You have one set up.' : 'None set up.'}</p>
          <form method="post" action="/portal/authenticator">
            <Csrf token={props.csrf} />
            <div class="actions">
              <button type="submit">{p.authenticator?.enrolled ? 'Set up a new one' : 'Set one up'}</button>
            </div>
          </form>
        </section>
      )}
    </Page>
  );
}

function ConfirmPage(props: {
  csrf: string;
  username: string;
  changeId: string;
  destination: string;
  error?: string;
}) {
  return (
    <Page title="Confirm the change" csrf={props.csrf} username={props.username}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p>We sent a passcode to your current number, {props.destination}.</p>
      <form method="post" action="/portal/numbers/confirm">
        <Csrf token={props.csrf} />
        <input type="hidden" name="changeId" value={props.changeId} />
        <input type="hidden" name="destination" value={props.destination} />
        <Field name="passcode" label="Passcode" required autocomplete="one-time-code" inputmode="numeric" />
        <div class="actions">
          <button type="submit">Change number</button>
          <a href="/portal/profile">Cancel</a>
        </div>
      </form>
    </Page>
  );
}

function AppPage(props: { csrf: string; username: string; tokenId: string; qrSvg: string; secret: string }) {
  return (
    <Page title="Set up your authenticator app" csrf={props.csrf} username={props.username}>
      <p>Scan the code with your authenticator app, then type the 6 digits it shows.</p>
      <div class="qr">{raw(props.qrSvg)}</div>
      <p class="hint">
        Cannot scan? Enter this key: <code>{props.secret}</code>
      </p>
      <form method="post" action="/portal/authenticator/confirm">
        <Csrf token={props.csrf} />
        <input type="hidden" name="tokenId" value={props.tokenId} />
        <Field
          name="code"
          label="Code from the app"
          required
          inputmode="numeric"
          autocomplete="one-time-code"
        />
        <div class="actions">
          <button type="submit">Confirm</button>
          <a href="/portal/profile">Cancel</a>
        </div>
      </form>
    </Page>
  );
}
