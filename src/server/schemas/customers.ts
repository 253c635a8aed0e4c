import { Type, type Static } from '@sinclair/typebox';
import type { CustomerView } from '../../core/customers/customers.js';
import type { TrackingView } from '../../core/shipments/shipments.js';
import { SHIPMENT_STATUSES, SHIPMENT_UPDATE_STATUSES } from '../../core/shipments/shipments.js';
import { StrictObject, StringEnum, type SameShape } from './common.js';

const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'Compared without case' });
// OWASP: at least 8 characters, long passphrases allowed, no composition rules.
const Password = Type.String({ minLength: 8, maxLength: 256 });

export const SignUpBody = StrictObject({ email: Email, name: Type.String({ minLength: 1, maxLength: 200 }), password: Password });
export const SignInBody = StrictObject({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) });

export const CustomerViewSchema = StrictObject({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
true satisfies SameShape<Static<typeof CustomerViewSchema>, CustomerView>;

export const CustomerIdParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const TokenResponse = StrictObject({
  token: Type.String({ description: 'Send as Authorization: Bearer <token>' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const TrackingParams = StrictObject({ code: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9]+$' }) });
export const ShipmentParams = StrictObject({ trackingCode: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9]+$' }) });

export const ShipmentUpdateBody = StrictObject({ status: StringEnum(SHIPMENT_UPDATE_STATUSES) });

export const ShipmentUpdateAcceptedSchema = StrictObject({
  trackingCode: Type.String(),
  status: StringEnum(SHIPMENT_STATUSES, { description: 'Current status; the update is applied shortly by a worker' }),
  requestedStatus: StringEnum(SHIPMENT_UPDATE_STATUSES),
});

export const TrackingViewSchema = StrictObject({
  trackingCode: Type.String(),
  status: StringEnum(SHIPMENT_STATUSES),
  history: Type.Array(StrictObject({ status: StringEnum(SHIPMENT_STATUSES), at: Type.String({ format: 'date-time' }) })),
});
true satisfies SameShape<Static<typeof TrackingViewSchema>, TrackingView>;
