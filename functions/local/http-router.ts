/**
 * One local HTTP server for every API, routed exactly as API Gateway routes them: by the route table in
 * functions/contracts/routes.ts, the one the CDK stack deploys, to the function's hono app.
 */
import { type FunctionName, HTTP_ROUTES } from '../contracts/routes.ts';

export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

const compiled = HTTP_ROUTES.map((route) => ({
  ...route,
  // `{proxy+}` is API Gateway's greedy parameter: one or more whole segments.
  pattern: new RegExp(`^${route.path.replace(/\{[^}]+\+\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

export function routeByFunction(apps: Partial<Record<FunctionName, FetchApp>>) {
  return (request: Request): Response | Promise<Response> => {
    const path = new URL(request.url).pathname;
    const route = compiled.find((r) => r.method === request.method && r.pattern.test(path));
    const app = route ? apps[route.fn] : apps.auth;
    // Unlisted paths go to the auth app (which 404s them), so a route added to an app before the table still
    // works locally; test/functions/routes.test.ts keeps the table and the apps in step.
    if (app) return app.fetch(request);
    return Response.json({ error: { code: 'not_found', message: 'No such route.' } }, { status: 404 });
  };
}
