/**
 * Tokens: the tenant's inventory of hardware tokens (imported from the vendor's PSKC file), and each user's
 * tokens: enrol an authenticator app (its QR code drawn on the server, as the portal does), confirm it with
 * the first code, assign a hardware token by serial, revoke. The same TokenService as `/v1/tokens` and
 * `/v1/users/{username}/tokens`; the seed is on the enrolment's page only, which no cache keeps.
 */
import { Hono } from 'hono';
import { raw } from 'hono/html';
import {
  PSKC_MAX_BYTES,
  PSKC_MAX_KEYS,
  SERIAL_PATTERN,
  TOKEN_ID_PATTERN,
  TOKEN_STATES,
  TokenState,
} from '../../functions/contracts/tokens.ts';
import { DomainError, NotFoundError } from '../../functions/core/errors.ts';
import { PskcError } from '../../functions/core/pskc.ts';
import type { TokenService, TokenView } from '../../functions/core/tokens.ts';
import {
  Badge,
  Checkbox,
  Empty,
  Field,
  FieldError,
  type FieldErrors,
  NextPage,
  Notice,
  PostForm,
  Select,
  Table,
} from '../layout/components.tsx';
import {
  actorOf,
  type ConsoleContext,
  type ConsoleEnv,
  canWrite,
  csrfOf,
  formOf,
  tenantOf,
} from './context.ts';
import { domainErrors } from './forms.ts';
import { consolePage } from './page.tsx';
import type { TenantPagesDeps } from './users.tsx';

const USERNAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}/]{1,256}$/u;
const BASE = '/admin/tokens';
const userHref = (username: string) => `${BASE}/users/${encodeURIComponent(username)}`;
const STATE_TONE = { active: 'ok', pending: 'warn', unassigned: 'muted', revoked: 'bad' } as const;
/** A timestamp to the minute, as a person reads it. */
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
type Message = { kind: 'ok' | 'error'; text: string };

function StateBadge(props: { state: TokenView['state'] }) {
  return <Badge tone={STATE_TONE[props.state]}>{props.state}</Badge>;
}

const describe = (t: TokenView) =>
  t.source === 'app'
    ? 'Authenticator app'
    : `${t.kind.toUpperCase()} token${t.manufacturer ? ` (${t.manufacturer})` : ''}`;

