import type { Generated } from 'kysely';

// The simulated provider's tables live in a database of their own (pipeline/simulated-gateway.ts);
// openStorage opens it, so the type sits with the other schemas.

export type ChargeState = 'authorized' | 'captured' | 'declined' | 'voided';
export type OperationKind = 'capture' | 'void' | 'refund';

/** The simulated provider's own books: one row per authorization, one per capture, void or refund. */
export interface SimulatedGatewayDatabase {
  simulated_charges: {
    idempotency_key: string;
    /** Authorized. */
    amount_cents: number;
    outcome: ChargeState;
    /** 1 once everything captured was refunded. */
    refunded: Generated<number>;
    captured_cents: Generated<number>;
    refunded_cents: Generated<number>;
    voided_cents: Generated<number>;
    /** Authorize requests received under this key. */
    calls: Generated<number>;
    created_at: number;
  };
  simulated_operations: {
    idempotency_key: string;
    charge_key: string;
    kind: OperationKind;
    amount_cents: number;
    outcome: 'succeeded' | 'failed';
    calls: Generated<number>;
    created_at: number;
  };
}
