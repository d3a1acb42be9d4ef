/**
 * OATH tokens on the admin API, mounted at `/v1`: `/tokens` (inventory, PSKC import) and
 * `/users/{username}/tokens/…` (app enrolment, confirmation, assignment by serial, revocation, HOTP resync).
 * The tenant is always the admin key's, so no route can name another tenant's token.
 */
import { Hono } from 'hono';
import {
  PSKC_MAX_BYTES,
  PSKC_MAX_KEYS,
  TOKEN_ID_PATTERN,
  TokenAssignRequest,
  TokenConfirmRequest,
  TokenListQuery,
  TokenResyncRequest,
  TotpEnrolRequest,
  TRANSPORT_KEY_HEADER,
} from '../contracts/tokens.ts';
import { InvalidRequestError, NotFoundError } from '../core/errors.ts';
import { PskcError } from '../core/pskc.ts';
import type { TokenService } from '../core/tokens.ts';
import { readCapped, readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

const USERNAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}$/u;
const XML_TYPES = /^(application\/pskc\+xml|application\/xml|text\/xml)\b/i;

export function tokenRoutes(tokens: TokenService) {
  const router = new Hono<KeyAuthEnv>();
  const user = (raw: string) => {
    if (!USERNAME.test(raw)) throw new NotFoundError('The user');
    return raw;
  };
  const tokenId = (raw: string) => {
    if (!TOKEN_ID_PATTERN.test(raw)) throw new NotFoundError('The token');
    return raw;
  };

  router.get('/tokens', async (c) => {
    const query = TokenListQuery.safeParse(c.req.query());
    if (!query.success) throw new InvalidRequestError(query.error.issues[0]?.message ?? 'Bad query.');
    const limit = query.data.limit === undefined ? 50 : Number(query.data.limit);
    if (limit < 1 || limit > 200)
      throw new InvalidRequestError('limit: must be a whole number from 1 to 200');
    return c.json(
      await tokens.list(tenantOf(c), {
        limit,
        ...(query.data.state && { state: query.data.state }),
        ...(query.data.cursor && { cursor: query.data.cursor }),
      }),
      200,
    );
  });

  router.post('/tokens/import', async (c) => {
    if (!XML_TYPES.test(c.req.header('content-type') ?? ''))
      throw new InvalidRequestError('The body must be a PSKC document (Content-Type: application/pskc+xml).');
    const bytes = await readCapped(c, PSKC_MAX_BYTES);
    let xml: string;
    try {
      xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new PskcError('invalid_pskc', 'The document is not UTF-8.');
    }
    const transportKeyHex = c.req.header(TRANSPORT_KEY_HEADER);
    const result = await tokens.importPskc(tenantOf(c), actorOf(c), xml, {
      maxKeys: PSKC_MAX_KEYS,
      ...(transportKeyHex !== undefined && { transportKeyHex }),
    });
    return c.json(result, 201);
  });

  router.get('/users/:username/tokens', async (c) =>
    c.json(await tokens.listOfUser(tenantOf(c), user(c.req.param('username'))), 200),
  );

  router.post('/users/:username/tokens', async (c) => {
    const body = await readJson(c, TokenAssignRequest);
    return c.json(
      await tokens.assign(tenantOf(c), actorOf(c), user(c.req.param('username')), body.serial),
      200,
    );
  });

  router.post('/users/:username/tokens/totp', async (c) => {
    const body = await readJson(c, TotpEnrolRequest);
    const enrolled = await tokens.enrolApp(tenantOf(c), actorOf(c), user(c.req.param('username')), body);
    // The reply holds the seed, shown this once: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json(enrolled, 201);
  });

  router.post('/users/:username/tokens/:tokenId/confirm', async (c) => {
    const body = await readJson(c, TokenConfirmRequest);
    return c.json(
      await tokens.confirm(
        tenantOf(c),
        actorOf(c),
        user(c.req.param('username')),
        tokenId(c.req.param('tokenId')),
        body.code,
      ),
      200,
    );
  });

  router.post('/users/:username/tokens/:tokenId/resync', async (c) => {
    const body = await readJson(c, TokenResyncRequest);
    return c.json(
      await tokens.resync(
        tenantOf(c),
        actorOf(c),
        user(c.req.param('username')),
        tokenId(c.req.param('tokenId')),
        body.code1,
        body.code2,
      ),
      200,
    );
  });

  router.delete('/users/:username/tokens/:tokenId', async (c) => {
    await tokens.revoke(
      tenantOf(c),
      actorOf(c),
      user(c.req.param('username')),
      tokenId(c.req.param('tokenId')),
    );
    return c.body(null, 204);
  });

  return router;
}
