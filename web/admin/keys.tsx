/**
 * Keys: mint a key of the tenant (shown once), list them by prefix, revoke one. The same KeysService as
 * `/v1/keys`. A new key reaches the next page in a cookie that lives for that one request: the POST answers
 * with a redirect, so reloading the page neither mints a second key nor shows this one again, and the key
 * is never kept on the server.
 */
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { KEY_PREFIX, TenantKeyKind } from '../../functions/contracts/keys.ts';
import { parseKey } from '../../functions/core/api-keys.ts';
import type { ApiKeyRecord } from '../../functions/core/model.ts';
import { Badge, Empty, Notice, PostForm, Select, Table } from '../layout/components.tsx';
import { type ConsoleContext, type ConsoleEnv, canWrite, csrfOf, formOf } from './context.ts';
import { domainErrors } from './forms.ts';
import { consolePage } from './page.tsx';
import { keyActorOf, type TenantPagesDeps } from './users.tsx';

const KIND_LABEL: Record<string, string> = {
  auth: 'auth: logins (challenges and verify)',
  sync: 'sync: the AD sync of an edge agent',
  admin: 'admin: this tenant’s admin API',
};
const PATH = '/admin/keys';
/** A timestamp to the minute, as a person reads it. */
const when = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—');
/** Only the keys page reads it, only over HTTPS where the browser allows, and only for a minute at most. */
const FLASH = 'smspass-new-key';

/**
 * Secure wherever the browser keeps a Secure cookie: HTTPS, and plain HTTP to loopback (the local stack),
 * which browsers count as a secure context too.
 */
function flashCookie(c: ConsoleContext) {
  const url = new URL(c.req.url);
  const secure = url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  return { name: secure ? `__Secure-${FLASH}` : FLASH, secure };
}

export function keyPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  const page = async (
    c: ConsoleContext,
    shown?: { key: string; record: ApiKeyRecord },
    notice?: { kind: 'ok' | 'error'; text: string },
  ) => {
    const keys = await deps.keys.list(keyActorOf(c), { includeRevoked: true });
    const live = keys.filter((k) => !k.revokedAt);
    const revoked = keys.filter((k) => k.revokedAt).slice(-20);
    const write = canWrite(c);
    const csrf = csrfOf(c);
    return consolePage(
      c,
      'Keys',
      <>
        {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
        {shown && (
          <section class="card" aria-labelledby="h-new-key">
            <h2 id="h-new-key">Your new {shown.record.kind} key</h2>
            <p>
              Copy it now: it is shown this once and never again. Only its hash is stored, so nobody can show
              it to you later.
            </p>
            <p class="secret" id="new-key" data-key="">
              {shown.key}
            </p>
          </section>
        )}
        <p>
          Keys let programs call this tenant's APIs with <code>Authorization: Bearer …</code>. A key is listed
          by its prefix; revoking it refuses its next request.
        </p>
        {live.length === 0 ? (
          <Empty>No live keys. Create one below for a login gateway, an edge agent or a script.</Empty>
        ) : (
          <Table
            caption="Live keys"
            head={write ? ['Prefix', 'Kind', 'Created', ''] : ['Prefix', 'Kind', 'Created']}
          >
            {live.map((k) => (
              <tr>
                <td class="mono">{k.prefix}…</td>
                <td>{k.kind}</td>
                <td>{when(k.createdAt)}</td>
                {write && (
                  <td>
                    <PostForm
                      action={`${PATH}/revoke`}
                      csrf={csrf}
                      class="inline"
                      confirm={`Revoke ${k.prefix}…? Programs using it are refused from their next request.`}
                    >
                      <input type="hidden" name="prefix" value={k.prefix} />
                      <button type="submit" class="small danger" aria-label={`Revoke ${k.prefix}`}>
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
          <>
            <h2 id="h-create">Create a key</h2>
            <PostForm action={PATH} csrf={csrf}>
              <Select
                name="kind"
                label="Kind"
                value="auth"
                options={TenantKeyKind.options.map((k) => ({ value: k, label: KIND_LABEL[k] ?? k }))}
              />
              <div class="actions">
                <button type="submit">Create key</button>
              </div>
            </PostForm>
          </>
        )}
        {revoked.length > 0 && (
          <>
            <h2 id="h-revoked">Recently revoked</h2>
            <Table caption="Revoked keys" head={['Prefix', 'Kind', 'Revoked']}>
              {revoked.map((k) => (
                <tr>
                  <td class="mono">{k.prefix}…</td>
                  <td>{k.kind}</td>
                  <td>
                    <Badge tone="muted">revoked</Badge> {when(k.revokedAt)}
                  </td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </>,
    );
  };

  app.get('/', async (c) => {
    const cookie = flashCookie(c);
    const flash = getCookie(c, cookie.name);
    if (flash === undefined) return page(c);
    // Read once: gone from the browser with this answer.
    deleteCookie(c, cookie.name, { path: PATH, secure: cookie.secure });
    // Only a well-formed, live key of this tenant is shown: a cookie planted by anyone else shows nothing.
    const parsed = parseKey(flash);
    const prefix = flash.slice(0, flash.lastIndexOf('.') + 5);
    const record =
      parsed && parsed.tenantId === keyActorOf(c).tenantId && KEY_PREFIX.test(prefix)
        ? (await deps.keys.list(keyActorOf(c), { prefix })).find((k) => k.prefix === prefix)
        : undefined;
    return record ? page(c, { key: flash, record }) : page(c);
  });

  app.post('/', async (c) => {
    const form = await formOf(c);
    const kind = TenantKeyKind.safeParse(form.kind);
    if (!kind.success) return page(c, undefined, { kind: 'error', text: 'Choose the kind of key.' });
    const minted = await deps.keys.mint(keyActorOf(c), kind.data);
    const cookie = flashCookie(c);
    setCookie(c, cookie.name, minted.key, {
      httpOnly: true,
      secure: cookie.secure,
      sameSite: 'Strict',
      path: PATH,
      maxAge: 60,
    });
    return c.redirect(PATH, 303);
  });

  app.post('/revoke', async (c) => {
    const prefix = (await formOf(c)).prefix ?? '';
    if (!KEY_PREFIX.test(prefix)) return page(c, undefined, { kind: 'error', text: 'There is no such key.' });
    try {
      await deps.keys.revoke(keyActorOf(c), prefix);
    } catch (error) {
      return page(c, undefined, {
        kind: 'error',
        text: domainErrors(error)[''] ?? 'The key was not revoked.',
      });
    }
    return page(c, undefined, { kind: 'ok', text: `${prefix}… is revoked.` });
  });
  return app;
}
