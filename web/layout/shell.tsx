/**
 * The page shell every console and portal page shares: head (one stylesheet, one deferred script), a skip
 * link, the header with who is signed in and a sign-out form, the section's navigation, and the main area.
 * Server-rendered; the page works without its script, which only adds conveniences.
 */
import type { Child } from 'hono/jsx';
import type { AssetName } from '../../functions/web/asset-entries.ts';
import { assetUrl } from '../../functions/web/assets.ts';
import { CSRF_FIELD } from '../../functions/web/session-http.ts';

export interface NavItem {
  href: string;
  label: string;
}

export interface ShellProps {
  title: string;
  /** The product area in the header, e.g. "Admin console". */
  area: string;
  /** Where the brand links to. */
  home: string;
  nav?: NavItem[];
  /** The path of the current page, to mark its nav item. */
  current?: string;
  /** Who is signed in, shown with a sign-out button (posted with the CSRF token). */
  user?: { label: string; signOutAction: string; csrf: string };
  /** The page's script (default `console.js`); none for pages that need none. */
  script?: AssetName | null;
  children?: Child;
}

export function Shell(props: ShellProps) {
  const script = props.script === undefined ? 'console.js' : props.script;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · SMS Passcode`}</title>
        <link rel="stylesheet" href={assetUrl('styles.css')} />
        {script && <script src={assetUrl(script)} defer />}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={props.home}>
            SMS Passcode <span class="area">{props.area}</span>
          </a>
          {props.user && (
            <form class="signout" method="post" action={props.user.signOutAction}>
              <input type="hidden" name={CSRF_FIELD} value={props.user.csrf} />
              <span class="who">{props.user.label}</span>
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          )}
        </header>
        <div class={props.nav ? 'frame' : 'frame single'}>
          {props.nav && (
            <nav aria-label="Sections" class="side">
              <ul>
                {props.nav.map((item) => (
                  <li>
                    <a
                      href={item.href}
                      aria-current={currentOf(props.nav!, props.current) === item.href ? 'page' : undefined}
                    >
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <main id="main" tabindex={-1}>
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </div>
      </body>
    </html>
  );
}

function isCurrent(href: string, current: string | undefined): boolean {
  if (!current) return false;
  return current === href || current.startsWith(`${href}/`);
}

/** The most specific item the path is under: `/admin/operator/agents` is Agents, not also Tenants. */
function currentOf(nav: NavItem[], current: string | undefined): string | undefined {
  const under = nav.filter((item) => isCurrent(item.href, current));
  return under.sort((a, b) => b.href.length - a.href.length)[0]?.href;
}
