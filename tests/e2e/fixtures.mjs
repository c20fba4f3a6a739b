// Ids of the seeded data, shared by the seed and the spec.
export const TENANT = 'acme';
export const AGENT = '0196f3a0-0000-7000-8000-00000000a001';
export const SAGA_PARKED = '0196f3a0-0000-7000-8000-0000000005a1';
export const SAGA_RUNNING = '0196f3a0-0000-7000-8000-0000000005a2';
export const SAGA_COMPLETED = '0196f3a0-0000-7000-8000-0000000005a3';
export const SAGA_OTHER_TENANT = '0196f3a0-0000-7000-8000-0000000005b1';
export const PARKED_OUTBOX_ID = 41;
