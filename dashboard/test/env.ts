export const env = process.env as Record<string, string | undefined>;
