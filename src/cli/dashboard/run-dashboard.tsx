import type { StatsSnapshot } from '../../core/stats/snapshot-types.js';
import { CliError } from '../cli-error.js';
import type { ApiClient } from '../http-client.js';
import { printJson, printLine, useColor } from '../output.js';
import { DashboardApp } from './dashboard-app.js';
import { withSnapshot, EMPTY_DATA } from './dashboard-model.js';
import { buildFrame, frameText, type HistoryItem } from './frame.js';
import { loadInk } from './ink.js';

export interface DashboardOptions {
  client: ApiClient;
  intervalMs: number;
  once: boolean;
  json: boolean;
}

/**
 * `buildflow dashboard`: live in a terminal; one plain snapshot (or JSON) for a pipe, --once or
 * --json. Failures of a one-shot fetch are thrown as CliErrors (unreachable: 5, credentials: 7);
 * the live view keeps retrying an unreachable server and ends only on bad credentials.
 */
export async function runDashboard(o: DashboardOptions): Promise<void> {
  const fetchSnapshot = () => o.client.get<StatsSnapshot>('/v1/admin/stats');
  if (o.json || o.once || !process.stdout.isTTY || !process.stdin.isTTY) {
    const snapshot = await fetchSnapshot();
    if (o.json) return printJson(snapshot);
    const data = withSnapshot(EMPTY_DATA, snapshot, Date.now());
    // A pipe has no width: wide enough that lines are not cut.
    const width = Math.max(100, process.stdout.columns ?? 160);
    printLine(frameText(buildFrame({ data, now: Date.now(), width, height: Number.POSITIVE_INFINITY, url: o.client.baseUrl, plain: true })));
    return;
  }

  const { render } = await loadInk();
  let fatal: { code: string; message: string } | undefined;
  const app = render(
    <DashboardApp
      fetchSnapshot={fetchSnapshot}
      fetchHistory={async (id) => (await o.client.get<{ items: HistoryItem[] }>(`/v1/orders/${encodeURIComponent(id)}/history`)).items}
      intervalMs={o.intervalMs}
      url={o.client.baseUrl}
      color={useColor()}
      onFatal={(e) => (fatal = e)}
      setStepPaused={async (step, pause) => void (await o.client.post(`/v1/admin/pipeline/${encodeURIComponent(step)}/${pause ? 'pause' : 'resume'}`, pause ? { reason: 'from the dashboard' } : {}))}
    />,
    { exitOnCtrlC: false },
  );
  await app.waitUntilExit();
  if (fatal) throw new CliError(fatal.code, fatal.message);
}
