/**
 * `GET /v1/openapi.json`: public, no key. Built once per warm function from the contract schemas and the route
 * table. Served by the admin function, so the auth function's bundle carries neither the generator nor the
 * sync and admin schemas.
 */
import type { Handler } from 'hono';
import { openApiDocument } from '../contracts/openapi.ts';
import { HTTP_ROUTES } from '../contracts/routes.ts';

let document: ReturnType<typeof openApiDocument> | undefined;

export const openApiHandler: Handler = (c) => {
  document ??= openApiDocument(HTTP_ROUTES);
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(document, 200);
};
