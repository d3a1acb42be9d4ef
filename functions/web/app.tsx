/**
 * The `web` function: server-rendered pages (hono JSX) for the admin console (`/admin…`) and the self-service
 * portal (`/portal…`), and their bundled scripts and styles (`/assets/<name>.<hash>.<ext>`, cached for ever
 * since a change makes a new name). Each section is its own hono app, mounted here.
 */
import { Hono } from 'hono';
import { DomainError } from '../core/errors.ts';
import type { Logger } from '../core/ports/log.ts';
import { STATUS_OF } from '../http/errors.ts';
import { assetByFile, loadAssets } from './assets.ts';
import { ErrorPage } from './error-page.tsx';
import { CsrfError } from './session-http.ts';

/** A section's hono app, whatever its own context variables. */
// biome-ignore lint/suspicious/noExplicitAny: each section types its own context; here it is only mounted
type SectionApp = Hono<any>;

export interface WebAppDeps {
  /** The admin console (web/admin/app.tsx). */
  admin?: SectionApp;
  /** The self-service portal (web/portal/). */
  portal?: SectionApp;
  log: Logger;
}

/**
 * Pages load only this origin's files (no inline script or style), are never framed, and post only here.
 * The QR codes are inline SVG, hence `img-src data:` is not needed.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function createWebApp(deps: WebAppDeps) {
  const app = new Hono();

  app.use('*', async (c, next) => {
    await loadAssets();
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith('/assets/')) {
      c.header('Content-Security-Policy', CSP);
      // Pages show tenant data: no shared cache keeps them, and Back after sign-out asks the server again.
      c.header('Cache-Control', 'no-store');
    }
  });

  app.get('/assets/:file', (c) => {
    const asset = assetByFile(c.req.param('file'));
    if (!asset) return c.text('Not found', 404);
    c.header('Content-Type', asset.contentType);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(asset.body, 200);
  });

  if (deps.admin) app.route('/admin', deps.admin);
  if (deps.portal) app.route('/portal', deps.portal);

  app.notFound((c) => c.html(<ErrorPage status={404} message="There is no such page." />, 404));
  app.onError((error, c) => {
    if (error instanceof CsrfError)
      return c.html(
        <ErrorPage
          status={403}
          message="This form has expired or did not come from this site. Go back, reload the page and try again."
        />,
        403,
      );
    if (error instanceof DomainError && error.code === 'not_found')
      return c.html(<ErrorPage status={404} message="There is no such page." />, 404);
    if (error instanceof DomainError) {
      const status = STATUS_OF[error.code];
      return c.html(<ErrorPage status={status} message={error.message} />, status);
    }
    deps.log.error('unhandled error', { error, path: c.req.path, method: c.req.method });
    return c.html(<ErrorPage status={500} message="Something went wrong on our side." />, 500);
  });
  return app;
}
