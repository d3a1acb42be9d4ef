/**
 * The portal's AD password reset pages (`/portal/password-reset…`): username and personal passcode, then the
 * passcode sent to the phone, then the new password twice. Each step calls the PasswordResetService the JSON
 * API (`/v1/self/password-reset`) calls, so the pages hold no rule of their own beyond "typed the same twice".
 * No portal session is needed or made: the reset id in the form is the flow's only state, as in the API.
 */
import { type Context, Hono } from 'hono';
import { RESET_ID, ResetPasswordRequest } from '../../functions/contracts/password.ts';
import { DomainError } from '../../functions/core/errors.ts';
import { PasswordPolicyError, type PasswordResetService } from '../../functions/core/password-reset.ts';
import type { WebSession } from '../../functions/core/web-sessions.ts';
import { formOf } from '../admin/context.ts';
import { Csrf, Field, type FieldErrors, Notice } from '../layout/components.tsx';
import { Shell } from '../layout/shell.tsx';

type Env = { Variables: { session?: WebSession } };

/** Domain refusals in the words a person at the sign-in screen can act on. */
const PLAIN: Record<string, string> = {
  not_found: 'This reset has expired or is not valid. Please start again.',
  reset_state: 'This reset cannot go on from here (it was used or has expired). Please start again.',
  user_locked: 'Too many wrong attempts. Wait a while, then start again.',
  rate_limited: 'Too many attempts in a short time. Wait a minute, then try again.',
  unauthorized: 'We could not find that organisation. Check its name with your IT support.',
};
const plain = (error: unknown) => {
  if (error instanceof DomainError) return PLAIN[error.code] ?? error.message;
  throw error;
};
/** Refusals after which the same reset id cannot be used again (the user starts over), with their status. */
const ENDS_THE_RESET: Record<string, 404 | 409 | 423> = {
  not_found: 404,
  reset_state: 409,
  user_locked: 423,
};

export function passwordResetPages(deps: {
  resets: PasswordResetService;
  clientIp: (c: Context) => string | undefined;
}) {
  const { resets } = deps;
  const app = new Hono<Env>();
  // A signed-in portal user may reset too; their forms then carry the session's CSRF token.
  const csrfOf = (c: Context<Env>) => c.get('session')?.csrf;

  app.get('/', (c) => c.html(<StartPage tenant={c.req.query('tenant') ?? ''} csrf={csrfOf(c)} />));

  app.post('/', async (c) => {
    const form = await formOf(c);
    const tenant = (form.tenant ?? '').trim();
    const username = (form.username ?? '').trim();
    const personalPasscode = form.personalPasscode ?? '';
    const errors: FieldErrors = {};
    if (!tenant) errors.tenant = 'Fill in your organisation.';
    if (!username) errors.username = 'Fill in your username.';
    if (!personalPasscode) errors.personalPasscode = 'Fill in your personal passcode.';
    const again = (status: 400 | 401 | 429, more: { errors?: FieldErrors; error?: string }) =>
      c.html(<StartPage tenant={tenant} username={username} csrf={csrfOf(c)} {...more} />, status);
    if (Object.keys(errors).length > 0) return again(400, { errors });
    try {
      const started = await resets.start({ tenant, username, personalPasscode, clientIp: deps.clientIp(c) });
      return c.html(
        <CodePage
          tenant={tenant}
          resetId={started.resetId}
          destination={started.destination}
          csrf={csrfOf(c)}
        />,
      );
    } catch (error) {
      const code = error instanceof DomainError ? error.code : '';
      return again(code === 'rate_limited' ? 429 : 400, { error: plain(error) });
    }
  });

  app.post('/verify', async (c) => {
    const form = await formOf(c);
    const tenant = form.tenant ?? '';
    const resetId = form.resetId ?? '';
    const destination = form.destination ?? '';
    const passcode = (form.passcode ?? '').trim();
    const page = (errors: FieldErrors, status: 400 | 401) =>
      c.html(
        <CodePage
          tenant={tenant}
          resetId={resetId}
          destination={destination}
          csrf={csrfOf(c)}
          errors={errors}
        />,
        status,
      );
    if (!RESET_ID.test(resetId)) return c.html(<EndedPage tenant={tenant} text={PLAIN.not_found!} />, 404);
    if (!passcode) return page({ passcode: 'Type the passcode from the SMS.' }, 400);
    try {
      const result = await resets.verify(resetId, passcode, deps.clientIp(c));
      if (result.result === 'accept')
        return c.html(<PasswordPage tenant={tenant} resetId={resetId} csrf={csrfOf(c)} />);
      if (result.reason === 'wrong' && result.attemptsLeft > 0)
        return page(
          {
            passcode: `That passcode is not right. ${result.attemptsLeft} ${result.attemptsLeft === 1 ? 'attempt' : 'attempts'} left.`,
          },
          401,
        );
      return c.html(
        <EndedPage tenant={tenant} text="That passcode can no longer be used. Please start again." />,
        401,
      );
    } catch (error) {
      const code = error instanceof DomainError ? error.code : '';
      const ended = ENDS_THE_RESET[code];
      if (ended) return c.html(<EndedPage tenant={tenant} text={plain(error)} />, ended);
      return page({ passcode: plain(error) }, 400);
    }
  });

  app.post('/password', async (c) => {
    const form = await formOf(c);
    const tenant = form.tenant ?? '';
    const resetId = form.resetId ?? '';
    const newPassword = form.newPassword ?? '';
    const page = (errors: FieldErrors, status: 400 | 422 | 503) =>
      c.html(<PasswordPage tenant={tenant} resetId={resetId} csrf={csrfOf(c)} errors={errors} />, status);
    if (!RESET_ID.test(resetId)) return c.html(<EndedPage tenant={tenant} text={PLAIN.not_found!} />, 404);
    // Same-twice is the page's own check: the API takes one password, a person types two.
    if (!ResetPasswordRequest.safeParse({ newPassword }).success)
      return page({ newPassword: 'Type a new password (at most 256 characters).' }, 400);
    if (newPassword !== (form.confirmPassword ?? ''))
      return page({ confirmPassword: 'The two passwords are not the same. Type them again.' }, 400);
    try {
      await resets.setPassword(resetId, newPassword);
      return c.html(<DonePage tenant={tenant} />);
    } catch (error) {
      // AD said no: nothing changed, the message goes beside the field and the same reset may try again.
      if (error instanceof PasswordPolicyError) return page({ newPassword: error.message }, 422);
      const code = error instanceof DomainError ? error.code : '';
      const ended = ENDS_THE_RESET[code];
      if (ended) return c.html(<EndedPage tenant={tenant} text={plain(error)} />, ended);
      if (code === 'directory_unavailable' && /in time/.test((error as Error).message))
        return c.html(<EndedPage tenant={tenant} text={(error as Error).message} />, 503);
      return page({ '': plain(error) }, 503);
    }
  });

  return app;
}

