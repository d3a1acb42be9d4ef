/**
 * The sign-in steps (address and password, then the authenticator's code or the SMS passcode) and the set-up
 * page a new admin's link leads to (their own password, and the authenticator to enrol).
 */
import { raw } from 'hono/html';
import type { SetUpView } from '../../functions/core/admin-accounts.ts';
import { MIN_PASSWORD_LENGTH } from '../../functions/core/admin-accounts.ts';
import { Csrf, Field, type FieldErrors, Notice } from '../layout/components.tsx';
import { Shell } from '../layout/shell.tsx';

export function SignInPage(props: { email?: string; error?: string; notice?: string }) {
  return (
    <Shell title="Sign in" area="Admin console" home="/admin" script={null}>
      {props.notice && <Notice kind="ok">{props.notice}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form method="post" action="/admin/sign-in">
        <Field
          name="email"
          label="E-mail address"
          type="email"
          value={props.email}
          required
          autocomplete="username"
        />
        <Field name="password" label="Password" type="password" required autocomplete="current-password" />
        <div class="actions">
          <button type="submit">Continue</button>
        </div>
      </form>
    </Shell>
  );
}

export function CodePage(props: {
  csrf: string;
  error?: string;
  /** Set for an SMS code: where it went (masked). */
  sms?: { destination?: string | undefined };
}) {
  return (
    <Shell title="Enter your code" area="Admin console" home="/admin" script={null}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {props.sms ? (
        <p>
          We sent a sign-in code by SMS{props.sms.destination ? ` to ${props.sms.destination}` : ''}. Type it
          below; it works once, for a few minutes.
        </p>
      ) : (
        <p>Open your authenticator app and type the 6-digit code it shows for the SMS Passcode console.</p>
      )}
      <form method="post" action="/admin/sign-in/code">
        <Csrf token={props.csrf} />
        <Field
          name="code"
          label="Code"
          required
          inputmode="numeric"
          autocomplete="one-time-code"
          hint={props.sms ? 'The digits from the SMS' : '6 digits, e.g. 123456'}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
          <a href="/admin/sign-in">Start again</a>
        </div>
      </form>
    </Shell>
  );
}

const ROLE_NAME = { operator: 'operator', tenant_admin: 'tenant admin', auditor: 'auditor (read only)' };

/** The page a set-up link opens: the person's own password and, for TOTP, the authenticator to enrol. */
export function SetUpPage(props: { token: string; view: SetUpView; errors?: FieldErrors }) {
  const { view } = props;
  const errors = props.errors ?? {};
  return (
    <Shell title="Set up your account" area="Admin console" home="/admin" script={null}>
      {errors[''] && <Notice kind="error">{errors['']}</Notice>}
      <p>
        <strong>{view.email}</strong> · {ROLE_NAME[view.role]}
        {view.role === 'operator' ? '' : ` of ${view.tenantId}`}
      </p>
      <form method="post" action="/admin/set-up">
        <input type="hidden" name="token" value={props.token} />
        {/* The address lets password managers file the new password under the right name. */}
        <input type="hidden" name="email" value={view.email} autocomplete="username" />
        <Field
          name="password"
          label="New password"
          type="password"
          required
          autocomplete="new-password"
          errors={errors}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters; a passphrase of a few words is good.`}
        />
        <Field
          name="confirm"
          label="New password again"
          type="password"
          required
          autocomplete="new-password"
          errors={errors}
        />
        {view.totp ? (
          <>
            <h2>Your authenticator app</h2>
            <p>Scan the code with your authenticator app, then type the 6 digits it shows.</p>
            <div class="qr">{raw(view.totp.qrSvg)}</div>
            <p class="hint">
              Or type the key: <code>{view.totp.secret}</code>
            </p>
            <Field
              name="code"
              label="Code from the app"
              required
              inputmode="numeric"
              autocomplete="one-time-code"
              errors={errors}
            />
          </>
        ) : (
          <p>
            When you sign in, a code comes by SMS to the phone of your user in {view.tenantId}, through your
            organisation's own delivery rules.
          </p>
        )}
        <div class="actions">
          <button type="submit">Set password</button>
        </div>
      </form>
    </Shell>
  );
}

/** A link that is unknown, used, replaced or expired: one message for all, so nothing is learnt from it. */
export function SetUpGonePage(props: { message: string }) {
  return (
    <Shell title="Set up your account" area="Admin console" home="/admin" script={null}>
      <Notice kind="error">{props.message}</Notice>
      <p>
        <a href="/admin/sign-in">Go to the sign-in page</a>
      </p>
    </Shell>
  );
}
