import type { PageLoad } from './$types';

export const load = (() => ({ version: '0.1.0' })) satisfies PageLoad;