const startHref = (tenant: string) =>
  `/portal/password-reset${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`;
const signInHref = (tenant: string) =>
  `/portal/sign-in${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`;

function Page(props: { title: string; children?: unknown }) {
  return (
    <Shell title={props.title} area="Self-service" home="/portal" script={null}>
      {props.children as never}
    </Shell>
  );
}

/** Steps shown as text, so a person knows how far along they are without a progress widget that moves. */
function Step(props: { n: number }) {
  return <p class="hint">Step {props.n} of 3</p>;
}

function StartPage(props: {
  tenant: string;
  username?: string;
  csrf?: string | undefined;
  errors?: FieldErrors;
  error?: string;
}) {
  return (
    <Page title="Reset your password">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <Step n={1} />
      <p>
        You need your personal passcode and your phone. We send a passcode to the phone, then you choose a new
        password.
      </p>
      <form method="post" action="/portal/password-reset" novalidate>
        {props.csrf && <Csrf token={props.csrf} />}
        <Field
          name="tenant"
          label="Organisation"
          value={props.tenant}
          required
          autocomplete="organization"
          hint="As your IT support gave it, e.g. demo"
          errors={props.errors}
        />
        <Field
          name="username"
          label="Username"
          value={props.username}
          required
          autocomplete="username"
          errors={props.errors}
        />
        <Field
          name="personalPasscode"
          label="Personal passcode"
          type="password"
          required
          autocomplete="off"
          hint="The code of your own that you or your IT support set"
          errors={props.errors}
        />
        <div class="actions">
          <button type="submit">Send passcode</button>
          <a href={signInHref(props.tenant)}>Back to sign-in</a>
        </div>
      </form>
    </Page>
  );
}

function CodePage(props: {
  tenant: string;
  resetId: string;
  destination: string;
  csrf?: string | undefined;
  errors?: FieldErrors;
}) {
  return (
    <Page title="Enter the passcode">
      <Step n={2} />
      <p>
        If the details were right, we sent a passcode to {props.destination || 'your phone'}. It can take a
        minute.
      </p>
      <form method="post" action="/portal/password-reset/verify" novalidate>
        {props.csrf && <Csrf token={props.csrf} />}
        <input type="hidden" name="tenant" value={props.tenant} />
        <input type="hidden" name="resetId" value={props.resetId} />
        <input type="hidden" name="destination" value={props.destination} />
        <Field
          name="passcode"
          label="Passcode"
          required
          autocomplete="one-time-code"
          inputmode="numeric"
          errors={props.errors}
        />
        <div class="actions">
          <button type="submit">Continue</button>
          <a href={startHref(props.tenant)}>Start again</a>
        </div>
      </form>
    </Page>
  );
}

function PasswordPage(props: {
  tenant: string;
  resetId: string;
  csrf?: string | undefined;
  errors?: FieldErrors;
}) {
  const general = props.errors?.[''];
  return (
    <Page title="Choose a new password">
      {general && <Notice kind="error">{general}</Notice>}
      <Step n={3} />
      <p>Your organisation’s password rules apply. Type the new password twice.</p>
      <form method="post" action="/portal/password-reset/password" novalidate>
        {props.csrf && <Csrf token={props.csrf} />}
        <input type="hidden" name="tenant" value={props.tenant} />
        <input type="hidden" name="resetId" value={props.resetId} />
        <Field
          name="newPassword"
          label="New password"
          type="password"
          required
          autocomplete="new-password"
          errors={props.errors}
        />
        <Field
          name="confirmPassword"
          label="New password again"
          type="password"
          required
          autocomplete="new-password"
          errors={props.errors}
        />
        <div class="actions">
          <button type="submit">Set password</button>
          <a href={signInHref(props.tenant)}>Cancel</a>
        </div>
      </form>
    </Page>
  );
}

function DonePage(props: { tenant: string }) {
  return (
    <Page title="Your password was changed">
      <Notice kind="ok">Your new password is set. Use it the next time you sign in.</Notice>
      <p>
        <a href={signInHref(props.tenant)}>Go to the portal’s sign-in</a>
      </p>
    </Page>
  );
}

function EndedPage(props: { tenant: string; text: string }) {
  return (
    <Page title="Reset your password">
      <Notice kind="error">{props.text}</Notice>
      <p>
        <a href={startHref(props.tenant)}>Start again</a>
      </p>
    </Page>
  );
}
