/** The same hono app answers the same way through app.request() and through the Lambda adapter. */
import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudFixture, jsonRequest, startCloud } from '../support/cloud.ts';
import { httpApiEvent } from '../support/lambda-event.ts';

let cloud: CloudFixture;
beforeAll(async () => {
  cloud = await startCloud();
});
afterAll(async () => cloud?.close());

const lambdaContext = {} as Context;

describe('the auth app behind API Gateway', () => {
  const handler = () => handle(cloud.app);

  it('creates a challenge through the Lambda adapter with the same reply shape as app.request()', async () => {
    const body = JSON.stringify({ username: 'alice' });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${cloud.seed.keys.auth}` };
    const viaLambda = await handler()(httpApiEvent('POST', '/v1/challenges', body, headers), lambdaContext);
    const viaRequest = await cloud.app.request(
      '/v1/challenges',
      jsonRequest({ username: 'alice' }, cloud.seed.keys.auth),
    );
    expect(viaLambda.statusCode).toBe(201);
    expect(viaRequest.status).toBe(201);
    const a = JSON.parse(viaLambda.body) as Record<string, unknown>;
    const b = (await viaRequest.json()) as Record<string, unknown>;
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect(a.destination).toBe(b.destination);
    expect(viaLambda.headers?.['content-type']).toMatch(/application\/json/);
  });

  it('gives the same error for the same bad request both ways', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${cloud.seed.keys.auth}` };
    const viaLambda = await handler()(
      httpApiEvent('POST', '/v1/challenges', '{"username":', headers),
      lambdaContext,
    );
    const viaRequest = await cloud.app.request(
      '/v1/challenges',
      jsonRequest('{"username":', cloud.seed.keys.auth),
    );
    expect(viaLambda.statusCode).toBe(viaRequest.status);
    expect(JSON.parse(viaLambda.body)).toEqual(await viaRequest.json());
  });

  it('refuses a missing key the same way both ways', async () => {
    const viaLambda = await handler()(
      httpApiEvent('GET', '/v1/challenges/AAAAAAAAAAAAAAAAAAAAAA', undefined, {}),
      lambdaContext,
    );
    const viaRequest = await cloud.app.request('/v1/challenges/AAAAAAAAAAAAAAAAAAAAAA');
    expect(viaLambda.statusCode).toBe(401);
    expect(JSON.parse(viaLambda.body)).toEqual(await viaRequest.json());
  });
});
