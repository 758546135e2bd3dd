/**
 * Links to owner pages. Owners are written as CODEOWNERS writes them (`@team-x`, `@group/sub`,
 * `jane@example.com`); a group's slash stays a slash in the URL, so each part is encoded alone.
 */
export function ownerHref(slug: string, owner: string): string {
	return `/projects/${encodeURIComponent(slug)}/owners/${owner.split('/').map(encodeURIComponent).join('/')}`;
}
