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
  /** Pauses (true) or resumes a pipeline step for the whole deployment (admin). */
  setStepPaused: (step: string, pause: boolean) => Promise<void>;
}

const STEPS = ['reserve', 'pay', 'confirm'] as const;

/** The step pause key's dialogue: which step, then a confirmation; then what came of it. */
type StepPrompt = { stage: 'which' } | { stage: 'confirm'; step: string; pause: boolean } | { stage: 'said'; text: string } | null;

function promptText(p: StepPrompt): string | null {
  if (!p) return null;
  if (p.stage === 'which') return `which step? ${STEPS.map((s, i) => `${i + 1} ${s}`).join(' · ')} · Esc`;
  if (p.stage === 'confirm') return `${p.pause ? 'pause' : 'resume'} ${p.step} for every worker? y/N`;
  return p.text;
}

const FATAL = new Set(['UNAUTHORIZED', 'FORBIDDEN']);

/** The live dashboard: polls, redraws within the terminal, and answers keys (read-only but for the step pause key, which asks first). */
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
  const [stepPrompt, setStepPrompt] = useState<StepPrompt>(null);
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
  const current = useRef({ rows, selected, detail, help, paused, stepPrompt, data });
  current.current = { rows, selected, detail, help, paused, stepPrompt, data };

  useInput((input, key) => {
    const { rows, selected, detail, help, paused, stepPrompt, data } = current.current;
    if (key.ctrl && input === 'c') {
      poller.current?.stop();
      exit();
      return;
    }
    if (stepPrompt?.stage === 'which') {
      const step = STEPS[Number(input) - 1];
      if (!step) return setStepPrompt(null);
      const isPaused = Boolean(data.snapshot?.topics.find((x) => x.topic === step)?.paused);
      return setStepPrompt({ stage: 'confirm', step, pause: !isPaused });
    }
    if (stepPrompt?.stage === 'confirm') {
      if (input !== 'y') return setStepPrompt(null);
      const { step, pause } = stepPrompt;
      setStepPrompt({ stage: 'said', text: `${pause ? 'pausing' : 'resuming'} ${step}…` });
      props.setStepPaused(step, pause).then(
        () => {
          setStepPrompt({ stage: 'said', text: `${step} ${pause ? 'paused (every worker within 2 s)' : 'resumed'}` });
          poller.current?.refresh();
        },
        (err: Error) => setStepPrompt({ stage: 'said', text: `${step} not ${pause ? 'paused' : 'resumed'}: ${err.message}` }),
      );
      return;
    }
    if (stepPrompt?.stage === 'said') setStepPrompt(null);
    if (input === 'q') {
      poller.current?.stop();
      exit();
      return;
    }
    if (input === 's' && !help) return setStepPrompt({ stage: 'which' });
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
    () => buildFrame({ data, now, width: size.width, height: size.height, url: props.url, paused, help, tab, selected, detail, prompt: promptText(stepPrompt) }),
    [data, now, size, props.url, paused, help, tab, selected, detail, stepPrompt],
  );
  return <FrameView lines={lines} color={props.color} />;
}
