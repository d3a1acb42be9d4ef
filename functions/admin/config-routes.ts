/**
 * Routers for a tenant's configuration objects. Modem groups and providers are named by the admin (the name
 * travels to agents and dispatch); policies get generated ids.
 */
import { Hono } from 'hono';
import type * as z from 'zod';
import {
  GroupPolicyInput,
  IntegrationPolicyInput,
  LoadBalancingPolicyInput,
  ModemGroupInput,
  ModemGroupUpdate,
  ProviderInput,
  ProviderUpdate,
} from '../contracts/admin.ts';
import { ID_PATTERN } from '../contracts/topics.ts';
import { NotFoundError } from '../core/errors.ts';
import type { ConfigKind, ConfigKinds } from '../core/ports/tenant-config.ts';
import { type TenantConfigService, viewOf } from '../core/tenant-config.ts';
import { readJson } from '../http/json-body.ts';
import type { KeyAuthEnv } from '../http/key-auth.ts';
import { actorOf, tenantOf } from '../http/principal.ts';

const LABEL: Record<ConfigKind, string> = {
  modemGroup: 'The modem group',
  provider: 'The provider',
  loadBalancing: 'The load-balancing policy',
  group: 'The user group policy',
  integration: 'The user integration policy',
};

function configRouter<K extends ConfigKind>(
  service: TenantConfigService,
  kind: K,
  schemas: { create: z.ZodType; update: z.ZodType; named: boolean },
) {
  const router = new Hono<KeyAuthEnv>();
  const idOf = (id: string) => {
    if (!ID_PATTERN.test(id)) throw new NotFoundError(LABEL[kind]);
    return id;
  };
  const show = (value: ConfigKinds[K]) => viewOf(kind, value);

  router.get('/', async (c) => {
    const items = await service.list(tenantOf(c), kind);
    return c.json({ items: items.map(show) }, 200);
  });
  router.post('/', async (c) => {
    const body = (await readJson(c, schemas.create)) as Record<string, unknown>;
    const id = schemas.named ? String(body.name) : undefined;
    const created = await service.create(tenantOf(c), actorOf(c), kind, body as never, id);
    return c.json(show(created), 201);
  });
  router.get('/:id', async (c) =>
    c.json(show(await service.get(tenantOf(c), kind, idOf(c.req.param('id')))), 200),
  );
  router.put('/:id', async (c) => {
    const id = idOf(c.req.param('id'));
    const body = (await readJson(c, schemas.update)) as Partial<ConfigKinds[K]>;
    return c.json(show(await service.replace(tenantOf(c), actorOf(c), kind, id, body)), 200);
  });
  router.delete('/:id', async (c) => {
    await service.remove(tenantOf(c), actorOf(c), kind, idOf(c.req.param('id')));
    return c.body(null, 204);
  });
  return router;
}

export function configRoutes(service: TenantConfigService) {
  return {
    modemGroups: configRouter(service, 'modemGroup', {
      create: ModemGroupInput,
      update: ModemGroupUpdate,
      named: true,
    }),
    providers: configRouter(service, 'provider', {
      create: ProviderInput,
      update: ProviderUpdate,
      named: true,
    }),
    loadBalancing: configRouter(service, 'loadBalancing', {
      create: LoadBalancingPolicyInput,
      update: LoadBalancingPolicyInput,
      named: false,
    }),
    groups: configRouter(service, 'group', {
      create: GroupPolicyInput,
      update: GroupPolicyInput,
      named: false,
    }),
    integration: configRouter(service, 'integration', {
      create: IntegrationPolicyInput,
      update: IntegrationPolicyInput,
      named: false,
    }),
  };
}