export function tokenPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();
  // Without a credential key (a deployment that has none) there is no token service: the pages say so.
  const service = (_c: ConsoleContext): TokenService | undefined => deps.tokens;

  const inventory = async (c: ConsoleContext, notice?: Message, errors: FieldErrors = {}) => {
    const tokens = service(c);
    const stateRaw = c.req.query('state') ?? '';
    const state = TokenState.safeParse(stateRaw).success ? (stateRaw as TokenView['state']) : undefined;
    const cursor = c.req.query('cursor');
    const page = tokens
      ? await tokens.list(tenantOf(c), {
          limit: 25,
          ...(state && { state }),
          ...(cursor && /^[A-Za-z0-9_-]{1,1024}$/.test(cursor) && { cursor }),
        })
      : { items: [] as TokenView[] };
    const next =
      'cursor' in page && page.cursor
        ? `${BASE}?${new URLSearchParams({ ...(state && { state }), cursor: page.cursor })}`
        : undefined;
    const write = canWrite(c);
    const csrf = csrfOf(c);
    return consolePage(
      c,
      'Tokens',
      <>
        {!tokens && (
          <Notice kind="error">
            This deployment has no credential key, so tokens cannot be enrolled or imported.
          </Notice>
        )}
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        {errors[''] && <Notice kind="error">{errors['']}</Notice>}
        {(errors.file || errors.transportKey) && (
          <Notice kind="error">
            Nothing was imported: see the message beside the field, then choose the file again.
          </Notice>
        )}
        <h2 id="h-user">A user's tokens</h2>
        <p>Enrol an authenticator app for a user, assign a hardware token, or revoke one.</p>
        <form method="get" action={`${BASE}/users`} class="filters">
          <Field name="username" label="Username" errors={errors} required autocomplete="off" />
          <button type="submit" class="secondary">
            Open
          </button>
        </form>

        <h2 id="h-inventory">Hardware tokens and apps</h2>
        <form method="get" action={BASE} class="filters">
          <Select
            name="state"
            label="State"
            value={state ?? ''}
            options={[{ value: '', label: 'Any' }, ...TOKEN_STATES.map((s) => ({ value: s, label: s }))]}
          />
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
        {page.items.length === 0 ? (
          <Empty>
            {state
              ? `No ${state} tokens.`
              : 'No tokens yet. Import the PSKC file your token vendor sent, or enrol an app for a user.'}
          </Empty>
        ) : (
          <Table caption="Tokens" head={['Serial or id', 'Kind', 'User', 'State', 'Since']}>
            {page.items.map((t) => (
              <tr>
                <td class="mono">{t.serial ?? t.tokenId}</td>
                <td>{describe(t)}</td>
                <td>{t.username ? <a href={userHref(t.username)}>{t.username}</a> : '—'}</td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td>{when(t.revokedAt ?? t.confirmedAt ?? t.assignedAt ?? t.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
        <NextPage href={next} />

        {write && tokens && (
          <>
            <h2 id="h-import">Import hardware tokens (PSKC)</h2>
            <p>
              The vendor's PSKC (RFC 6030) file, up to {PSKC_MAX_KEYS} tokens and{' '}
              {PSKC_MAX_BYTES / 1024 / 1024} MB. All or nothing: one bad token and nothing is imported.
            </p>
            <PostForm action={`${BASE}/import`} csrf={csrf} enctype="multipart/form-data">
              <FileField
                name="file"
                label="PSKC file"
                accept=".xml,.pskc,application/pskc+xml"
                errors={errors}
              />
              <Field
                name="transportKey"
                label="Transport key (hex), if the file is encrypted"
                type="password"
                autocomplete="off"
                hint="The pre-shared key the vendor gave you separately. It is used for this import only."
                errors={errors}
              />
              <div class="actions">
                <button type="submit">Import tokens</button>
              </div>
            </PostForm>
          </>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  const userPage = async (
    c: ConsoleContext,
    username: string,
    notice?: Message,
    errors: FieldErrors = {},
  ) => {
    const tokens = service(c);
    if (!tokens) return inventory(c);
    const mine = await tokens.listOfUser(tenantOf(c), username);
    const write = canWrite(c);
    const csrf = csrfOf(c);
    const base = userHref(username);
    const activeApp = mine.items.some((t) => t.source === 'app' && t.state === 'active');
    return consolePage(
      c,
      `Tokens of ${username}`,
      <>
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        {errors[''] && <Notice kind="error">{errors['']}</Notice>}
        {mine.items.length === 0 ? (
          <Empty>{username} has no tokens. A totp rule in their chain cannot reach them yet.</Empty>
        ) : (
          <Table
            caption={`Tokens of ${username}`}
            head={write ? ['Token', 'Kind', 'State', 'Since', ''] : ['Token', 'Kind', 'State', 'Since']}
          >
            {mine.items.map((t) => (
              <tr>
                <td class="mono">{t.serial ?? t.tokenId}</td>
                <td>{describe(t)}</td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td>{when(t.confirmedAt ?? t.assignedAt ?? t.createdAt)}</td>
                {write && (
                  <td>
                    <PostForm
                      action={`${base}/${encodeURIComponent(t.tokenId)}/revoke`}
                      csrf={csrf}
                      class="inline"
                      confirm={`Revoke ${t.serial ?? 'this app'} of ${username}? A revoked token never works again.`}
                    >
                      <button
                        type="submit"
                        class="small danger"
                        aria-label={`Revoke ${t.serial ?? t.tokenId}`}
                      >
                        Revoke
                      </button>
                    </PostForm>
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
        {write && (
          <div class="grid2">
            <section class="card" aria-labelledby="h-enrol">
              <h2 id="h-enrol">Authenticator app</h2>
              <p>
                Shows a QR code for {username} to scan. The app works once its first code is entered
                {activeApp ? '; the current app keeps working until then.' : '.'}
              </p>
              <PostForm action={`${base}/totp`} csrf={csrf}>
                {activeApp && <Checkbox name="replace" label={`Replace the app ${username} has now`} />}
                <FieldError id="f-replace-error" message={errors.replace} />
                <div class="actions">
                  <button type="submit">Enrol authenticator app</button>
                </div>
              </PostForm>
            </section>
            <section class="card" aria-labelledby="h-assign">
              <h2 id="h-assign">Hardware token</h2>
              <PostForm action={`${base}/assign`} csrf={csrf}>
                <Field
                  name="serial"
                  label="Serial number"
                  hint="An imported token that is not assigned yet; it works at once."
                  errors={errors}
                  required
                  autocomplete="off"
                />
                <div class="actions">
                  <button type="submit">Assign token</button>
                </div>
              </PostForm>
            </section>
          </div>
        )}
        <p>
          <a href={BASE}>All tokens</a> ·{' '}
          <a href={`/admin/users/${encodeURIComponent(username)}`}>User details</a>
        </p>
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  /** The enrolment: the QR code and the key, on this page only, and the form for the first code. */
  const enrolPage = (
    c: ConsoleContext,
    username: string,
    enrolled: { tokenId: string; qrSvg: string; secret: string },
    errors: FieldErrors = {},
  ) =>
    consolePage(
      c,
      `Authenticator app for ${username}`,
      <>
        {errors[''] && <Notice kind="error">{errors['']}</Notice>}
        <p>
          {username} scans this code with their authenticator app. The code and key are shown on this page
          only.
        </p>
        <div class="qr" role="img" aria-label={`QR code of the authenticator app enrolment for ${username}`}>
          {raw(enrolled.qrSvg)}
        </div>
        <p class="hint">
          Cannot scan? Enter this key in the app: <code class="secret">{enrolled.secret}</code>
        </p>
        <PostForm
          action={`${userHref(username)}/${encodeURIComponent(enrolled.tokenId)}/confirm`}
          csrf={csrfOf(c)}
        >
          <Field
            name="code"
            label="The first code the app shows"
            inputmode="numeric"
            autocomplete="one-time-code"
            errors={errors}
            required
          />
          <div class="actions">
            <button type="submit">Confirm app</button>
            <a href={userHref(username)}>Later</a>
          </div>
        </PostForm>
      </>,
      Object.keys(errors).length > 0 ? 422 : 201,
    );

  app.get('/', (c) => inventory(c));

  app.get('/users', async (c) => {
    const username = (c.req.query('username') ?? '').trim();
    if (!USERNAME.test(username)) return inventory(c, undefined, { username: 'Enter a username.' });
    try {
      await deps.users.get(tenantOf(c), username);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return inventory(c, undefined, { username: `There is no user “${username}”.` });
    }
    return c.redirect(userHref(username), 303);
  });

  const userParam = (c: ConsoleContext) => {
    const username = c.req.param('username') ?? '';
    if (!USERNAME.test(username)) throw new NotFoundError('The user');
    return username;
  };
  const tokenParam = (c: ConsoleContext) => {
    const id = c.req.param('tokenId') ?? '';
    if (!TOKEN_ID_PATTERN.test(id)) throw new NotFoundError('The token');
    return id;
  };

  app.get('/users/:username', (c) => userPage(c, userParam(c)));

  app.post('/users/:username/totp', async (c) => {
    const username = userParam(c);
    const tokens = service(c);
    if (!tokens) return inventory(c);
    const form = await formOf(c);
    try {
      const enrolled = await tokens.enrolApp(tenantOf(c), actorOf(c), username, {
        replace: form.replace === 'on',
      });
      return enrolPage(c, username, enrolled);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'token_exists')
        return userPage(c, username, undefined, {
          replace: `${username} has an active authenticator app. Tick “Replace” to enrol a new one.`,
        });
      return userPage(c, username, undefined, domainErrors(error));
    }
  });

  app.post('/users/:username/:tokenId/confirm', async (c) => {
    const username = userParam(c);
    const tokenId = tokenParam(c);
    const tokens = service(c);
    if (!tokens) return inventory(c);
    const code = ((await formOf(c)).code ?? '').trim();
    if (!code) return userPage(c, username, undefined, { '': 'Enter the code the app shows.' });
    try {
      await tokens.confirm(tenantOf(c), actorOf(c), username, tokenId, code);
    } catch (error) {
      const errors = domainErrors(error);
      return userPage(c, username, undefined, {
        '': `${errors[''] ?? 'The app was not confirmed.'} Enrol the app again to show a new QR code.`,
      });
    }
    return userPage(c, username, { kind: 'ok', text: `The authenticator app of ${username} is active.` });
  });

  app.post('/users/:username/assign', async (c) => {
    const username = userParam(c);
    const tokens = service(c);
    if (!tokens) return inventory(c);
    const serial = ((await formOf(c)).serial ?? '').trim();
    if (!SERIAL_PATTERN.test(serial))
      return userPage(c, username, undefined, {
        serial: 'A serial is 1–64 letters, digits, “.”, “_”, “:” or “-”.',
      });
    try {
      await tokens.assign(tenantOf(c), actorOf(c), username, serial);
    } catch (error) {
      const message = domainErrors(error)[''];
      return userPage(c, username, undefined, { serial: message ?? 'The token was not assigned.' });
    }
    return userPage(c, username, { kind: 'ok', text: `Token ${serial} is assigned to ${username}.` });
  });

  app.post('/users/:username/:tokenId/revoke', async (c) => {
    const username = userParam(c);
    const tokenId = tokenParam(c);
    const tokens = service(c);
    if (!tokens) return inventory(c);
    await tokens.revoke(tenantOf(c), actorOf(c), username, tokenId);
    return userPage(c, username, { kind: 'ok', text: 'The token is revoked.' });
  });

  app.post('/import', async (c) => {
    const tokens = service(c);
    if (!tokens) return inventory(c);
    const body = await c.req.parseBody();
    const file = body.file;
    const transportKey = typeof body.transportKey === 'string' ? body.transportKey.trim() : '';
    if (!(file instanceof File) || file.size === 0)
      return inventory(c, undefined, { file: 'Choose the PSKC file to import.' });
    if (file.size > PSKC_MAX_BYTES)
      return inventory(c, undefined, {
        file: `The file is larger than ${Math.round(PSKC_MAX_BYTES / 1024)} KB; split it into several imports.`,
      });
    let xml: string;
    try {
      xml = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      return inventory(c, undefined, { file: 'The file is not a PSKC document (it is not UTF-8 text).' });
    }
    try {
      const result = await tokens.importPskc(tenantOf(c), actorOf(c), xml, {
        maxKeys: PSKC_MAX_KEYS,
        ...(transportKey && { transportKeyHex: transportKey }),
      });
      const serials = result.tokens.map((t) => t.serial).join(', ');
      return inventory(c, {
        kind: 'ok',
        text: `Imported ${result.imported} token${result.imported === 1 ? '' : 's'}: ${serials}.`,
      });
    } catch (error) {
      if (!(error instanceof PskcError)) return inventory(c, undefined, domainErrors(error));
      // The API's wording names its header; here the key has a field of its own.
      if (error.code === 'transport_key_required' && !transportKey)
        return inventory(c, undefined, {
          transportKey: 'The file is encrypted: enter the transport key (hex) the vendor gave you.',
        });
      const field = /transport_key/.test(error.code) ? 'transportKey' : 'file';
      return inventory(c, undefined, { [field]: error.message });
    }
  });
  return app;
}

/** A file input with its label and its error beside it. */
function FileField(props: { name: string; label: string; accept: string; errors: FieldErrors }) {
  const id = `f-${props.name}`;
  const error = props.errors[props.name];
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type="file"
        accept={props.accept}
        required
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
