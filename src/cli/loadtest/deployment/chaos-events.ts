/** One chaos action and when the deployment was whole again. */
export interface ChaosEvent {
  kind: 'worker-kill' | 'server-kill' | 'redis-flush';
  /** When it was done, ms since the epoch. */
  at: number;
  /** When the killed process's replacement was ready (the action itself for a flush). */
  recoveredAt?: number;
  detail: string;
}
