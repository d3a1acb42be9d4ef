/**
 * AD sync: the last runs with their counts, and one run's rejected users with the reason in words. Read
 * through the sync history service that answers `GET /v1/sync/runs[/{runId}]`.
 */
import { Hono } from 'hono';
import { RUN_ID } from '../../functions/contracts/sync.ts';
import type { RunSummary } from '../../functions/core/ports/sync-history.ts';
import type { SyncHistoryService } from '../../functions/core/sync-history.ts';
import { Badge, Empty, NextPage, Table } from '../layout/components.tsx';
import { type ConsoleEnv, tenantOf } from './context.ts';
import { consolePage } from './page.tsx';
import { when } from './paging.ts';

export interface SyncRunPagesDeps {
  syncHistory?: SyncHistoryService | undefined;
}

const PAGE = 20;

/** What each rejection means for the admin, and what fixes it. */
const REASON: Record<string, string> = {
  user_limit_reached: "The tenant's user limit is reached: the operator can raise it.",
  invalid_phone: 'The mobile number in AD is not a valid number (for the default country).',
  invalid_email: 'The e-mail address in AD is not a valid address.',
  username_conflict: 'Another AD user has the same username in this tenant.',
  duplicate_in_batch: 'The same user came twice in one batch (same AD id, or same name).',
  no_matching_group: 'The tenant maps AD groups to policies, and the user is in none of them.',
  invalid_username: "The username format cannot form this user's name.",
  temporarily_unavailable: 'The service was busy; the next run tries again.',
};

function StatusBadge(props: { run: RunSummary }) {
  const { status } = props.run;
  if (status === 'completed') return <Badge tone="ok">completed</Badge>;
  if (status === 'completing') return <Badge tone="warn">removing users</Badge>;
  return <Badge tone="muted">open</Badge>;
}

const runHref = (runId: string) => `/admin/sync-runs/${encodeURIComponent(runId)}`;

export function syncRunPages(deps: SyncRunPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  app.get('/', async (c) => {
    const history = deps.syncHistory;
    if (!history) return c.notFound();
    const raw = c.req.query('cursor');
    const cursor = raw && RUN_ID.test(raw) ? raw : undefined;
    const page = await history.list(tenantOf(c), PAGE, cursor);
    return consolePage(
      c,
      'AD sync',
      <>
        <p>
          The edge agent's AD connector sends the users of the mapped AD groups in runs. Each run's counts,
          newest first; open a run for the users it rejected and why.
        </p>
        {page.runs.length === 0 ? (
          <Empty>
            {cursor
              ? 'No older runs.'
              : 'No sync runs yet. They appear once an edge agent with an AD section syncs.'}
          </Empty>
        ) : (
          <Table
            caption="Sync runs, newest first"
            head={['Started', 'Mode', 'Status', 'Created', 'Updated', 'Removed', 'Rejected']}
          >
            {page.runs.map((run) => (
              <tr>
                <td>
                  <a href={runHref(run.runId)}>{when(run.createdAt)}</a>
                </td>
                <td>{run.mode}</td>
                <td>
                  <StatusBadge run={run} />
                </td>
                <td>{run.result?.created ?? '—'}</td>
                <td>{run.result?.updated ?? '—'}</td>
                <td>{run.result?.removed ?? '—'}</td>
                <td>
                  {run.result ? (
                    run.result.rejected > 0 ? (
                      <Badge tone="warn">{run.result.rejected}</Badge>
                    ) : (
                      0
                    )
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
        <NextPage href={page.cursor && `/admin/sync-runs?cursor=${encodeURIComponent(page.cursor)}`} />
      </>,
    );
  });

  app.get('/:runId', async (c) => {
    const history = deps.syncHistory;
    const runId = c.req.param('runId');
    if (!history || !RUN_ID.test(runId)) return c.notFound();
    const run = await history.show(tenantOf(c), runId);
    return consolePage(
      c,
      `Sync run of ${when(run.createdAt)}`,
      <>
        <dl class="facts">
          <dt>Run</dt>
          <dd>
            <code>{run.runId}</code>
          </dd>
          <dt>Mode</dt>
          <dd>{run.mode === 'delta' ? 'delta (changes since the last run)' : 'full (every user)'}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge run={run} />
          </dd>
          <dt>Started</dt>
          <dd>{when(run.createdAt)}</dd>
          <dt>Completed</dt>
          <dd>{when(run.completedAt)}</dd>
          {run.result && (
            <>
              <dt>Users</dt>
              <dd>
                {run.result.created} created, {run.result.updated} updated, {run.result.removed} removed,{' '}
                {run.result.rejected} rejected
              </dd>
            </>
          )}
        </dl>
        <h2 id="h-rejected">Rejected users</h2>
        {run.rejections.length === 0 ? (
          <Empty>This run rejected no user.</Empty>
        ) : (
          <>
            <Table
              caption="Rejected users and why"
              head={['Username', 'AD object id', 'Reason', 'What it means']}
            >
              {run.rejections.map((r) => (
                <tr>
                  <td>{r.username || '—'}</td>
                  <td class="mono">{r.id}</td>
                  <td>
                    <code>{r.reason}</code>
                  </td>
                  <td>{REASON[r.reason] ?? '—'}</td>
                </tr>
              ))}
            </Table>
            {run.rejectionsTruncated && (
              <p class="hint">
                Only the newest {run.rejections.length} rejections are listed; the count above is exact.
              </p>
            )}
          </>
        )}
        <p>
          <a href="/admin/sync-runs">Back to sync runs</a>
        </p>
      </>,
    );
  });
  return app;
}
