export * from './primitives.ts';
export * from './catalogue.ts';
export * from './roles.ts';
export * from './errors.ts';
export * from './mission.ts';
export * from './events.ts';
export * from './http.ts';
export * from './client-events.ts';
