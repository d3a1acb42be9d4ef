/**
 * Edge agents on the admin API (`/v1/agents`, admin key: register, list, show, rename, delete, re-enrol) and the one
 * route an agent calls with its enrolment token instead of a key (`POST /v1/enrolments`).
 */
import { Hono } from 'hono';
import { AgentCreateRequest, AgentPatchRequest, EnrolRequest } from '../contracts/agents.ts';
import { ID_PATTERN } from '../contracts/topics.ts';
import type { AgentService } from '../core/agents.ts';
import { NotFoundError } from '../core/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';

const agentIdOf = (id: string) => {
  if (!ID_PATTERN.test(id)) throw new NotFoundError(`Agent "${id.slice(0, 64)}"`);
  return id;
};

export function agentRoutes(agents: AgentService) {
  const app = new Hono<KeyAuthEnv>();

  app.post('/', async (c) => {
    const body = await readJson(c, AgentCreateRequest);
    // The reply holds the enrolment token, shown this once.
    c.header('Cache-Control', 'no-store');
    return c.json(await agents.register(c.get('principal'), body), 201);
  });
  app.get('/', async (c) => c.json({ agents: await agents.list(c.get('principal')) }, 200));
  app.get('/:id', async (c) =>
    c.json(await agents.show(c.get('principal'), agentIdOf(c.req.param('id'))), 200),
  );
  app.patch('/:id', async (c) => {
    const id = agentIdOf(c.req.param('id'));
    const body = await readJson(c, AgentPatchRequest);
    return c.json(await agents.update(c.get('principal'), id, body), 200);
  });
  // A new enrolment token for a replaced box; the agent's current certificate is revoked.
  app.post('/:id/enrolment', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await agents.reissue(c.get('principal'), agentIdOf(c.req.param('id'))), 201);
  });
  app.delete('/:id', async (c) =>
    c.json(await agents.remove(c.get('principal'), agentIdOf(c.req.param('id'))), 200),
  );
  return app;
}

/** No API key: the one-time token in the body is the credential. */
export function enrolmentRoutes(agents: AgentService) {
  const app = new Hono();
  app.post('/', async (c) => {
    const body = await readJson(c, EnrolRequest);
    c.header('Cache-Control', 'no-store');
    return c.json(await agents.enrol(body.token, body.csr), 201);
  });
  return app;
}
