/** The two sign-in steps: address and password, then the code from the authenticator app. */
import { Csrf, Field, Notice } from '../layout/components.tsx';
import { Shell } from '../layout/shell.tsx';

export function SignInPage(props: { email?: string; error?: string }) {
  return (
    <Shell title="Sign in" area="Admin console" home="/admin" script={null}>
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

export function CodePage(props: { csrf: string; error?: string }) {
  return (
    <Shell title="Enter your code" area="Admin console" home="/admin" script={null}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p>Open your authenticator app and type the 6-digit code it shows for the SMS Passcode console.</p>
      <form method="post" action="/admin/sign-in/code">
        <Csrf token={props.csrf} />
        <Field
          name="code"
          label="Code"
          required
          inputmode="numeric"
          autocomplete="one-time-code"
          hint="6 digits, e.g. 123456"
        />
        <div class="actions">
          <button type="submit">Sign in</button>
          <a href="/admin/sign-in">Start again</a>
        </div>
      </form>
    </Shell>
  );
}
