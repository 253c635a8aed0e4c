/** A shipment moves one way, one step at a time: pending → shipped → delivered. */
export const SHIPMENT_STATUSES = ['pending', 'shipped', 'delivered'] as const;
/** The statuses a carrier or the admin may report. */
export const SHIPMENT_UPDATE_STATUSES = ['shipped', 'delivered'] as const;
