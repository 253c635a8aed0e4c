import { useEffect, useMemo, useRef, useState } from 'react';
import { EMPTY_DATA, withError, withSnapshot, type DashboardData } from './dashboard-model.js';
import { buildFrame, type FrameInput, type HistoryItem, type Tab } from './frame.js';
import { FrameView } from './frame-view.js';
import { ink } from './ink.js';
import { StatsPoller, type FetchSnapshot } from './stats-poller.js';

export interface DashboardAppProps {
  fetchSnapshot: FetchSnapshot;
  fetchHistory: (orderId: string) => Promise<HistoryItem[]>;
  intervalMs: number;
  url: string;
  color: boolean;
  /** Called once when the dashboard must end with an error (bad credentials): no retry fixes it. */
  onFatal: (error: { code: string; message: string }) => void;
}

const FATAL = new Set(['UNAUTHORIZED', 'FORBIDDEN']);

/** The live dashboard: polls, redraws within the terminal, and answers keys (read-only). */
export function DashboardApp(props: DashboardAppProps) {
  const { useApp, useInput, useStdout } = ink();
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ width: stdout.columns ?? 80, height: stdout.rows ?? 24 });
  const [data, setData] = useState<DashboardData>(EMPTY_DATA);
  const [now, setNow] = useState(Date.now());
  const [paused, setPaused] = useState(false);
  const [help, setHelp] = useState(false);
  const [tab, setTab] = useState<Tab>('orders');
  const [selected, setSelected] = useState(0);
  const [detail, setDetail] = useState<FrameInput['detail']>(null);
  const poller = useRef<StatsPoller | undefined>(undefined);

  useEffect(() => {
    const onResize = () => setSize({ width: stdout.columns ?? 80, height: stdout.rows ?? 24 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  useEffect(() => {
    const p = new StatsPoller(props.fetchSnapshot, props.intervalMs, (result) => {
      const at = Date.now();
      setNow(at);
      if (result.snapshot) {
        const snapshot = result.snapshot;
        setData((d) => withSnapshot(d, snapshot, at));
      } else if (result.error) {
        if (FATAL.has(result.error.code)) {
          p.stop();
          props.onFatal(result.error);
          exit();
          return;
        }
        const message = result.error.message;
        setData((d) => withError(d, message));
      }
    });
    poller.current = p;
    p.start();
    return () => p.stop();
    // The poller lives as long as the app.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Ages ("updated 3s ago") move on between polls, except when paused: the screen then freezes.
  useEffect(() => {
    if (paused) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [paused]);

  const rows = tab === 'orders' ? (data.snapshot?.orders.recent ?? []) : (data.snapshot?.deadLetters ?? []);
  // The key handler reads the state of the last render from here: Ink may still hold an older handler.
  const current = useRef({ rows, selected, detail, help, paused });
  current.current = { rows, selected, detail, help, paused };

  useInput((input, key) => {
    const { rows, selected, detail, help, paused } = current.current;
    if (input === 'q' || (key.ctrl && input === 'c')) {
      poller.current?.stop();
      exit();
      return;
    }
    if (help) {
      setHelp(false);
      return;
    }
    if (input === '?') return setHelp(true);
    if (input === 'p') {
      const next = !paused;
      setPaused(next);
      poller.current?.setPaused(next);
      if (!next) setNow(Date.now());
      return;
    }
    if (input === 'r') return poller.current?.refresh();
    if (detail) {
      if (key.return || key.escape) setDetail(null);
      return;
    }
    if (key.tab) {
      setTab((x) => (x === 'orders' ? 'dead-letters' : 'orders'));
      setSelected(0);
      return;
    }
    if (key.upArrow) return setSelected((i) => Math.max(0, i - 1));
    if (key.downArrow) return setSelected((i) => Math.min(Math.max(0, rows.length - 1), i + 1));
    if (key.return && rows[selected]) {
      const row = rows[selected]!;
      const orderId = 'orderId' in row ? row.orderId : row.id;
      const reference = 'reference' in row ? row.reference : orderId;
      setDetail({ reference, items: null });
      props.fetchHistory(orderId).then(
        (items) => setDetail((d) => (d && d.reference === reference ? { reference, items } : d)),
        (err: Error) => setDetail((d) => (d && d.reference === reference ? { reference, items: null, error: err.message } : d)),
      );
    }
  });

  const lines = useMemo(
    () => buildFrame({ data, now, width: size.width, height: size.height, url: props.url, paused, help, tab, selected, detail }),
    [data, now, size, props.url, paused, help, tab, selected, detail],
  );
  return <FrameView lines={lines} color={props.color} />;
}
